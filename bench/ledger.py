"""Ledger benchmark: append throughput, durable append latency, proofs and verify at scale.

Runs Assay's ledger and pymerkle (SqliteTree, RFC 9162 hashing) on the same
workload in the same run and reports ratios. Writes bench/results/ledger.json.

    python bench/ledger.py [--entries 1000000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pymerkle import SqliteTree

from assay.ledger import Evidence, Subject
from assay.ledger.verify import verify_checkpoint, verify_entry_inclusion
from assay.workspace import Workspace, init_workspace

RESULTS = Path(__file__).parent / "results" / "ledger.json"
BATCH = 1000


def _evidence(i: int) -> Evidence:
    return Evidence(
        type="assay.dev/guard-decision/v1",
        actor="gateway",
        subject=Subject("support-bot"),
        controls=("iso42001:A.6.2.6",),
        summary={"decision": "allow", "score": round((i % 97) / 97, 4), "guard_ms": 1.7},
    )


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": ordered[len(ordered) // 2],
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "mean": statistics.fmean(ordered),
    }


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_assay(ws: Workspace, entries: int) -> dict[str, Any]:
    ledger = ws.ledger
    batch = [_evidence(i) for i in range(BATCH)]
    elapsed, _ = _timed(lambda: [ledger.append(batch) for _ in range(entries // BATCH)])
    out: dict[str, Any] = {
        "entries": entries,
        "batched_appends_per_s": entries / elapsed,
        "batched_seconds": elapsed,
    }
    singles = []
    for i in range(200):
        t, _ = _timed(lambda i=i: ledger.append([_evidence(i)]))  # type: ignore[misc]
        singles.append(t * 1000)
    out["durable_single_append_ms"] = _percentiles(singles)
    out["checkpoint_ms"] = _timed(ledger.checkpoint)[0] * 1000
    note = ledger.latest_checkpoint()
    assert note is not None
    checkpoint = verify_checkpoint(note, ledger.signer.verifier)
    proof_ms, sizes = [], []
    for seq in range(0, checkpoint.tree_size, max(1, checkpoint.tree_size // 500)):
        t, proof = _timed(lambda seq=seq: ledger.prove(seq))  # type: ignore[misc]
        proof_ms.append(t * 1000)
        sizes.append(32 * len(proof.path))
        verify_entry_inclusion(
            ledger.get(seq).entry, seq, proof.tree_size, proof.path, checkpoint.root_hash
        )
    out["inclusion_proof_ms"] = _percentiles(proof_ms)
    out["inclusion_proof_bytes_max"] = max(sizes)
    verify_s, report = _timed(ledger.verify)
    assert report.ok, report.problems[:5]
    out["full_verify_seconds"] = verify_s
    out["tree_size"] = checkpoint.tree_size
    return out


def bench_pymerkle(path: Path, entries: int) -> dict[str, Any]:
    tree = SqliteTree(str(path))
    payloads = [json.dumps(_evidence(i).summary).encode() for i in range(BATCH)]
    elapsed, _ = _timed(lambda: [tree.append_entries(payloads) for _ in range(entries // BATCH)])
    proof_ms = []
    for index in range(1, entries, max(1, entries // 500)):
        proof_ms.append(_timed(lambda index=index: tree.prove_inclusion(index))[0] * 1000)  # type: ignore[misc]
    tree.close()
    return {
        "entries": entries,
        "batched_appends_per_s": entries / elapsed,
        "inclusion_proof_ms": _percentiles(proof_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="also run on this PostgreSQL database URL")
    parser.add_argument("--pg-entries", type=int, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "command": "python bench/ledger.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if v is not None
        ),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        results["assay_sqlite"] = bench_assay(ws, args.entries)
        ws.close()
        print(json.dumps(results["assay_sqlite"], indent=2), flush=True)
        results["pymerkle_sqlite"] = bench_pymerkle(Path(tmp) / "pymerkle.db", args.entries)
        print(json.dumps(results["pymerkle_sqlite"], indent=2), flush=True)
    a, p = results["assay_sqlite"], results["pymerkle_sqlite"]
    results["ratios_assay_over_pymerkle"] = {
        "batched_appends_per_s": a["batched_appends_per_s"] / p["batched_appends_per_s"],
        "inclusion_proof_p50_ms": a["inclusion_proof_ms"]["p50"] / p["inclusion_proof_ms"]["p50"],
    }
    if args.postgres:
        os.environ["ASSAY_DATABASE_URL"] = args.postgres
        with tempfile.TemporaryDirectory() as tmp:
            ws = init_workspace(Path(tmp) / "pgws")
            results["assay_postgres"] = bench_assay(ws, args.pg_entries or args.entries)
            ws.close()
            print(json.dumps(results["assay_postgres"], indent=2), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
