"""Targets: what a scan attacks. Each is async ``send(conversation) -> Response``.

A conversation is a list of OpenAI Chat Completions messages. Every target
declares its :class:`Capabilities` (multi-turn, system-prompt control,
streaming, stateful) and a ``config()`` without secrets, which is part of an
attempt's identity (so ``--resume`` and ``replay`` know what was already run
against which target). Multi-turn attacks open a :class:`Session` so stateful
HTTP apps keep their cookies and session id across turns.

Kinds: the built-in demo chatbot, OpenAI-compatible endpoints (OpenAI Chat
Completions, incl. SSE streaming; works through the Assay gateway), generic
HTTP (templated JSON body, JSONPath-style reply extraction, headers, cookie and
session-id carry-over, SSE), and Python callables (sync or async).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
import json
import os
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from assay.errors import AssayError
from assay.redteam.demo_target import (
    CANARY,
    FAKE_API_KEY,
    FAKE_CUSTOMER_EMAIL,
    FAKE_CUSTOMER_PHONE,
    SYSTEM_PROMPT,
    DemoChatbot,
)
from assay.yamlio import plain, read_yaml

__all__ = [
    "CallableTarget",
    "Capabilities",
    "ContentFiltered",
    "DemoTarget",
    "HTTPConfig",
    "HTTPTarget",
    "Message",
    "OpenAITarget",
    "Response",
    "Session",
    "Target",
    "TargetError",
    "extract_path",
    "target_from_spec",
]

Message = dict[str, str]


class TargetError(AssayError):
    """The target failed to answer (network, HTTP status, unparsable reply): never "resisted"."""


class ContentFiltered(Exception):
    """A guard in front of the model refused the request (OpenAI ``code: content_filter``).

    The system answered, by refusing: the attempt is *resisted* (for an
    over-refusal probe, the refusal is the finding), with the guard's reason.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _guard_block(status: int, text: str) -> str | None:
    """The guard's message when a reply is a content-filter refusal (HTTP 400 or an SSE event)."""
    if status not in (200, 400):
        return None
    try:
        error = json.loads(text).get("error")
    except (ValueError, AttributeError):
        return None
    if isinstance(error, dict) and error.get("code") == "content_filter":
        return str(error.get("message") or "blocked by a content filter")[:300]
    return None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a target supports; attacks needing more are recorded as unassessed."""

    multi_turn: bool = True
    system_prompt: bool = False
    streaming: bool = False
    stateful: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {
            "multi_turn": self.multi_turn,
            "system_prompt": self.system_prompt,
            "streaming": self.streaming,
            "stateful": self.stateful,
        }


@dataclass(frozen=True, slots=True)
class Response:
    """A target's answer with whatever usage figures it reported."""

    text: str
    latency_ms: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Session(ABC):
    """One conversation with a target (a fresh cookie jar / session id for stateful apps)."""

    @abstractmethod
    async def send(self, conversation: list[Message]) -> Response:
        """Send the whole conversation so far; return the reply to its last user message."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most sessions hold nothing
        """Release per-conversation resources."""


class Target(ABC):
    """Something to attack. Subclasses set ``name`` and ``capabilities``."""

    name: str = "target"
    capabilities: Capabilities = Capabilities()
    system_prompt: str | None = None
    secrets: tuple[str, ...] = ()

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """Identity of the target for run hashing; never includes credentials."""

    @abstractmethod
    def session(self) -> Session:
        """Start a conversation."""

    async def send(self, conversation: list[Message]) -> Response:
        """One-shot convenience: a fresh session for one exchange."""
        session = self.session()
        try:
            return await session.send(conversation)
        finally:
            await session.aclose()

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most targets hold nothing
        """Release shared resources (HTTP connection pools)."""

    def config_digest(self) -> str:
        body = json.dumps(self.config(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


def _with_system(conversation: list[Message], system_prompt: str | None) -> list[Message]:
    if system_prompt is None or any(m.get("role") == "system" for m in conversation):
        return conversation
    return [{"role": "system", "content": system_prompt}, *conversation]


# --- demo ---------------------------------------------------------------------------------


class _FnSession(Session):
    def __init__(self, fn: Callable[[list[Message]], Awaitable[Response]]) -> None:
        self._fn = fn

    async def send(self, conversation: list[Message]) -> Response:
        return await self._fn(conversation)


class DemoTarget(Target):
    """The built-in deliberately vulnerable chatbot, in process (no network)."""

    name = "demo"
    capabilities = Capabilities(multi_turn=True, system_prompt=True)

    def __init__(self, system_prompt: str | None = None) -> None:
        prompt = system_prompt or SYSTEM_PROMPT
        self.system_prompt = prompt
        self._prompt = prompt
        self._bot = DemoChatbot(prompt)
        self.secrets = (CANARY, FAKE_API_KEY, FAKE_CUSTOMER_EMAIL, FAKE_CUSTOMER_PHONE)

    def config(self) -> dict[str, Any]:
        digest = hashlib.sha256(self._prompt.encode("utf-8")).hexdigest()[:16]
        return {"kind": "demo", "model": DemoChatbot.name, "system_prompt_sha256": digest}

    async def _reply(self, conversation: list[Message]) -> Response:
        start = time.perf_counter()
        text = self._bot.reply(conversation)
        return Response(
            text,
            (time.perf_counter() - start) * 1000,
            sum(len(m.get("content", "")) for m in conversation) // 4,
            len(text) // 4,
        )

    def session(self) -> Session:
        return _FnSession(self._reply)


# --- Python callable ----------------------------------------------------------------------


class CallableTarget(Target):
    """A Python function ``(messages) -> str | Response``, sync or async.

    Sync functions run in a worker thread when ``threaded`` (for slow or
    blocking code), inline otherwise (fast pure functions).
    """

    def __init__(
        self,
        fn: Callable[[list[Message]], Any],
        name: str | None = None,
        *,
        capabilities: Capabilities | None = None,
        threaded: bool = False,
        system_prompt: str | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self._fn = fn
        self.name = name or str(getattr(fn, "__qualname__", "callable"))
        self.capabilities = capabilities or Capabilities(multi_turn=True, system_prompt=True)
        self._threaded = threaded
        self.system_prompt = system_prompt
        self.secrets = tuple(secrets)

    def config(self) -> dict[str, Any]:
        module = getattr(self._fn, "__module__", "?")
        return {"kind": "python", "callable": f"{module}:{self.name}"}

    async def _call(self, conversation: list[Message]) -> Response:
        start = time.perf_counter()
        messages = _with_system(conversation, self.system_prompt)
        if inspect.iscoroutinefunction(self._fn):
            out = await self._fn(messages)
        elif self._threaded:
            out = await asyncio.to_thread(self._fn, messages)
        else:
            out = self._fn(messages)
            if inspect.isawaitable(out):
                out = await out
        if isinstance(out, Response):
            return out
        if not isinstance(out, str):
            raise TargetError(f"callable target returned {type(out).__name__}, expected str")
        return Response(out, (time.perf_counter() - start) * 1000)

    def session(self) -> Session:
        return _FnSession(self._call)


# --- JSON helpers -------------------------------------------------------------------------

_PATH_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(\d+|-1)\]|\[['\"]([^'\"]+)['\"]\]")


def extract_path(obj: Any, path: str) -> Any:
    """Follow a JSONPath-like path: ``$.choices[0].message.content``, ``data.reply``, ``a.0.b``."""
    current = obj
    body = path[1:] if path.startswith("$") else path
    for match in _PATH_TOKEN.finditer(body):
        key, index, quoted = match.groups()
        if index is not None:
            if not isinstance(current, list):
                raise TargetError(f"reply path {path!r}: expected a list at [{index}]")
            try:
                current = current[int(index)]
            except IndexError:
                raise TargetError(f"reply path {path!r}: index {index} out of range") from None
            continue
        name = quoted if quoted is not None else key
        if isinstance(current, list) and name.lstrip("-").isdigit():
            try:
                current = current[int(name)]
            except IndexError:
                raise TargetError(f"reply path {path!r}: index {name} out of range") from None
        elif isinstance(current, Mapping) and name in current:
            current = current[name]
        else:
            raise TargetError(f"reply path {path!r}: no field {name!r} in the reply")
    return current


_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")


def _expand_env(value: str) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise AssayError(f"environment variable {name} is not set (used in target headers)")
        return os.environ[name]

    return _ENV.sub(sub, value)


def _render(template: Any, values: Mapping[str, Any]) -> Any:
    """Fill ``{{name}}`` placeholders; a string that is exactly one placeholder takes its value."""
    if isinstance(template, str):
        exact = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", template)
        if exact and exact.group(1) in values:
            return values[exact.group(1)]

        def sub(match: re.Match[str]) -> str:
            value = values.get(match.group(1))
            return "" if value is None else value if isinstance(value, str) else json.dumps(value)

        return re.sub(r"\{\{\s*(\w+)\s*\}\}", sub, template)
    if isinstance(template, Mapping):
        return {k: _render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_render(v, values) for v in template]
    return template


def _sse_events(body: str) -> list[str]:
    """The ``data:`` payloads of a text/event-stream body (SSE), in order."""
    events: list[str] = []
    data: list[str] = []
    for line in body.splitlines():
        if not line.strip():
            if data:
                events.append("\n".join(data))
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        events.append("\n".join(data))
    return events


# --- OpenAI-compatible --------------------------------------------------------------------


class OpenAITarget(Target):
    """An OpenAI Chat Completions endpoint (OpenAI, vLLM, llama.cpp, Ollama, the Assay gateway)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        headers: Mapping[str, str] | None = None,
        system_prompt: str | None = None,
        secrets: Sequence[str] = (),
        temperature: float | None = None,
        max_tokens: int | None = None,
        stream: bool = False,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"openai:{model}"
        self.system_prompt = system_prompt
        self.secrets = tuple(secrets)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.stream = stream
        self.capabilities = Capabilities(multi_turn=True, system_prompt=True, streaming=stream)
        key = api_key if api_key is not None else os.environ.get(api_key_env)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if key:
            all_headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(headers=all_headers, timeout=timeout, transport=transport)

    def config(self) -> dict[str, Any]:
        sp = self.system_prompt
        return {
            "kind": "openai",
            "base_url": self.base_url,
            "model": self.model,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "system_prompt_sha256": hashlib.sha256(sp.encode()).hexdigest()[:16] if sp else None,
        }

    async def _chat(self, conversation: list[Message]) -> Response:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": _with_system(conversation, self.system_prompt),
        }
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.stream:
            body["stream"] = True
        start = time.perf_counter()
        try:
            resp = await self._client.post(f"{self.base_url}/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise TargetError(f"{self.name}: request failed: {exc}") from exc
        latency = (time.perf_counter() - start) * 1000
        if resp.status_code >= 400:
            blocked = _guard_block(resp.status_code, resp.text)
            if blocked is not None:
                raise ContentFiltered(blocked)
            raise TargetError(f"{self.name}: HTTP {resp.status_code}: {resp.text[:200]}")
        if self.stream or resp.headers.get("content-type", "").startswith("text/event-stream"):
            parts: list[str] = []
            for event in _sse_events(resp.text):
                if event.strip() == "[DONE]":
                    break
                blocked = _guard_block(200, event)
                if blocked is not None:
                    raise ContentFiltered(blocked)
                chunk = json.loads(event)
                for choice in chunk.get("choices") or []:
                    parts.append((choice.get("delta") or {}).get("content") or "")
            return Response("".join(parts), latency)
        try:
            data = resp.json()
            text = data["choices"][0]["message"].get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise TargetError(f"{self.name}: unexpected reply shape: {resp.text[:200]}") from exc
        usage = data.get("usage") or {}
        return Response(text, latency, usage.get("prompt_tokens"), usage.get("completion_tokens"))

    def session(self) -> Session:
        return _FnSession(self._chat)

    async def aclose(self) -> None:
        await self._client.aclose()


# --- generic HTTP -------------------------------------------------------------------------


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
        headers = {k: _expand_env(v) for k, v in cfg.headers.items()}
        self._client = httpx.AsyncClient(
            headers=headers, timeout=cfg.timeout, transport=target.transport
        )
        self._session_id: str | None = None

    async def send(self, conversation: list[Message]) -> Response:
        cfg = self._target.cfg
        users = [m["content"] for m in conversation if m.get("role") == "user"]
        values: dict[str, Any] = {
            "prompt": users[-1] if users else "",
            "messages": _with_system(conversation, self._target.system_prompt),
            "system": self._target.system_prompt or "",
            "session": self._session_id,
        }
        body = _render(cfg.body, values)
        start = time.perf_counter()
        try:
            resp = await self._client.request(cfg.method, cfg.url, json=body)
        except httpx.HTTPError as exc:
            raise TargetError(f"{cfg.url}: request failed: {exc}") from exc
        latency = (time.perf_counter() - start) * 1000
        if resp.status_code >= 400:
            blocked = _guard_block(resp.status_code, resp.text)
            if blocked is not None:
                raise ContentFiltered(blocked)
            raise TargetError(f"{cfg.url}: HTTP {resp.status_code}: {resp.text[:200]}")
        if cfg.sse or resp.headers.get("content-type", "").startswith("text/event-stream"):
            parts: list[str] = []
            for event in _sse_events(resp.text):
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


# --- spec parsing -------------------------------------------------------------------------


def _load_callable(ref: str) -> Callable[[list[Message]], Any]:
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise AssayError(f"python target {ref!r}: write it as 'python:package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AssayError(f"python target: cannot import {module_name}: {exc}") from exc
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise AssayError(f"python target: {module_name} has no callable {attr!r}")
    return fn  # type: ignore[no-any-return]


def target_from_spec(
    spec: str,
    *,
    system_prompt: str | None = None,
    secrets: Sequence[str] = (),
    base_url: str | None = None,
) -> Target:
    """Build a target from a CLI spec.

    ``demo`` · ``openai:MODEL`` (base URL from ``base_url`` or ``$OPENAI_BASE_URL``;
    key from ``$OPENAI_API_KEY``)
    · ``openai:MODEL@http://host/v1`` · ``http:target.yaml`` · ``python:pkg.mod:fn``.
    """
    kind, _, rest = spec.partition(":")
    if spec == "demo":
        return DemoTarget(system_prompt)
    if kind == "openai" and rest:
        model, _, url = rest.partition("@")
        url = url or base_url or os.environ.get("OPENAI_BASE_URL") or ""
        if not url:
            raise AssayError(
                f"target {spec!r} needs a base URL: write openai:{model}@http://HOST/v1, "
                "pass --base-url or set OPENAI_BASE_URL (the Assay gateway's URL works too)"
            )
        return OpenAITarget(url, model, system_prompt=system_prompt, secrets=secrets)
    if kind == "http" and rest:
        path = Path(rest)
        data = plain(read_yaml(path, allow_empty=True))
        if not isinstance(data, Mapping):
            raise AssayError(f"{path}: expected a mapping with at least 'url'")
        cfg = HTTPConfig.from_mapping(data, str(path))
        file_secrets = tuple(str(s) for s in data.get("secrets") or ())
        return HTTPTarget(
            cfg,
            name=data.get("name"),
            system_prompt=system_prompt or data.get("system_prompt"),
            secrets=(*secrets, *file_secrets),
        )
    if kind == "python" and rest:
        return CallableTarget(_load_callable(rest), system_prompt=system_prompt, secrets=secrets)
    raise AssayError(
        f"unknown target {spec!r}: use demo, openai:MODEL[@URL], http:FILE.yaml or "
        "python:module:function"
    )
