"""A tool-using agent as a target: the agent loop around a model, with simulated tools.

Each agent attack brings an ``environment`` (web pages, inbox, files, poisoned
tool descriptions). The agent sends the user's task with its ``tools`` to the
model, executes every ``tool_calls`` entry the model returns against that
environment, feeds the results back, and stops at a text answer (or after
``max_steps``). The reply carries the trace of executed calls, which the
``tool_call`` detector judges (success = the attacker's call was made).

The model is either the in-process :class:`~assay.redteam.demo_agent.DemoAgentModel`
(``--target demo-agent``) or any OpenAI-compatible endpoint
(``agent:MODEL@URL``): point that at the Assay gateway to measure what its tool
policy stops (a blocked call is a ``content_filter`` refusal: resisted).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import httpx

from assay.redteam.demo_agent import (
    AGENT_SYSTEM_PROMPT,
    DEFAULT_TOOLS,
    DemoAgentModel,
    ToolEnvironment,
)
from assay.redteam.demo_target import CANARY, FAKE_API_KEY, FAKE_CUSTOMER_EMAIL
from assay.redteam.targets._base import (
    Capabilities,
    ContentFiltered,
    Message,
    Response,
    Session,
    Target,
    TargetError,
    guard_block,
    raise_for_answer,
)

__all__ = ["AgentModel", "AgentTarget", "DemoAgentBackend", "OpenAIAgentBackend"]


class AgentModel(Protocol):
    """What the agent loop asks of a model: the next assistant message."""

    name: str

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


class DemoAgentBackend:
    """The deliberately vulnerable demo agent model, in process."""

    name = DemoAgentModel.name

    def __init__(self) -> None:
        self._model = DemoAgentModel()

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return self._model.reply(messages, tools)

    async def aclose(self) -> None:
        return None


class OpenAIAgentBackend:
    """An OpenAI-compatible Chat Completions endpoint called with ``tools``."""

    def __init__(
        self, base_url: str, model: str, *, api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY", timeout: float = 60.0,
    ) -> None:
        self.name = model
        self.base_url = base_url.rstrip("/")
        key = api_key if api_key is not None else os.environ.get(api_key_env)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.AsyncClient(headers=headers, timeout=timeout)

    async def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> dict[str, Any]:
        body = {"model": self.name, "messages": messages, "tools": tools}
        try:
            resp = await self._client.post(f"{self.base_url}/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise TargetError(f"{self.name}: request failed: {exc}") from exc
        raise_for_answer(resp.status_code, resp.text, self.name)
        if (blocked := guard_block(resp.status_code, resp.text)) is not None:
            raise ContentFiltered(blocked)  # a refusal sent with status 200
        try:
            message = resp.json()["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise TargetError(f"{self.name}: unexpected reply shape: {resp.text[:200]}") from exc
        if not isinstance(message, dict):
            raise TargetError(f"{self.name}: the reply's message is not an object")
        return message

    async def aclose(self) -> None:
        await self._client.aclose()


class AgentTarget(Target):
    """An agent: a model plus tools, run in a loop against each attack's environment."""

    capabilities = Capabilities(multi_turn=False, system_prompt=True, tools=True)

    def __init__(
        self,
        model: AgentModel,
        *,
        name: str | None = None,
        system_prompt: str | None = None,
        tools: Sequence[dict[str, Any]] = DEFAULT_TOOLS,
        max_steps: int = 6,
        secrets: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.name = name or f"agent:{model.name}"
        self.prompt: str = system_prompt or AGENT_SYSTEM_PROMPT
        self.system_prompt = self.prompt
        self.base_tools = tuple(tools)
        self.max_steps = max_steps
        self.secrets = (CANARY, FAKE_API_KEY, FAKE_CUSTOMER_EMAIL, *secrets)

    def config(self) -> dict[str, Any]:
        prompt = hashlib.sha256(self.prompt.encode("utf-8")).hexdigest()[:16]
        tools = hashlib.sha256(
            json.dumps(self.base_tools, sort_keys=True).encode("utf-8")
        ).hexdigest()[:16]
        return {
            "kind": "agent",
            "model": self.model.name,
            "system_prompt_sha256": prompt,
            "tools_sha256": tools,
            "max_steps": self.max_steps,
        }

    def session(self) -> Session:
        return _AgentSession(self, ToolEnvironment())

    def agent_session(self, environment: Mapping[str, Any]) -> Session:
        return _AgentSession(self, ToolEnvironment.from_mapping(environment))

    async def aclose(self) -> None:
        await self.model.aclose()


class _AgentSession(Session):
    def __init__(self, target: AgentTarget, environment: ToolEnvironment) -> None:
        self._target = target
        self._env = environment

    async def send(self, conversation: list[Message]) -> Response:
        start = time.perf_counter()
        target = self._target
        messages: list[dict[str, Any]] = [{"role": "system", "content": target.prompt}]
        messages += [dict(m) for m in conversation]
        tools = self._env.tools(target.base_tools)
        text = ""
        for _ in range(target.max_steps):
            reply = await target.model.complete(messages, tools)
            messages.append(reply)
            calls = reply.get("tool_calls") or []
            if not calls:
                text = str(reply.get("content") or "")
                break
            for call in calls:
                messages.append(self._execute(call))
        else:
            text = f"(stopped after {target.max_steps} steps)"
        trace = tuple(call.as_dict() for call in self._env.trace)
        return Response(text, (time.perf_counter() - start) * 1000, tool_calls=trace)

    def _execute(self, call: Any) -> dict[str, Any]:
        """Run one requested call in the environment; its result is the next tool message."""
        function = call.get("function") if isinstance(call, Mapping) else None
        call_id = str(call.get("id") or "call") if isinstance(call, Mapping) else "call"
        if not isinstance(function, Mapping):
            return {"role": "tool", "tool_call_id": call_id, "content": "error: malformed call"}
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except (TypeError, ValueError):
            arguments = None
        if not isinstance(arguments, dict):
            content = "error: the arguments are not a JSON object"
        else:
            content = self._env.run(str(function.get("name")), arguments)
        return {"role": "tool", "tool_call_id": call_id, "content": content}
