"""Gateway decisions as ledger evidence, written off the request path.

The entry is built by the guard's one builder (:func:`assay.guard.evidence.guard_decision`)
from a :class:`~assay.guard.evidence.DecisionSummary`, so the gateway and the
library write the same summary schema with the same controls. The writer runs in
a child process (:class:`~assay.ledger.writer.WriterProcess`) so that hashing and
signing never hold the event loop's GIL.

Bodies are never stored by default: the entry carries a digest keyed with a
workspace secret (HMAC-SHA256), so an operator holding the secret can confirm
that a given request was seen, and nobody else can test guesses against it.
"""

from __future__ import annotations

import json
from typing import Any

from assay.gateway.guarding import Decision
from assay.gateway.keys import KeyBinding
from assay.guard.evidence import DecisionSummary, content_digest, guard_decision, text_digest
from assay.ledger.keys import digest_key
from assay.ledger.writer import WriterProcess
from assay.workspace import Workspace

__all__ = ["DecisionRecorder", "body_bytes", "digest_key"]


def body_bytes(body: dict[str, Any]) -> bytes:
    """The bytes a request's digest (and stored payload) is taken over."""
    return json.dumps(body, sort_keys=True).encode()


class DecisionRecorder:
    """Turns each gateway decision into ``assay.dev/guard-decision/v1`` evidence."""

    def __init__(self, workspace: Workspace, *, store_content: bool = False) -> None:
        self.store_content = store_content
        self._key = digest_key(workspace.root)
        self.writer = WriterProcess(workspace.root, workspace.settings)

    def record(
        self,
        binding: KeyBinding,
        direction: str,
        decision: Decision,
        request_body: dict[str, Any] | None = None,
        request_json: bytes | None = None,
        request_id: str | None = None,
    ) -> None:
        """Submit the decision's entry; ``request_json`` is :func:`body_bytes` of the
        body when the caller serialised it already (off the event loop)."""
        raw = request_json
        if raw is None and request_body is not None:
            raw = body_bytes(request_body)
        summary = DecisionSummary(
            direction=direction,
            action=decision.action,
            guard_ms=decision.guard_ms,
            findings=tuple((f["validator"], f["score"], f["label"]) for f in decision.findings),
            content=content_digest(self._key, raw) if raw is not None else None,
            error=decision.error,
            gateway_key=binding.name,
            request_id=request_id or None,
        )
        self.writer.submit(guard_decision(
            summary, system=binding.system, actor=f"gateway:{binding.name}",
            payload=raw if self.store_content else None,
        ))

    def record_tool(
        self,
        binding: KeyBinding,
        kind: str,
        decision: Decision,
        *,
        tool: str,
        text: str,
        tainted_by: tuple[str, ...] = (),
        request_id: str | None = None,
    ) -> None:
        """Submit a ``tool_call`` or ``tool_definition`` decision: ``text`` (the arguments,
        or the definition) kept as a keyed digest unless content storage is on;
        ``tainted_by`` the digests of the flagged tool messages it was checked under."""
        raw = text.encode("utf-8", "surrogatepass")
        summary = DecisionSummary(
            direction=kind,
            action=decision.action,
            guard_ms=decision.guard_ms,
            findings=tuple((f["validator"], f["score"], f["label"]) for f in decision.findings),
            content=content_digest(self._key, raw),
            error=decision.error,
            gateway_key=binding.name,
            request_id=request_id or None,
            tool=tool,
            tainted_by=tainted_by,
        )
        payload = json.dumps({"tool": tool, "text": text}).encode() if self.store_content \
            else None
        self.writer.submit(guard_decision(
            summary, system=binding.system, actor=f"gateway:{binding.name}", payload=payload,
        ))

    def digest(self, text: str) -> str:
        """The keyed digest that names a text in evidence (a tainting tool message)."""
        return text_digest(self._key, text)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
