"""MCP decisions the guard engine does not make itself, as ``guard-decision`` evidence.

The guard's own checks (a definition, a call's arguments, a result) reach the
ledger through the guard's :class:`~assay.guard.LedgerSink`. What the proxy
decides around them — a definition approved, refused as unapproved, changed or
poisoned; a call refused because its tool is not approved or could not be
checked; an upstream that died mid-call — is written here, with the one
builder (:func:`assay.guard.guard_decision`) and summary schema 2: the finding
``mcp`` carries the outcome as its label, ``request_id`` names the server and
tool (``mcp:<server>/<tool>``), and ``content`` is the keyed digest of the tool
definition or of the call, never its text or argument values.
"""

from __future__ import annotations

from dataclasses import dataclass

from assay.guard import DecisionSummary, Verdict, guard_decision
from assay.guard.evidence import content_digest
from assay.ledger.batcher import EvidenceQueue

__all__ = ["OUTCOMES", "Recorder"]

#: The labels of the ``mcp`` finding, one per decision the proxy makes itself.
OUTCOMES = {
    "approved": "allow",        # a definition pinned (assay mcp approve, or trust on first use)
    "unapproved": "block",      # a definition with no pin: hidden, its calls refused
    "changed": "block",         # a definition whose digest differs from its pin (rug pull)
    "poisoned": "block",        # a definition the guard blocked
    "unchecked": "block",       # a definition, call or result the guard could not check
    "not_listed": "block",      # a call to a tool the server does not list
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

    def record(self, outcome: str, tool: str, content: bytes,
               verdict: Verdict | None = None) -> None:
        """One decision: ``outcome`` (a key of :data:`OUTCOMES`) about ``tool``.

        ``content`` is what the decision is about (the definition's canonical
        bytes, or the call's); only its keyed digest and length are kept.
        ``verdict``, when the guard ran, contributes its findings and timings.
        """
        findings = tuple((f.validator, f.score, f.label)
                         for f in (verdict.findings if verdict else ()))
        summary = DecisionSummary(
            direction="input",
            action=OUTCOMES[outcome],
            guard_ms=verdict.total_ms if verdict else None,
            findings=(("mcp", 1.0, outcome), *findings),
            timings_ms=verdict.timings_ms if verdict else {},
            input_len=len(content),
            content=content_digest(self.key, content),
            error=verdict.error if verdict else None,
            request_id=f"mcp:{self.server}/{tool}",
        )
        self.queue.submit(guard_decision(summary, system=self.system, actor=self.actor))
