"""What every target is: the Target and Session interfaces, Response, Capabilities and errors."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from assay.errors import AssayError

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


def guard_block(status: int, text: str) -> str | None:
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


def raise_for_answer(status: int, text: str, who: str) -> None:
    """An HTTP error answer as the run sees it: a guard's refusal (OpenAI ``content_filter``)
    raises :class:`ContentFiltered` (the attempt is resisted), any other a :class:`TargetError`
    (unassessed)."""
    if status < 400:
        return
    blocked = guard_block(status, text)
    if blocked is not None:
        raise ContentFiltered(blocked)
    raise TargetError(f"{who}: HTTP {status}: {text[:200]}")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a target supports; attacks needing more are recorded as unassessed."""

    multi_turn: bool = True
    system_prompt: bool = False
    streaming: bool = False
    stateful: bool = False
    tools: bool = False  # an agent that runs tools (the agent_* families need it)

    def as_dict(self) -> dict[str, bool]:
        return {
            "multi_turn": self.multi_turn,
            "system_prompt": self.system_prompt,
            "streaming": self.streaming,
            "stateful": self.stateful,
            "tools": self.tools,
        }


@dataclass(frozen=True, slots=True)
class Response:
    """A target's answer with whatever usage figures it reported."""

    text: str
    latency_ms: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tool_calls: tuple[dict[str, Any], ...] = ()  # an agent's executed calls: {name, arguments}


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

    def agent_session(self, environment: Mapping[str, Any]) -> Session:
        """Start a conversation in which the target's tools act on ``environment``.

        Only agent targets (``capabilities.tools``) run tools; the runner records
        an agent attack against any other target as unassessed before asking.
        """
        raise TargetError(
            f"target {self.name!r} does not run tools: use --target demo-agent or "
            "agent:MODEL@URL for the agent_* families"
        )

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


def with_system(conversation: list[Message], system_prompt: str | None) -> list[Message]:
    if system_prompt is None or any(m.get("role") == "system" for m in conversation):
        return conversation
    return [{"role": "system", "content": system_prompt}, *conversation]


class FnSession(Session):
    def __init__(self, fn: Callable[[list[Message]], Awaitable[Response]]) -> None:
        self._fn = fn

    async def send(self, conversation: list[Message]) -> Response:
        return await self._fn(conversation)
