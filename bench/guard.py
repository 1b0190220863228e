"""Guard engine benchmark: the default input policy end to end through ``Guard.check_input``.

    .venv/bin/python bench/guard.py        # writes bench/results/guard.json

Latency (p50/p99, in process, one thread) on the dev prompts of every task in
../shared/data (truncated to 2,000 characters) and on prompts of exactly 2,000
characters cut from the same texts, next to two baselines measured in the same
run: a no-op call (the harness) and a guard with an empty policy (the engine's
own overhead). Also: the default policy with a LedgerSink attached (the hot path
only enqueues evidence), one 100,000-character input, and what the default
policy decides on each dev split (its block rate on benign prompts).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from assay.guard import Guard, LedgerSink  # noqa: E402
from assay.guard.policy import default_policy_text  # noqa: E402
from assay.ledger import Batcher  # noqa: E402
from assay.workspace import init_workspace  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "results" / "guard.json"
TASKS = ("benign", "injection", "jailbreak", "toxicity", "harmful", "pii")
SEED = 7
N_DEV = 3000
N_LONG = 600
BUDGET = {"p50": 3.0, "p99": 15.0}


def dev_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for task in TASKS:
        with (DATA / task / "dev.jsonl").open(encoding="utf-8") as fh:
            rows += [{"task": task, **json.loads(line)} for line in fh if line.strip()]
    return rows


def percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    n = len(ordered)
    return {"p50": round(ordered[n // 2], 4), "p99": round(ordered[min(n - 1, int(n * 0.99))], 4),
            "max": round(ordered[-1], 4), "n": n}


def measure(check: Callable[[str], Any], texts: list[str], rounds: int = 2) -> dict[str, float]:
    for text in texts[:100]:
        check(text)  # warm caches and lazy model loads
    times: list[float] = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            check(text)
            times.append((time.perf_counter() - start) * 1000)
    return percentiles(times)


def long_prompts(rows: list[dict[str, Any]], n: int, size: int = 2000) -> list[str]:
    corpus = " ".join(r["text"] for r in rows)
    rng = random.Random(SEED)
    return [corpus[s:s + size] for s in (rng.randrange(0, len(corpus) - size) for _ in range(n))]


def decisions(guard: Guard, rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {}
    for row in rows:
        key = f"{row['task']}:label{row.get('label', 0)}"
        out.setdefault(key, Counter())[guard.check_input(row["text"][:2000]).action] += 1
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def model_digests() -> dict[str, str]:
    """Which trained models were measured (the working tree's, committed or not)."""
    models = ROOT / "src" / "assay" / "validators" / "models"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:16]
            for p in sorted(models.glob("*.npz"))}


def main() -> int:
    load_before = os.getloadavg()
    rows = dev_rows()
    rng = random.Random(SEED)
    sample = rng.sample(rows, min(N_DEV, len(rows)))
    dev_texts = [r["text"][:2000] for r in sample]
    long_texts = long_prompts(rows, N_LONG)
    guard = Guard.default()
    empty = Guard.from_yaml("version: 1\n")

    def noop(text: str) -> None:
        return None

    latency: dict[str, Any] = {}
    for name, texts in (("dev_prompts", dev_texts), ("prompts_2000_chars", long_texts)):
        latency[name] = {
            "baseline_noop": measure(noop, texts),
            "baseline_empty_policy": measure(empty.check_input, texts),
            "default_policy": measure(guard.check_input, texts),
        }
    with tempfile.TemporaryDirectory() as tmp:
        workspace = init_workspace(Path(tmp) / "ws")
        batcher = Batcher(workspace.ledger, spill_dir=workspace.spill_dir)
        sinked = Guard.default(on_decision=LedgerSink(batcher, system="bench"))
        latency["prompts_2000_chars"]["default_policy_with_ledger_sink"] = measure(
            sinked.check_input, long_texts, rounds=1)
        batcher.close()
        entries = workspace.ledger.size()
        workspace.close()
    # Three *different* 100,000-character inputs (the same text thrice would hit the
    # per-text caches after the first): as shipped (50 ms budget; these mixed texts hold
    # secrets/invisible characters, so tier 0 blocks and the models are skipped) and, below,
    # with no budget on benign text, so the whole default policy runs (the <= 200 ms target).
    corpus = " ".join(r["text"] for r in sample) * 3
    huges = [corpus[k * 7919:k * 7919 + 100_000] for k in range(3)]
    huge_verdicts = [guard.check_input(h) for h in huges]
    # Benign texts only, so no tier-0 validator blocks and the engine's early stop does not
    # skip the linear models: the worst case for a legitimate long document.
    unbounded = Guard.from_yaml(default_policy_text().replace("latency_budget_ms: 50",
                                                              "latency_budget_ms: null"))
    benign = " ".join(r["text"] for r in rows if r["task"] == "benign") * 2
    huges_nb = [benign[k * 7919:k * 7919 + 100_000] for k in range(3)]
    nb_verdicts = [unbounded.check_input(h) for h in huges_nb]
    report: dict[str, Any] = {
        "command": ".venv/bin/python bench/guard.py",
        "machine": f"{platform.machine()} {platform.python_version()}",
        "seed": SEED,
        "load_average_1m": {"before": round(load_before[0], 2),
                            "after": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()},
        "models_sha256_16": model_digests(),
        "dev_prompt_chars_median": sorted(len(t) for t in dev_texts)[len(dev_texts) // 2],
        "latency_ms": latency,
        "budget_ms": BUDGET,
        "budget_met": {name: all(latency[name]["default_policy"][k] <= v
                                 for k, v in BUDGET.items()) for name in latency},
        "ledger_entries_written": entries,
        "input_100k_chars": {"total_ms": [round(v.total_ms, 1) for v in huge_verdicts],
                             "action": huge_verdicts[0].action, "error": huge_verdicts[0].error},
        "input_100k_chars_no_budget": {
            "total_ms": [round(v.total_ms, 1) for v in nb_verdicts],
            "action": [v.action for v in nb_verdicts],
            "timings_ms": {k: round(x, 1) for k, x in nb_verdicts[0].timings_ms.items()}},
        "default_policy_decisions_on_dev": decisions(guard, rows),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("latency_ms", "budget_met", "input_100k_chars",
                                             "input_100k_chars_no_budget", "load_average_1m")},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
