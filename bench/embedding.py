"""The embedding tier: MiniLM cost, the injection cascade's latency, banned_topics/relevance.

    .venv/bin/python bench/embedding.py     # writes bench/results/embedding.json

MiniLM cost: one `Embedder.encode([text])` per text (one thread, as at run time) on the
first window of 600 dev prompts of every task, p50/p99 and by word-piece count; plus one
1,000-character window. Cascade: `Guard.check_input` with the default input policy and
with the same policy where `prompt_injection` has `embedding: true`, on the dev prompts
(truncated to 2,000 chars), on 600 prompts of exactly 2,000 characters cut from them
(bench/guard.py's sets) and on three 100,000-character inputs (no latency budget).

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
OUT = ROOT / "bench" / "results" / "embedding.json"
SEED = 7


def rows(task: str, split: str) -> list[dict[str, object]]:
    with (DATA / task / f"{split}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _pct(times: list[float]) -> dict[str, float]:
    t = sorted(times)
    return {"p50": round(t[len(t) // 2], 3), "p99": round(t[min(len(t) - 1, int(len(t) * .99))], 3),
            "max": round(t[-1], 3), "n": len(t)}


def minilm_cost() -> dict[str, object]:
    from assay.validators.embedding import WINDOW_CHARS, get_embedder
    from assay.validators.normalize import normalize

    e = get_embedder()
    rng = random.Random(SEED)
    texts: list[str] = []
    for task in ("benign", "injection", "jailbreak", "toxicity", "harmful"):
        texts += [str(r["text"]) for r in rows(task, "dev")]
    units = [normalize(t).text[:WINDOW_CHARS] for t in rng.sample(texts, 600)]
    e.encode(units[:20])
    times: list[float] = []
    buckets: dict[str, list[float]] = {}
    tok = e._tokenizer
    for u in units:
        n = len(tok.encode(u).ids)
        start = time.perf_counter()
        e.encode([u])
        ms = (time.perf_counter() - start) * 1000
        times.append(ms)
        key = ("<=16" if n <= 16 else "17-64" if n <= 64 else "65-128" if n <= 128
               else "129-256")
        buckets.setdefault(key, []).append(ms)
    window = " ".join(texts)[:WINDOW_CHARS]
    w_times = []
    for _ in range(20):
        start = time.perf_counter()
        e.encode([window])
        w_times.append((time.perf_counter() - start) * 1000)
    return {"per_text_ms": _pct(times), "by_word_pieces": {k: _pct(v) for k, v in
                                                          sorted(buckets.items())},
            "window_1000_chars_ms": _pct(w_times)}


def cascade() -> dict[str, object]:
    import importlib.util

    from assay.guard import Guard
    from assay.guard.policy import default_policy_text

    spec = importlib.util.spec_from_file_location("bench_guard", ROOT / "bench" / "guard.py")
    assert spec is not None and spec.loader is not None
    bg = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bg)
    all_rows = bg.dev_rows()
    rng = random.Random(bg.SEED)
    dev_texts = [r["text"][:2000] for r in rng.sample(all_rows, min(bg.N_DEV, len(all_rows)))]
    long_texts = bg.long_prompts(all_rows, bg.N_LONG)
    policy = default_policy_text().replace(
        "  - validator: prompt_injection\n    action: block\n",
        "  - validator: prompt_injection\n    action: block\n    embedding: true\n", 1)
    assert "embedding: true" in policy
    nobudget = policy.replace("latency_budget_ms: 150", "latency_budget_ms: null")
    out: dict[str, object] = {}
    for name, text in (("default_policy", default_policy_text()), ("with_cascade", policy)):
        guard = Guard.from_yaml(text)
        res = {"dev_prompts": bg.measure(guard.check_input, dev_texts, rounds=1),
               "prompts_2000_chars": bg.measure(guard.check_input, long_texts, rounds=1)}
        g2 = Guard.from_yaml(nobudget if name == "with_cascade" else default_policy_text()
                             .replace("latency_budget_ms: 150", "latency_budget_ms: null"))
        benign = " ".join(str(r["text"]) for r in rows("benign", "dev"))
        huge = [benign[k * 7919:k * 7919 + 100_000] for k in range(3)]
        times = []
        for t in huge:
            start = time.perf_counter()
            g2.check_input(t)
            times.append(round((time.perf_counter() - start) * 1000, 1))
        res["input_100k_chars_ms"] = times
        out[name] = res
    for step in Guard.from_yaml(policy)._steps["input"]:
        for s_ in step:
            if s_.key == "prompt_injection":
                v = s_.validator
                n = len(dev_texts)
                v.cascaded = 0  # type: ignore[attr-defined]
                for t in dev_texts:
                    v.check(t)
                out["dev_prompts_in_band"] = round(v.cascaded / n, 4)  # type: ignore[attr-defined]
                v.cascaded = 0  # type: ignore[attr-defined]
                for t in long_texts:
                    v.check(t)
                out["prompts_2000_chars_in_band"] = round(
                    v.cascaded / len(long_texts), 4)  # type: ignore[attr-defined]
    return out


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
    out["minilm_cost"] = minilm_cost()
    out["cascade"] = cascade()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
