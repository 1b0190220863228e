"""An OpenAI Chat Completions endpoint as a target (JSON and SSE streaming)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from assay.redteam.targets._base import (
    Capabilities,
    ContentFiltered,
    FnSession,
    Message,
    Response,
    Session,
    Target,
    TargetError,
    guard_block,
    raise_for_answer,
    with_system,
)
from assay.sse import events


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
            "messages": with_system(conversation, self.system_prompt),
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
        raise_for_answer(resp.status_code, resp.text, self.name)
        if self.stream or resp.headers.get("content-type", "").startswith("text/event-stream"):
            parts: list[str] = []
            for event in events(resp.text.splitlines()):
                if event.strip() == "[DONE]":
                    break
                blocked = guard_block(200, event)
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
        return FnSession(self._chat)

    async def aclose(self) -> None:
        await self._client.aclose()


