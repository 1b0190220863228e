"""MCP decisions the guard engine does not make itself, as ``guard-decision`` evidence.

The guard's own checks (a definition, a call's arguments, a result) reach the
ledger through the guard's :class:`~assay.guard.LedgerSink`. What the proxy
decides around them — a definition approved, or refused as unapproved or
changed since its approval; a call refused because its tool is not approved or
the guard could not check it; an upstream that died mid-call — is written
here, with the one builder (:func:`assay.guard.guard_decision`) and summary
schema 2: direction ``tool_definition`` or ``tool_call``, ``tool`` the tool's
name, the finding ``mcp`` with the outcome as its label, ``request_id``
``mcp:<server>``, and ``content`` the keyed digest of the definition or of the
call, never its text or argument values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assay.guard import DecisionSummary, guard_decision
from assay.guard.evidence import content_digest
from assay.ledger.batcher import EvidenceQueue
from assay.mcp._pins import check_server_name

__all__ = ["OUTCOMES", "Recorder"]

#: The labels of the ``mcp`` finding and the action each records.
OUTCOMES = {
    "approved": "allow",         # a definition pinned (assay mcp approve, or trust on first use)
    "unapproved": "block",       # a definition with no pin: hidden, its calls refused
    "changed": "block",          # a definition whose digest differs from its pin (rug pull)
    "poisoned": "block",         # a call to a tool whose definition the guard blocked
    "unchecked": "block",        # a definition, call or answer the guard could not check
    "not_listed": "block",       # a call to a tool the server does not list
    "invalid_arguments": "block",  # a call whose arguments do not fit the approved schema
    "upstream_failed": "block",  # the server failed or died during a call
}


@dataclass(frozen=True, slots=True)
class Recorder:
    """Writes the proxy's own decisions to an evidence queue (a ``Batcher``)."""

    queue: EvidenceQueue
    key: bytes
    system: str
    actor: str
    server: str

    def __post_init__(self) -> None:
        self.check_server(self.server)

    @staticmethod
    def check_server(name: str) -> str:
        """Refuse a server name that cannot name pins and evidence (raises ``Invalid``)."""
        return check_server_name(name)

    def record(self, about: Literal["definition", "call"], outcome: str, tool: str,
               content: bytes) -> None:
        """One decision: ``outcome`` (a key of :data:`OUTCOMES`) about ``tool``'s
        definition or a call to it. ``content`` is what the decision is about (the
        definition's canonical bytes, or the call's); only its keyed digest and
        length are kept."""
        summary = DecisionSummary(
            direction="tool_definition" if about == "definition" else "tool_call",
            action=OUTCOMES[outcome],
            guard_ms=None,
            findings=(("mcp", 1.0, outcome),),
            input_len=len(content),
            content=content_digest(self.key, content),
            request_id=f"mcp:{self.server}",
            tool=tool,
        )
        self.queue.submit(guard_decision(summary, system=self.system, actor=self.actor))
