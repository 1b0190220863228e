"""A scan's sequence as a service, called by the CLI (``assay scan``) and the dashboard.

:func:`run` executes a planned run (fresh or resumed) to its end; :func:`conclude`
writes the chosen reports into the run's folder, records the run as
``redteam-run`` evidence when given a ledger, and says which gates tripped. Faces
add only what is theirs: progress bars, printing, background threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.ledger import Ledger
from assay.redteam.evidence import record_run
from assay.redteam.report import render
from assay.redteam.results import Gate, RunResult
from assay.redteam.runner import ScanOptions, execute
from assay.redteam.store import RunStore
from assay.redteam.targets import Target

__all__ = ["REPORT_FILES", "Conclusion", "conclude", "run"]

REPORT_FILES = {
    "json": "report.json",
    "html": "report.html",
    "junit": "report.junit.xml",
    "sarif": "report.sarif",
    "md": "report.md",
}
"""The file each report format is written to, in the run's folder."""

Progress = Callable[[int, int, dict[str, Any]], None]


def run(
    store: RunStore,
    target: Target,
    *,
    options: ScanOptions | None = None,
    attacker: Target | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run every attempt of the stored plan not yet recorded (all of them for a new run)."""
    return asyncio.run(
        execute(store, target, options=options, attacker=attacker, progress=progress)
    )


@dataclass(frozen=True)
class Conclusion:
    """What :func:`conclude` wrote: report files by format, the evidence entry, tripped gates."""

    reports: dict[str, Path] = field(default_factory=dict)
    evidence_seq: int | None = None
    tripped: tuple[str, ...] = ()


def conclude(
    result: RunResult,
    store: RunStore,
    ledger: Ledger | None,
    *,
    formats: Sequence[str],
    actor: str,
    system: str,
    version: str = "",
    gates: Sequence[Gate] = (),
) -> Conclusion:
    """Write the reports, record the evidence (with a ledger) and check the gates."""
    reports = {fmt: store.write_file(REPORT_FILES[fmt], render(result, fmt)) for fmt in formats}
    seq = None
    if ledger is not None:
        seq = record_run(ledger, result, actor=actor, system=system, version=version, gates=gates)
    tripped = tuple(msg for gate in gates if (msg := gate.check(result)))
    return Conclusion(reports, seq, tripped)
