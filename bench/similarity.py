"""How `banned_topics` and `relevance` separate on/off-topic text, embedding vs lexical.

    .venv/bin/python bench/similarity.py     # writes bench/results/similarity.json

banned_topics: five topics (the Do-Not-Answer risk areas in ../shared/data/harmful), each
given as 10 example prompts drawn (seed 7) from harmful/train; positives = the harmful/dev
prompts of those areas, negatives = benign/dev. This is how the default thresholds were
checked: the embedding default is the lowest threshold (of 0.05 steps) with benign/dev FPR
<= 1 %, and the table reports the lexical default (0.35) on the same data.

relevance: 300 benign/dev prompts each paired with another benign/dev prompt (off-topic
pairs): the distribution a `min_similarity` floor is read against (there is no labelled
prompt-response set in ../shared/data).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from assay.validators.metrics import roc_auc, tpr_at_fpr  # noqa: E402
from assay.validators.output_checks import TOPIC_THRESHOLD, BannedTopicsValidator  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "bench" / "results" / "similarity.json"
SEED = 7


def rows(task: str, split: str) -> list[dict[str, object]]:
    with (DATA / task / f"{split}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main() -> int:
    load = os.getloadavg()
    rng = random.Random(SEED)
    train = [r for r in rows("harmful", "train") if r["source"] == "donotanswer"]
    areas = sorted({str(r["category"]) for r in train})
    topics = {a: [str(r["text"]) for r in rng.sample([r for r in train if r["category"] == a],
                                                     10)] for a in areas}
    pos = [str(r["text"]) for r in rows("harmful", "dev")
           if r["source"] == "donotanswer" and r["label"] == 1 and r["category"] in topics]
    neg = [str(r["text"]) for r in rows("benign", "dev")]
    labels = [1] * len(pos) + [0] * len(neg)
    out: dict[str, object] = {"load_average": [round(x, 2) for x in load],
                              "topics": len(topics), "examples_per_topic": 10,
                              "positives": len(pos), "negatives": len(neg)}
    for method in ("embedding", "lexical"):
        v = BannedTopicsValidator(topics=topics, method=method)
        start = time.perf_counter()
        s = [v.score(t) for t in pos + neg]
        ms = (time.perf_counter() - start) * 1000 / len(s)
        s_neg = sorted(s[len(pos):])
        grid = [round(0.05 * i, 2) for i in range(1, 20)]
        fpr = {t: sum(x >= t for x in s_neg) / len(s_neg) for t in grid}
        chosen = min((t for t in grid if fpr[t] <= 0.01), default=None)
        out[method] = {
            "roc_auc": round(roc_auc(s, labels) or 0.0, 4),
            "tpr_at_1pct_fpr": round(tpr_at_fpr(s, labels, 0.01) or 0.0, 4),
            "default_threshold": TOPIC_THRESHOLD[method],
            "at_default": {"recall": round(sum(x >= TOPIC_THRESHOLD[method]
                                               for x in s[:len(pos)]) / len(pos), 4),
                           "fpr": round(fpr.get(TOPIC_THRESHOLD[method], sum(
                               x >= TOPIC_THRESHOLD[method] for x in s_neg) / len(s_neg)), 4)},
            "lowest_threshold_with_fpr_le_1pct": chosen,
            "ms_per_text_incl_embedding": round(ms, 3),
        }
    from assay.validators.output_checks import semantic_similarity, similarity

    prompts = [str(r["text"]) for r in rows("benign", "dev")][:300]
    others = prompts[1:] + prompts[:1]
    rel: dict[str, object] = {}
    for name, fn in (("embedding", semantic_similarity), ("lexical", similarity)):
        off = sorted(fn(a, b) for a, b in zip(prompts, others, strict=True))
        rel[name] = {"off_topic_pairs_p50": round(off[len(off) // 2], 4),
                     "off_topic_pairs_p90": round(off[int(len(off) * 0.9)], 4),
                     "off_topic_pairs_p99": round(off[int(len(off) * 0.99)], 4)}
    out["relevance"] = rel
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
