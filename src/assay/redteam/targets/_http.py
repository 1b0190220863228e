"""A generic HTTP endpoint as a target: templated JSON body, reply path, cookies, SSE."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from assay.errors import AssayError
from assay.redteam.targets._base import (
    Capabilities,
    Message,
    Response,
    Session,
    Target,
    TargetError,
    raise_for_answer,
    with_system,
)
from assay.redteam.targets._wire import expand_env, extract_path, render_template
from assay.sse import events


@dataclass
class HTTPConfig:
    """How to talk to an arbitrary HTTP chat app.

    ``body`` is a JSON template: ``{{prompt}}`` (last user message),
    ``{{messages}}`` (the whole conversation as a list), ``{{system}}``,
    ``{{session}}`` (the id captured by ``session_path`` from an earlier reply).
    With ``stateful`` the app keeps the history, so only the last message is
    sent each turn and cookies plus the session id carry over.
    """

    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = field(default_factory=lambda: {"message": "{{prompt}}"})
    reply_path: str = "$.reply"
    session_path: str | None = None
    stateful: bool = False
    sse: bool = False
    sse_path: str | None = None
    timeout: float = 60.0

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "target") -> HTTPConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known - {"kind", "system_prompt", "secrets", "name"}
        if unknown:
            raise AssayError(f"{where}: unknown HTTP target fields: {', '.join(sorted(unknown))}")
        if not isinstance(data.get("url"), str):
            raise AssayError(f"{where}: 'url' is required")
        return cls(**{k: v for k, v in data.items() if k in known})


class _HTTPSession(Session):
    def __init__(self, target: HTTPTarget) -> None:
        self._target = target
        cfg = target.cfg
        headers = {k: expand_env(v) for k, v in cfg.headers.items()}
        self._client = httpx.AsyncClient(
            headers=headers, timeout=cfg.timeout, transport=target.transport
        )
        self._session_id: str | None = None

    async def send(self, conversation: list[Message]) -> Response:
        cfg = self._target.cfg
        users = [m["content"] for m in conversation if m.get("role") == "user"]
        values: dict[str, Any] = {
            "prompt": users[-1] if users else "",
            "messages": with_system(conversation, self._target.system_prompt),
            "system": self._target.system_prompt or "",
            "session": self._session_id,
        }
        body = render_template(cfg.body, values)
        start = time.perf_counter()
        try:
            resp = await self._client.request(cfg.method, cfg.url, json=body)
        except httpx.HTTPError as exc:
            raise TargetError(f"{cfg.url}: request failed: {exc}") from exc
        latency = (time.perf_counter() - start) * 1000
        raise_for_answer(resp.status_code, resp.text, cfg.url)
        if cfg.sse or resp.headers.get("content-type", "").startswith("text/event-stream"):
            parts: list[str] = []
            for event in events(resp.text.splitlines()):
                if event.strip() == "[DONE]":
                    break
                if cfg.sse_path:
                    try:
                        parts.append(str(extract_path(json.loads(event), cfg.sse_path) or ""))
                    except ValueError as exc:
                        raise TargetError(
                            f"{cfg.url}: SSE event is not JSON: {event[:80]}"
                        ) from exc
                else:
                    parts.append(event)
            return Response("".join(parts), latency)
        try:
            data = resp.json()
        except ValueError as exc:
            raise TargetError(f"{cfg.url}: reply is not JSON: {resp.text[:200]}") from exc
        if cfg.session_path and self._session_id is None:
            found = extract_path(data, cfg.session_path)
            self._session_id = None if found is None else str(found)
        reply = extract_path(data, cfg.reply_path)
        return Response(reply if isinstance(reply, str) else json.dumps(reply), latency)

    async def aclose(self) -> None:
        await self._client.aclose()


class HTTPTarget(Target):
    """Any JSON-over-HTTP chat app, described by an :class:`HTTPConfig`."""

    def __init__(
        self,
        cfg: HTTPConfig,
        *,
        name: str | None = None,
        system_prompt: str | None = None,
        secrets: Sequence[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.cfg = cfg
        self.name = name or f"http:{cfg.url}"
        self.system_prompt = system_prompt
        self.secrets = tuple(secrets)
        self.transport = transport
        uses_messages = "{{messages}}" in json.dumps(cfg.body) or "{{ messages }}" in json.dumps(
            cfg.body
        )
        self.capabilities = Capabilities(
            multi_turn=cfg.stateful or uses_messages,
            system_prompt=uses_messages or "{{system}}" in json.dumps(cfg.body),
            streaming=cfg.sse,
            stateful=cfg.stateful,
        )

    def config(self) -> dict[str, Any]:
        return {
            "kind": "http",
            "url": self.cfg.url,
            "method": self.cfg.method,
            "body": self.cfg.body,
            "reply_path": self.cfg.reply_path,
            "stateful": self.cfg.stateful,
        }

    def session(self) -> Session:
        return _HTTPSession(self)


