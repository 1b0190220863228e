"""Guard decisions as ledger evidence, written off the request path.

The writer runs in a child process (:class:`~assay.ledger.writer.WriterProcess`)
so that hashing and signing never hold the event loop's GIL.

Bodies are never stored by default: the entry carries a digest keyed with a
workspace secret (HMAC-SHA256), so an operator holding the secret can confirm
that a given request was seen, and nobody else can test guesses against it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from assay.gateway.guarding import Decision
from assay.gateway.keys import KeyBinding
from assay.ledger import Evidence, Subject
from assay.ledger.writer import WriterProcess
from assay.workspace import Workspace

__all__ = ["DecisionRecorder", "body_bytes", "digest_key"]


def digest_key(root: Path) -> bytes:
    """The workspace's digest secret (created once, mode 0600)."""
    path = root / "keys" / "digest.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        secret = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as handle:
            handle.write(secret)
        return secret


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
        summary: dict[str, Any] = {
            "direction": direction,
            "decision": decision.action,
            "guard_ms": round(decision.guard_ms, 3),
            "findings": [
                {"validator": f["validator"], "score": f["score"], "label": f["label"]}
                for f in decision.findings
            ],
            "gateway_key": binding.name,
        }
        if request_id:
            summary["request_id"] = request_id
        if decision.error:
            summary["error"] = decision.error[:200]
        payload = None
        if request_json is None and request_body is not None:
            request_json = body_bytes(request_body)
        if request_json is not None:
            raw = request_json
            summary["request_digest"] = hmac.new(self._key, raw, hashlib.sha256).hexdigest()
            payload = raw if self.store_content else None
        self.writer.submit(
            Evidence(
                type="assay.dev/guard-decision/v1",
                actor=f"gateway:{binding.name}",
                subject=Subject(binding.system),
                summary=summary,
                payload=payload,
            )
        )

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
