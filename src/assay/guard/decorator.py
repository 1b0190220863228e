"""``@guarded(guard)``: guard a function's string input and its string result.

For wrapping an LLM call in one line: the input is checked before the call
(redacted if the policy says so, :class:`GuardBlocked` if it blocks), and a
``str`` result is checked as output with the input as its prompt. Works on
plain and ``async`` functions; async ones run the checks in a worker thread.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, cast

from assay.errors import AssayError
from assay.guard.engine import Guard
from assay.guard.verdict import GuardBlocked, Verdict

__all__ = ["guarded"]

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
