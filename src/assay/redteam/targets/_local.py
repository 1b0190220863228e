"""In-process targets: the built-in demo chatbot and Python callables."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import time
from collections.abc import Callable, Sequence
from typing import Any

from assay.redteam.demo_target import (
    CANARY,
    FAKE_API_KEY,
    FAKE_CUSTOMER_EMAIL,
    FAKE_CUSTOMER_PHONE,
    SYSTEM_PROMPT,
    DemoChatbot,
)
from assay.redteam.targets._base import (
    Capabilities,
    FnSession,
    Message,
    Response,
    Session,
    Target,
    TargetError,
    with_system,
)


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
        return FnSession(self._reply)



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
        messages = with_system(conversation, self.system_prompt)
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
        return FnSession(self._call)


