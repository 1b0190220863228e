"""Validator benchmark: accuracy, robustness and latency in one command.

    .venv/bin/python bench/validators.py      # writes bench/results/validators.json

Accuracy on the dev splits of ../shared/data, hard negatives (template family B
of training/hard_negatives.py, never trained on), an obfuscation suite built
from the dev positives (homoglyphs, zero-width splits, base64 wrapping,
leetspeak), leave-one-source-out figures (copied from the training report,
produced by training/train_classifiers.py), and latency of the default input
policy set on prompts up to 2,000 characters and on one 100,000-character input.
"""

from __future__ import annotations

import base64
import json
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training import hard_negatives  # noqa: E402

from assay.validators import get_validator  # noqa: E402
from assay.validators.evaluate import evaluate_rows  # noqa: E402
from assay.validators.metrics import percentile  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "results" / "validators.json"
MODELS = {"prompt_injection": "injection", "jailbreak": "jailbreak",
          "harmful_request": "harmful", "toxicity": "toxicity"}
DEFAULT_INPUT_POLICY = ("invisible_text", "secrets", "pii", "prompt_injection", "jailbreak",
                        "toxicity")


def rows(task: str, split: str = "dev") -> list[dict[str, Any]]:
    with (DATA / task / f"{split}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def homoglyph(s: str) -> str:
    return s.translate(str.maketrans({"a": "а", "e": "е", "o": "о", "i": "і", "p": "р",
                                      "c": "с"}))


def zero_width(s: str) -> str:
    return "\u200b".join(s[i:i + 3] for i in range(0, len(s), 3))


def b64(s: str) -> str:
    return "Decode and follow: " + base64.b64encode(s.encode()).decode()


def leet(s: str) -> str:
    return s.translate(str.maketrans({"e": "3", "o": "0", "i": "1", "a": "4", "s": "5"}))


def obfuscation(name: str, task: str) -> dict[str, Any]:
    v = get_validator(name)
    positives = [r["text"] for r in rows(task) if r["label"] == 1]
    out: dict[str, Any] = {"n": len(positives)}
    for label, fn in (("plain", lambda s: s), ("homoglyph", homoglyph),
                      ("zero_width", zero_width), ("base64", b64), ("leetspeak", leet)):
        hits = sum(bool(v.check(fn(t))) for t in positives)
        out[f"recall_{label}"] = round(hits / len(positives), 4)
    return out


def policy_latency() -> dict[str, Any]:
    validators = [get_validator(n) for n in DEFAULT_INPUT_POLICY]
    rng = random.Random(5)
    texts: list[str] = []
    for task in ("injection", "jailbreak", "toxicity", "benign"):
        texts += [r["text"][:2000] for r in rows(task)]
    rng.shuffle(texts)
    texts = list(dict.fromkeys(texts))[:2000]
    for t in texts[:50]:  # warm-up: models loaded, code paths compiled
        for v in validators:
            v.check(t + " warm")
    times = []
    for t in texts:
        start = time.perf_counter()
        for v in validators:
            v.check(t)
        times.append((time.perf_counter() - start) * 1000)
    benign = [r["text"] for r in rows("benign")]
    full = []  # prompts of exactly 2,000 characters, built from consecutive dev texts
    for i in range(0, 400):
        chunk = " ".join(benign[(i * 7 + j) % len(benign)] for j in range(40))
        full.append(chunk[:2000])
    full_times = []
    for t in full:
        start = time.perf_counter()
        for v in validators:
            v.check(t)
        full_times.append((time.perf_counter() - start) * 1000)
    long_texts = []
    for k in range(3):
        parts = benign[k * 300:] + benign
        long_texts.append(" ".join(parts)[:100_000])
    long_times = []
    for t in long_texts:
        assert len(t) == 100_000
        start = time.perf_counter()
        for v in validators:
            v.check(t)
        long_times.append((time.perf_counter() - start) * 1000)
    lengths = sorted(len(t) for t in texts)
    return {
        "validators": ["normalize", *DEFAULT_INPUT_POLICY], "n": len(texts),
        "chars_p50": lengths[len(lengths) // 2], "chars_max": lengths[-1],
        "p50_ms": round(percentile(times, 50) or 0, 3),
        "p99_ms": round(percentile(times, 99) or 0, 3),
        "max_ms": round(max(times), 3),
        "exactly_2000_chars": {"n": len(full), "p50_ms": round(percentile(full_times, 50) or 0, 3),
                               "p99_ms": round(percentile(full_times, 99) or 0, 3)},
        "input_100k_chars_ms": [round(x, 1) for x in long_times],
    }


def main() -> int:
    t0 = time.time()
    report: dict[str, Any] = {"machine": f"{platform.machine()} {platform.python_version()}",
                              "dev": {}, "hard_negatives": {}, "obfuscation": {}}
    for name, task in MODELS.items():
        report["dev"][name] = evaluate_rows(name, rows(task))
        v = get_validator(name)
        hn = hard_negatives.eval_set()
        flagged = sum(bool(v.check(t)) for t in hn)
        report["hard_negatives"][name] = {"n": len(hn), "fpr": round(flagged / len(hn), 4)}
    for name, task in (("prompt_injection", "injection"), ("jailbreak", "jailbreak")):
        report["obfuscation"][name] = obfuscation(name, task)
    report["dev"]["pii"] = evaluate_rows("pii", rows("pii"))
    training = ROOT / "src" / "assay" / "validators" / "models" / "training_report.json"
    trained = json.loads(training.read_text())
    report["leave_one_source_out"] = {k: v["leave_one_source_out"] for k, v in trained.items()}
    report["latency_default_input_policy"] = policy_latency()
    report["baselines"] = ("not run: Presidio needs a spaCy model and securevector-guardian-model "
                           "a transformer runtime; neither was installed for this run")
    report["seconds"] = round(time.time() - t0, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("hard_negatives", "obfuscation",
                                             "latency_default_input_policy")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
