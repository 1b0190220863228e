"""Record a finished run in the evidence ledger as ``assay.dev/redteam-run/v1``.

The summary holds only figures (attempts, ASR and interval per family, the
target's name and config digest); the JSON report, which contains prompts and
responses, is the payload, stored in the blob store so it can be erased
without breaking the log.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from assay.catalogs import evidence_types
from assay.ledger import Evidence, Subject
from assay.redteam.results import RunResult

if TYPE_CHECKING:
    from assay.workspace import Workspace

__all__ = ["EVIDENCE_TYPE", "record_run", "run_controls", "run_evidence", "run_summary"]

EVIDENCE_TYPE = "assay.dev/redteam-run/v1"


def run_controls(result: RunResult) -> tuple[str, ...]:
    """The requirement IDs the run's attacks are tagged with, within what the type supports."""
    supported = set(evidence_types()[EVIDENCE_TYPE].supports)
    tagged = {c for a in result.attempts for c in (a.get("tags") or {}).get("controls", [])}
    chosen = sorted(tagged & supported) or sorted(supported)
    return tuple(chosen)


def run_summary(result: RunResult) -> dict[str, Any]:
    overall = result.overall()
    return {
        "run_id": result.run_id,
        "status": result.meta.get("status"),
        "target": result.meta.get("target_name"),
        "target_digest": result.meta.get("target_digest"),
        "attempts": len(result.attempts),
        **overall.as_dict(),
        "families": {
            name: {"asr": r.as_dict()["asr"], "ci95": r.as_dict()["ci95"], "n": r.assessed}
            for name, r in result.by_family().items()
        },
    }


def run_evidence(result: RunResult, *, actor: str, system: str, version: str) -> Evidence:
    """The evidence entry for a run (not yet appended)."""
    payload = json.dumps(result.as_dict(), sort_keys=True, ensure_ascii=False).encode("utf-8")
    return Evidence(
        type=EVIDENCE_TYPE,
        actor=actor,
        subject=Subject(system, version),
        controls=run_controls(result),
        summary=run_summary(result),
        payload=payload,
    )


def record_run(
    workspace: Workspace, result: RunResult, *, actor: str, system: str, version: str
) -> int:
    """Append the run's evidence to the workspace ledger; returns its sequence number."""
    entry = run_evidence(result, actor=actor, system=system, version=version)
    return workspace.ledger.append([entry])[0].seq
