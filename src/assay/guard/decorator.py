"""``@guarded(guard)`` guards an LLM call; ``@guarded_tool(guard)`` guards a tool function.

``guarded``: for wrapping an LLM call in one line: the input is checked before
the call (redacted if the policy says so, :class:`GuardBlocked` if it blocks), and
a ``str`` result is checked as output with the input as its prompt.

``guarded_tool``: for the functions an agent's tool calls run: the call (name and
arguments) is checked under the policy's ``tools`` section before it runs, and
its result as a document before the model reads it. Both work on plain and
``async`` functions; async ones run the checks in a worker thread.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, cast

from assay.errors import AssayError
from assay.guard.engine import Guard
from assay.guard.tools import ToolContext
from assay.guard.verdict import GuardBlocked, Verdict

__all__ = ["guarded", "guarded_tool"]

P = ParamSpec("P")
R = TypeVar("R")


def guarded(guard: Guard, *, arg: str | None = None) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function so its input (``arg``, else the first ``str`` argument) and
    ``str`` result pass through ``guard``; raises :class:`GuardBlocked` on a block."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(fn)
        if arg is not None and arg not in signature.parameters:
            raise AssayError(f"guarded(arg={arg!r}): {fn.__qualname__} has no such parameter")

        def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[inspect.BoundArguments,
                                                                         str | None]:
            bound = signature.bind(*args, **kwargs)
            if arg is not None:
                return bound, arg if isinstance(bound.arguments.get(arg), str) else None
            name = next((k for k, v in bound.arguments.items() if isinstance(v, str)), None)
            return bound, name

        def after_input(bound: inspect.BoundArguments, name: str, verdict: Verdict) -> str:
            if verdict.blocked:
                raise GuardBlocked(verdict, "input")
            text = cast(str, bound.arguments[name])
            bound.arguments[name] = verdict.text_or_redacted(text)
            return text

        def after_output(result: R, verdict: Verdict | None) -> R:
            if verdict is None or not isinstance(result, str):
                return result
            if verdict.blocked:
                raise GuardBlocked(verdict, "output")
            return cast(R, verdict.text_or_redacted(result))

        if inspect.iscoroutinefunction(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                bound, name = bind(args, kwargs)
                prompt = None
                if name is not None:
                    text = cast(str, bound.arguments[name])
                    prompt = after_input(bound, name, await guard.acheck_input(text))
                result = await afn(*bound.args, **bound.kwargs)
                verdict = (await guard.acheck_output(result, prompt)
                           if isinstance(result, str) else None)
                return after_output(result, verdict)

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            bound, name = bind(args, kwargs)
            prompt = None
            if name is not None:
                text = cast(str, bound.arguments[name])
                prompt = after_input(bound, name, guard.check_input(text))
            result = fn(*bound.args, **bound.kwargs)
            verdict = guard.check_output(result, prompt) if isinstance(result, str) else None
            return after_output(result, verdict)

        return wrapper

    return decorate


ContextSource = ToolContext | Callable[[], ToolContext | None] | None


def _result_text(result: Any) -> str | None:
    """A tool result as the text the model will read (JSON for structured results)."""
    if result is None:
        return None
    if isinstance(result, str):
        return result
    try:
        return json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return str(result)


def _checked_result(result: R, verdict: Verdict | None, tool: str) -> R:
    """The result to hand the model: raises on a block, the redacted text on a redact."""
    if verdict is None:
        return result
    if verdict.blocked:
        raise GuardBlocked(verdict, "input", tool)
    if verdict.redacted_text is not None:
        return cast(R, verdict.redacted_text)
    return result


def _allowed(verdict: Verdict, tool: str) -> None:
    if verdict.blocked:
        raise GuardBlocked(verdict, "tool_call", tool)


def guarded_tool(guard: Guard, *, name: str | None = None, context: ContextSource = None,
                 check_result: bool = True) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a Python tool function so each call and its result pass the guard.

    Before the call, its arguments (as bound to the signature) go through
    :meth:`Guard.check_tool_call` under the tool's ``name`` (default: the
    function's name); after it, a ``str`` result — or any other result as its JSON
    text — is checked as a document by :meth:`Guard.check_tool_result` (injection,
    secrets, PII), so an answer carrying an injection taints the conversation for
    the next calls. ``context`` is a :class:`ToolContext` or a function returning the
    current one (one per conversation: budget and taint). A block raises
    :class:`GuardBlocked`; a ``redact`` returns the redacted text. Works on plain and
    ``async`` functions; async ones run the checks in a worker thread.
    """

    def current() -> ToolContext | None:
        return context() if callable(context) else context

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        tool = name or fn.__name__
        signature = inspect.signature(fn)

        def arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            return dict(signature.bind(*args, **kwargs).arguments)

        if inspect.iscoroutinefunction(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                ctx = current()
                _allowed(await guard.acheck_tool_call(tool, arguments(args, kwargs), ctx), tool)
                result = await afn(*args, **kwargs)
                text = _result_text(result) if check_result else None
                verdict = (await asyncio.to_thread(guard.check_tool_result, tool, text, ctx)
                           if text is not None else None)
                return _checked_result(result, verdict, tool)

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            ctx = current()
            _allowed(guard.check_tool_call(tool, arguments(args, kwargs), ctx), tool)
            result = fn(*args, **kwargs)
            text = _result_text(result) if check_result else None
            verdict = guard.check_tool_result(tool, text, ctx) if text is not None else None
            return _checked_result(result, verdict, tool)

        return wrapper

    return decorate
