"""Rounds 5-6 experiments for prompt_injection's TPR at 1 % FPR (train-only data changes).

Each variant trains the run-time model (NB-LR document and segment heads) on
the shipped training set plus one addition and prints dev ROC-AUC, dev TPR at
1 % FPR, and how many benign/dev texts and family-B hard negatives score at or
above the dev cut (the third-highest dev negative). Nothing here writes a model.

    python -m training.injection_experiments base strip negs dupneg jailbreaks concat concatk \
        bipia_balance bipia_balance_seeds direct
"""

from __future__ import annotations

import dataclasses
import random
import sys
import tempfile
import time
from pathlib import Path

from training import hard_negatives
from training import train_classifiers as tc
from training.common import Row, load
from training.injection_direct import TRIVIA

SPEC = tc.SPECS["prompt_injection"]


def stripped_attacks(rows: list[Row]) -> list[str]:
    """deepset train attacks that start with a deepset train benign request, minus it."""
    benign = sorted({r.text.strip() for r in rows if r.label == 0 and r.source == "deepset"},
                    key=len, reverse=True)
    out = []
    for r in rows:
        if r.label != 1 or r.source != "deepset":
            continue
        prefix = next((b for b in benign if r.text.startswith(b) and len(r.text) > len(b) + 10),
                      None)
        if prefix is not None:
            out.append(r.text[len(prefix):].strip(" .?!\n"))
    return out


def other_task_negatives(seed: int = 1234) -> list[str]:
    """Benign text from other tasks' train splits: forum posts, tweets, PII-bearing requests."""
    rng = random.Random(seed)
    tox = [r.text for r in load("toxicity", "train")
           if r.label == 0 and r.source in ("stormfront", "davidson")]
    pii = [r.text for r in load("pii", "train")]
    return rng.sample(tox, 3000) + rng.sample(pii, 2000)


def compositions(rows: list[Row], copies: int) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    labels: list[int] = []
    for i in range(copies):
        t, y = tc.concatenations(rows, hard_negatives.train_set(), seed=1234 + i)
        texts += t
        labels += y
    return texts, labels


class Experiment:
    def __init__(self) -> None:
        self.train_rows = load("injection", "train")
        dev = load("injection", "dev")
        self.dev_texts = [r.text for r in dev]
        self.dev_y = [r.label for r in dev]
        self.benign_dev = [r.text for r in load("benign", "dev")]
        self.hard_eval = hard_negatives.eval_set()
        self.texts, self.labels, _ = tc.training_set(SPEC, self.train_rows)

    def run(self, name: str, texts: list[str], labels: list[int], c: float = 64.0) -> None:
        started = time.time()
        tmp = Path(tempfile.mkdtemp())
        trained = tc.train_heads(self.texts + texts, self.labels + labels, c, True)
        for mix in (0.5, 1.0):
            v = tc.as_validator(f"x_{name}_{int(c)}_{int(mix * 10)}", tc.with_mix(trained, mix),
                                0.5, tmp)
            s = tc.scores(v, self.dev_texts)
            cut = sorted((x for x, y in zip(s, self.dev_y, strict=True) if y == 0),
                         reverse=True)[2]
            benign = sum(x >= cut for x in tc.scores(v, self.benign_dev))
            hard = sum(x >= cut for x in tc.scores(v, self.hard_eval))
            print(f"{name} C={c} mix={mix}: auc={tc.roc_auc(s, self.dev_y):.4f} "
                  f"tpr1={tc.tpr_at_fpr(s, self.dev_y, 0.01):.4f} "
                  f"benign_dev>=cut={benign}/{len(self.benign_dev)} "
                  f"hard>=cut={hard}/{len(self.hard_eval)} ({time.time() - started:.0f}s)",
                  flush=True)




def direct_only() -> None:
    """A model for direct prompts: no BIPIA attacks in training, scored on non-BIPIA dev rows.

    BIPIA's injected instructions are ordinary questions ("What is the capital of Brazil?"):
    attacks inside a document, plain requests from a user. This measures what a separate
    direct-prompt model would gain, against the shipped model on the same rows.
    """
    from assay.validators.linear import LinearTextValidator

    rows = [r for r in load("injection", "train") if not (r.source == "bipia" and r.label == 1)]
    dev = [r for r in load("injection", "dev") if r.source != "bipia"]
    texts, ys = [r.text for r in dev], [r.label for r in dev]
    shipped = [LinearTextValidator("prompt_injection").score(t) for t in texts]
    print(f"{len(dev)} non-BIPIA dev rows, {sum(ys)} positives; shipped model: "
          f"auc={tc.roc_auc(shipped, ys):.4f} tpr1={tc.tpr_at_fpr(shipped, ys, 0.01):.4f}")
    tmp = Path(tempfile.mkdtemp())
    for concat in (False, True):
        spec = dataclasses.replace(SPEC, bipia_diff=False, concat_aug=concat)
        train_texts, labels, _ = tc.training_set(spec, rows)
        for c in (64.0, 256.0):
            trained = tc.train_heads(train_texts, labels, c, True)
            for mix in (0.5, 1.0):
                v = tc.as_validator(f"direct_{int(concat)}_{int(c)}_{int(mix * 10)}",
                                    tc.with_mix(trained, mix), 0.5, tmp)
                s = tc.scores(v, texts)
                negatives = sorted((x for x, y in zip(s, ys, strict=True) if y == 0),
                                   reverse=True)
                cut = negatives[int(0.01 * len(negatives))]
                trivia = sum(x >= cut for x in tc.scores(v, TRIVIA))
                print(f"direct concat={concat} C={c} mix={mix}: auc={tc.roc_auc(s, ys):.4f} "
                      f"tpr1={tc.tpr_at_fpr(s, ys, 0.01):.4f} trivia>=cut={trivia}/10",
                      flush=True)


def main(which: list[str]) -> None:
    e = Experiment()
    rows = e.train_rows
    if "base" in which:
        e.run("base", [], [])
    if "strip" in which:
        extra = stripped_attacks(rows)
        e.run("strip", extra, [1] * len(extra))
    if "negs" in which:
        extra = other_task_negatives()
        e.run("negs", extra, [0] * len(extra))
    if "dupneg" in which:
        dn = [r.text for r in rows if r.label == 0 and r.source == "deepset"]
        for k in (2, 4):
            e.run(f"dupneg{k}", dn * k, [0] * (len(dn) * k))
    if "concat" in which:
        for c in (64.0, 256.0):
            e.run("concat", *compositions(rows, 1), c=c)
    if "jailbreaks" in which:
        extra = [r.text for r in load("jailbreak", "train") if r.label == 1]
        e.run("jailbreaks", extra, [1] * len(extra))
        ct, cl = compositions(rows, 1)
        e.run("jailbreaks+concat", extra + ct, [1] * len(extra) + cl, c=256.0)
    if "bipia_balance" in which:
        # each BIPIA train context appears as 1 clean and (mostly) 4 attacked copies, so its
        # template words lean positive; repeat the clean twins to balance each pair
        clean = [r.text for r in rows if r.source == "bipia" and r.label == 0]
        for k in (1, 3):
            e.run(f"bipia_balance{k}", clean * k, [0] * (len(clean) * k))
        ct, cl = compositions(rows, 1)
        e.run("bipia_balance3+concat", clean * 3 + ct, [0] * (len(clean) * 3) + cl, c=256.0)
    if "bipia_balance_seeds" in which:
        clean = [r.text for r in rows if r.source == "bipia" and r.label == 0]
        for seed in (1235, 1236, 1237):
            ct, cl = tc.concatenations(rows, hard_negatives.train_set(), seed=seed)
            e.run(f"bipia_balance3+concat(seed {seed})", clean * 3 + ct,
                  [0] * (len(clean) * 3) + cl, c=256.0)
    if "direct" in which:
        direct_only()
    if "concatk" in which:
        for k in (2, 3):
            for c in (64.0, 256.0):
                e.run(f"concat{k}", *compositions(rows, k), c=c)


if __name__ == "__main__":
    main(sys.argv[1:])
