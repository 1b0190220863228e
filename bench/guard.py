"""Guard engine benchmark: the default input policy end to end through ``Guard.check_input``.

    .venv/bin/python bench/guard.py        # writes bench/results/guard.json

Latency (p50/p99, in process, one thread) on the dev prompts of every task in
../shared/data (first release and v2) of at most 500 characters and on prompts of
exactly 2,000 characters cut from the same texts, next to three baselines measured
in the same run: a no-op call (the harness), a guard with an empty policy (the
engine's own overhead) and the previous default policy built on the lexical
models (``*_lexical``). Also: resident memory of a process holding the default
guard, the default policy with a LedgerSink attached (the hot path only enqueues
evidence), 100,000-character inputs, and what both policies decide on each dev
split and on the ordinary-traffic calibration set (training/eval/ordinary.txt).
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
#: DESIGN.md budgets: prompts up to 500 characters, and prompts of 2,000 characters.
BUDGET = {"prompts_up_to_500_chars": {"p50": 5.0, "p99": 15.0},
          "prompts_2000_chars": {"p50": 15.0, "p99": 50.0}}
#: The default input policy before the guard encoder, on the lexical models.
LEXICAL_POLICY = """version: 1
input:
  - {validator: invisible_text, action: block}
  - {validator: secrets, action: block}
  - {validator: pii, action: redact}
  - {validator: prompt_injection_lexical, action: block}
  - {validator: jailbreak_lexical, action: block}
  - {validator: toxicity_lexical, action: warn}
on_error: block
latency_budget_ms: 50
"""


def dev_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for task in TASKS:
        for path in sorted((DATA / task).glob("dev*.jsonl")):
            with path.open(encoding="utf-8") as fh:
                rows += [{"task": task, **json.loads(line)} for line in fh if line.strip()]
    return rows


def ordinary_prompts() -> list[str]:
    path = ROOT / "training" / "eval" / "ordinary.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.split("\t", 1)[1].replace("\\n", "\n") for ln in lines
            if ln.strip() and not ln.startswith("#")]


def resident_mb() -> float:
    """Peak resident memory of a fresh process that loads the default guard and checks once."""
    import subprocess

    src = str(ROOT / "src")
    # VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across fork and execve, so a
    # child of this (large) process would report the parent's peak.
    code = (f"import sys; sys.path.insert(0, {src!r})\n"
            "from assay.guard import Guard\n"
            "g = Guard.default()\n"
            "g.check_input('How do I reset my password?')\n"
            "g.check_input('word ' * 2000)\n"
            "status = open('/proc/self/status').read()\n"
            "print(status.split('VmHWM:')[1].split()[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    return round(int(out.strip().splitlines()[-1]) / 1024, 1)


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
            for p in sorted([*models.glob("*.npz"), *models.glob("*.onnx")])}


def main() -> int:
    load_before = os.getloadavg()
    rows = dev_rows()
    rng = random.Random(SEED)
    sample = rng.sample(rows, min(N_DEV, len(rows)))
    dev_texts = [r["text"] for r in sample if len(r["text"]) <= 500]
    long_texts = long_prompts(rows, N_LONG)
    guard = Guard.default()
    lexical = Guard.from_yaml(LEXICAL_POLICY)
    empty = Guard.from_yaml("version: 1\n")

    def noop(text: str) -> None:
        return None

    latency: dict[str, Any] = {}
    for name, texts in (("prompts_up_to_500_chars", dev_texts),
                        ("prompts_2000_chars", long_texts)):
        latency[name] = {
            "baseline_noop": measure(noop, texts),
            "baseline_empty_policy": measure(empty.check_input, texts),
            "baseline_lexical_policy": measure(lexical.check_input, texts),
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
    ordinary = ordinary_prompts()
    corpus = " ".join(r["text"] for r in sample) * 3
    huges = [corpus[k * 7919:k * 7919 + 100_000] for k in range(3)]
    huge_verdicts = [guard.check_input(h) for h in huges]
    # Benign texts only, so no tier-0 validator blocks and the engine's early stop does not
    # skip the linear models: the worst case for a legitimate long document.
    unbounded = Guard.from_yaml(default_policy_text().replace("latency_budget_ms: 150",
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
                                 for k, v in BUDGET[name].items()) for name in latency},
        "resident_mb_default_guard": resident_mb(),
        "ledger_entries_written": entries,
        "input_100k_chars": {"total_ms": [round(v.total_ms, 1) for v in huge_verdicts],
                             "action": huge_verdicts[0].action, "error": huge_verdicts[0].error},
        "input_100k_chars_no_budget": {
            "total_ms": [round(v.total_ms, 1) for v in nb_verdicts],
            "action": [v.action for v in nb_verdicts],
            "timings_ms": {k: round(x, 1) for k, x in nb_verdicts[0].timings_ms.items()}},
        "default_policy_decisions_on_dev": decisions(guard, rows),
        "lexical_policy_decisions_on_dev": decisions(lexical, rows),
        "ordinary_calibration_set_block_rate": {
            name: round(sum(g.check_input(t).action == "block" for t in ordinary) / len(ordinary),
                        4) for name, g in (("default", guard), ("lexical", lexical))},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("latency_ms", "budget_met", "input_100k_chars",
                                             "input_100k_chars_no_budget", "load_average_1m",
                                             "resident_mb_default_guard",
                                             "ordinary_calibration_set_block_rate")},
                     indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
