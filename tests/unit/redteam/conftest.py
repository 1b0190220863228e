"""Shared helpers for the red-team tests: run a scan in process against any target."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from assay.redteam.attacks import Attack, load_corpus, select
from assay.redteam.results import RunResult
from assay.redteam.runner import ScanOptions, create_run, execute
from assay.redteam.targets import Target


def run_scan(
    root: Path,
    target: Target,
    families: Sequence[str] | None = None,
    attacks: Sequence[Attack] | None = None,
    options: ScanOptions | None = None,
) -> RunResult:
    chosen = list(attacks) if attacks is not None else select(load_corpus(), families)
    opts = options or ScanOptions(concurrency=8)
    store = create_run(root, target, chosen, opts, target_spec="test")
    return asyncio.run(execute(store, target))
