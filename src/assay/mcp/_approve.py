"""``assay mcp approve``: check a server's tool definitions and pin the ones approved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import anyio.to_thread

from assay.errors import NotFound
from assay.guard import Verdict
from assay.mcp._checks import ProxyChecks
from assay.mcp._evidence import Recorder
from assay.mcp._pins import PinStore, definition_bytes, definition_digest
from assay.mcp._upstream import Connect, connected, list_all_tools

__all__ = ["Approval", "approve_tools"]


@dataclass(frozen=True, slots=True)
class Approval:
    """The outcome for one tool: ``approved``, ``unchanged`` (already pinned), ``poisoned``
    (blocked by the guard, not pinned) or ``forced`` (blocked, pinned by ``force``)."""

    tool: str
    digest: str
    outcome: str
    reason: str = ""

    def as_json(self) -> dict[str, str]:
        return {"tool": self.tool, "sha256": self.digest, "outcome": self.outcome,
                "reason": self.reason}


def _names(verdict: Verdict) -> str:
    return ", ".join(sorted({f.validator for f in verdict.findings})) or "guard error"


async def approve_tools(connect: Connect, checker: ProxyChecks, pins: PinStore,
                        recorder: Recorder, *, tools: Sequence[str] = (),
                        force: bool = False) -> list[Approval]:
    """Pin the current definition of ``tools`` (all listed tools when empty).

    Each definition is checked by the guard first: one it blocks is not pinned
    (outcome ``poisoned``; the guard records its decision) unless ``force``, which
    pins it as ``forced``: the proxy then shows that exact definition despite the
    guard (a person overruling a false positive). A
    definition already pinned as it is stays as it was (``unchanged``, no new
    evidence); every new pin is recorded.
    Raises :class:`NotFound` when a named tool is not listed by the server.
    """
    server = recorder.server
    async with connected(connect) as client:
        listed = {tool.name: tool for tool in await list_all_tools(client)}
    missing = sorted(set(tools) - set(listed))
    if missing:
        raise NotFound(f"the server does not list {', '.join(missing)} "
                       f"(it lists: {', '.join(sorted(listed)) or 'nothing'})")
    results: list[Approval] = []
    for name in sorted(tools or listed):
        tool = listed[name]
        digest = definition_digest(tool)
        pin = pins.get(server, name)
        if pin is not None and pin.digest == digest:
            results.append(Approval(name, digest, "unchanged"))
            continue
        verdict = await anyio.to_thread.run_sync(checker.check_definition, tool)
        if verdict.blocked and not force:
            results.append(Approval(name, digest, "poisoned",
                                    f"blocked by the guard: {_names(verdict)}"))
            continue
        pins.pin(server, tool, actor=recorder.actor, forced=verdict.blocked)
        recorder.record("definition", "approved", name, definition_bytes(tool))
        if verdict.blocked:
            results.append(Approval(name, digest, "forced", f"pinned although the guard "
                                                            f"blocked it: {_names(verdict)}"))
        else:
            results.append(Approval(name, digest, "approved"))
    return results
