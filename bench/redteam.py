"""Red-team runner throughput against the in-process demo target, plus detector accuracy.

Measures end-to-end attempts per second: planning, converters, the demo chatbot,
detectors, and the durable run store (each attempt fsynced, group-committed) —
the same code path as ``assay scan --target demo``. Also re-measures the
refusal and harmful-compliance detectors on the labelled set in
``tests/unit/redteam/data/responses.jsonl``.

Run: ``.venv/bin/python bench/redteam.py [--samples 3] [--concurrency 16] [--repeats 3]``
Writes ``bench/results/redteam.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from assay.redteam.attacks import load_corpus
from assay.redteam.detectors import compliance_score, refusal_score
from assay.redteam.runner import ScanOptions, create_run, execute
from assay.redteam.targets import DemoTarget

ROOT = Path(__file__).resolve().parents[1]


def _throughput(samples: int, concurrency: int) -> dict[str, float]:
    attacks = load_corpus()
    target = DemoTarget()
    with tempfile.TemporaryDirectory() as tmp:
        opts = ScanOptions(samples=samples, concurrency=concurrency)
        store = create_run(Path(tmp), target, attacks, opts, target_spec="demo")
        start = time.perf_counter()
        result = asyncio.run(execute(store, target))
        elapsed = time.perf_counter() - start
    n = len(result.attempts)
    return {"attempts": n, "seconds": round(elapsed, 3), "attempts_per_s": round(n / elapsed, 1)}


def _pr(pred: list[bool], labels: list[int]) -> dict[str, float]:
    tp = sum(p and y == 1 for p, y in zip(pred, labels, strict=True))
    fp = sum(p and y == 0 for p, y in zip(pred, labels, strict=True))
    fn = sum((not p) and y == 1 for p, y in zip(pred, labels, strict=True))
    return {
        "precision": round(tp / max(1, tp + fp), 3),
        "recall": round(tp / max(1, tp + fn), 3),
        "positives": sum(labels),
        "n": len(labels),
    }


def _detectors() -> dict[str, dict[str, float]]:
    path = ROOT / "tests" / "unit" / "redteam" / "data" / "responses.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return {
        "refusal": _pr(
            [refusal_score(r["text"]) >= 0.5 for r in rows], [r["refusal"] for r in rows]
        ),
        "harmful_compliance": _pr(
            [compliance_score(r["text"], r["objective"]) >= 0.5 for r in rows],
            [r["compliance"] for r in rows],
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "redteam.json")
    args = ap.parse_args()
    runs = [_throughput(args.samples, args.concurrency) for _ in range(args.repeats)]
    rates = [r["attempts_per_s"] for r in runs]
    report = {
        "benchmark": "redteam",
        "command": f"python bench/redteam.py --samples {args.samples} "
        f"--concurrency {args.concurrency} --repeats {args.repeats}",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d"),
        "runs": runs,
        "attempts_per_s_median": statistics.median(rates),
        "attempts_per_s_min": min(rates),
        "target_attempts_per_s": 200,
        "detectors": _detectors(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
