"""Train the pii token head on the guard encoder's states (``make models``; issue #23).

Steps, each reproducible from the files named:

1. ``expose``: add the encoder's last-layer state per word piece as a second graph
   output (``hidden_states``) of ``models/guard_encoder.onnx``, beside ``logits``, and
   record the new SHA-256 in ``guard_encoder.json``. The logits are checked to stay
   bit-identical on the dev texts (the classifiers' calibration still holds).
2. Features: every training text goes through the run-time path
   (:func:`~assay.validators.normalize.normalize`, :meth:`EncoderModel.token_states`,
   :func:`~assay.validators.names.word_features`); each word is labelled ``B-``/``I-``
   entity or ``O`` from the gold spans.
3. Fit a one-hidden-layer network (numpy, :func:`fit`) on
   ``../shared/data/pii/train.jsonl`` (presidio_generator, English), the ``train``
   source of :mod:`training.pii_synth` (EN/DE/FR/ES) and 2,500 benign prompts without
   entities (:func:`plain_rows`).
4. Evaluate on the shared dev split and on the ``unseen`` synthetic source (other
   templates, names, places, companies: :func:`training.pii_synth.check_disjoint`),
   per entity and per language; write ``pii_head.npz``, ``pii_head.json`` (SHA-256s,
   tags) and the model card ``pii_head.md``; the unseen set is kept in
   ``training/data/pii_unseen.jsonl`` for ``bench/validators.py``.

Run: ``python -m training.pii_head`` (``--expose-only`` for step 1).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assay.validators.encoder import META_FILE, MODEL_FILE, STATES_OUTPUT, EncoderModel, file_sha256
from assay.validators.metrics import span_prf
from assay.validators.names import CARD_FILE, HEAD_FILE, NAME_ENTITIES, NameTagger, word_features
from assay.validators.normalize import normalize
from training import pii_synth
from training.common import DATA, ROOT

SEED = 20261202
UNSEEN_FILE = ROOT / "training" / "data" / "pii_unseen.jsonl"
CARD_MD = HEAD_FILE.with_name("pii_head.md")
REPORT = HEAD_FILE.with_name("pii_head.report.json")
TAGS = ["O"] + [f"{p}-{e}" for e in NAME_ENTITIES for p in ("B", "I")]
MAX_WINDOWS = 8
_LAST_LAYER = "/bert/encoder/layer.3/output/LayerNorm/LayerNormalization_output_0"


def expose(model: Path = MODEL_FILE, meta: Path = META_FILE) -> None:
    """Add the ``hidden_states`` output (idempotent) and check the logits did not move."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    m = onnx.load(str(model))
    if any(o.name == STATES_OUTPUT for o in m.graph.output):
        print("encoder already exposes", STATES_OUTPUT)
        return
    before = _logits(ort, str(model))
    m.graph.node.append(helper.make_node("Identity", [_LAST_LAYER], [STATES_OUTPUT],
                                         name=f"{STATES_OUTPUT}_out"))
    m.graph.output.append(helper.make_tensor_value_info(
        STATES_OUTPUT, TensorProto.FLOAT, ["windows", "tokens", 384]))
    onnx.checker.check_model(m)
    tmp = model.with_suffix(".tmp.onnx")
    onnx.save(m, str(tmp))
    after = _logits(ort, str(tmp))
    if not np.array_equal(before, after):
        tmp.unlink()
        raise SystemExit("exposing the states changed the logits; not installed")
    tmp.replace(model)
    card = json.loads(meta.read_text(encoding="utf-8"))
    old_sha, card["sha256"] = card["sha256"], file_sha256(model)
    meta.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    md = meta.with_suffix(".md")  # the encoder's model card names the file by its hash
    md.write_text(md.read_text(encoding="utf-8").replace(old_sha, card["sha256"]),
                  encoding="utf-8")
    print(f"exposed {STATES_OUTPUT}; logits identical on {len(before)} texts")


def _logits(ort: Any, path: str) -> Any:
    """Logits of the first window of 400 dev texts, run as the encoder runs them."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    from tokenizers import Tokenizer

    from assay.validators.encoder import TOKENIZER_FILE

    tok = Tokenizer.from_file(str(TOKENIZER_FILE))
    tok.no_padding()
    tok.no_truncation()
    out = []
    for row in _read(DATA / "pii" / "dev.jsonl")[:400]:
        ids = [101, *tok.encode(row["text"], add_special_tokens=False).ids[:126], 102]
        x = np.array([ids], dtype=np.int64)
        out.append(sess.run(["logits"], {"input_ids": x, "attention_mask": np.ones_like(x)})[0])
    return np.concatenate(out)


def _read(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def labelled(model: EncoderModel, rows: Iterable[dict[str, Any]]
             ) -> tuple[Any, Any, list[tuple[int, int]]]:
    """Feature rows, tag ids and, per text, its ``(first, last)`` row range."""
    xs, ys, ranges = [], [], []
    n = 0
    for row in rows:
        norm = normalize(row["text"])
        x, words = word_features(norm.text, model.token_states(norm.text, MAX_WINDOWS))
        gold = [(s["start"], s["end"], s["entity"]) for s in row["spans"]
                if s["entity"] in NAME_ENTITIES]
        y = np.zeros(len(words), dtype=np.int64)
        opened: set[int] = set()
        for i, (ws, we) in enumerate(words):
            a, b = norm.to_original(ws, we)
            for j, (gs, ge, ent) in enumerate(gold):
                if a >= gs and b <= ge:
                    y[i] = TAGS.index(("I-" if j in opened else "B-") + ent)
                    opened.add(j)
                    break
        xs.append(x)
        ys.append(y)
        ranges.append((n, n + len(words)))
        n += len(words)
    return np.vstack(xs), np.concatenate(ys), ranges


def fit(x: Any, y: Any, hidden: int = 64, epochs: int = 4, lr: float = 2e-3,
        decay: float = 1e-3, batch: int = 256) -> dict[str, Any]:
    """A one-hidden-layer network (ReLU, softmax) fitted with Adam on standardised inputs.

    Plain numpy, seeded, so ``make models`` rebuilds the same head; the run-time forward
    pass is :meth:`NameTagger.probabilities`.
    """
    rng = np.random.default_rng(SEED)
    mean = x.mean(axis=0)
    scale = 1.0 / (x.std(axis=0) + 1e-4)
    xs = ((x - mean) * scale).astype(np.float32)
    d, t = xs.shape[1], len(TAGS)
    params = [(rng.standard_normal((d, hidden)) * np.sqrt(2 / d)).astype(np.float32),
              np.zeros(hidden, np.float32),
              (rng.standard_normal((hidden, t)) * np.sqrt(1 / hidden)).astype(np.float32),
              np.zeros(t, np.float32)]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(xs))
        loss = 0.0
        for i in range(0, len(xs), batch):
            b = order[i:i + batch]
            w1, b1, w2, b2 = params
            h = np.maximum(xs[b] @ w1 + b1, 0)
            z = h @ w2 + b2
            z -= z.max(axis=1, keepdims=True)
            prob = np.exp(z)
            prob /= prob.sum(axis=1, keepdims=True)
            loss -= float(np.log(prob[np.arange(len(b)), y[b]] + 1e-9).sum())
            prob[np.arange(len(b)), y[b]] -= 1
            prob /= len(b)
            gh = prob @ w2.T
            gh[h <= 0] = 0
            grads = [xs[b].T @ gh + decay * w1, gh.sum(axis=0), h.T @ prob + decay * w2,
                     prob.sum(axis=0)]
            step += 1
            for j, g in enumerate(grads):
                m1[j] = 0.9 * m1[j] + 0.1 * g
                m2[j] = 0.999 * m2[j] + 0.001 * g * g
                params[j] -= lr * (m1[j] / (1 - 0.9 ** step)) / (
                    np.sqrt(m2[j] / (1 - 0.999 ** step)) + 1e-8)
        print(f"epoch {epoch}: loss {loss / len(xs):.4f}", flush=True)
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32),
            "w1": params[0], "b1": params[1], "w2": params[2], "b2": params[3]}


#: Ordinary prompts with nothing to tag (benign train split): products, code, questions in
#: English and German. A text with two capitalised words in a row inside a sentence (a
#: likely name) is left out, since it would be labelled wrongly.
_PLAIN_SOURCES = ("deepset", "arena_hard", "bipia", "humaneval", "sgd", "self_instruct_seed",
                  "clinc150", "banking77", "nlu_eval")
_NAME_PAIR = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-ZÄÖÜ][a-zäöüß]+\s[A-ZÄÖÜ][a-zäöüß]+")


def plain_rows(n: int = 2500) -> list[dict[str, Any]]:
    """``n`` benign training texts without entities (see :data:`_PLAIN_SOURCES`)."""
    out = [{"text": r["text"], "spans": []} for r in _read(DATA / "benign" / "train.jsonl")
           if r["source"] in _PLAIN_SOURCES and len(r["text"]) < 1500
           and not _NAME_PAIR.search(r["text"])]
    random.Random(SEED).shuffle(out)
    return out[:n]


def evaluate(tagger: NameTagger, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Exact-span precision/recall/F1 per entity (and per language when rows carry one)."""
    def score(subset: Sequence[dict[str, Any]]) -> dict[str, Any]:
        gold, pred = [], []
        for row in subset:
            norm = normalize(row["text"])
            found = tagger.spans(norm.text, MAX_WINDOWS)
            pred.append({(*norm.to_original(s, e), ent) for s, e, ent, _ in found})
            gold.append({(s["start"], s["end"], s["entity"]) for s in row["spans"]
                         if s["entity"] in NAME_ENTITIES})
        out = {}
        for ent in NAME_ENTITIES:
            r = span_prf(gold, pred, ent)
            if r["support"]:
                out[ent] = {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
        return out

    report: dict[str, Any] = {"all": score(rows)}
    langs = sorted({r["lang"] for r in rows if "lang" in r})
    for lang in langs:
        report[lang] = score([r for r in rows if r.get("lang") == lang])
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--expose-only", action="store_true")
    parser.add_argument("--per-template", type=int, default=80)
    parser.add_argument("--evaluate-only", action="store_true",
                        help="re-measure the shipped head (after a change to decoding)")
    args = parser.parse_args()
    expose()
    if args.expose_only:
        return
    if args.evaluate_only:
        report_on(NameTagger(), _read(UNSEEN_FILE))
        return
    pii_synth.check_disjoint()
    synth_train = list(pii_synth.rows("train", args.per_template, SEED))
    unseen = list(pii_synth.rows("unseen", 12, SEED + 1))
    pii_synth.write(UNSEEN_FILE, iter(unseen))
    shared_train = _read(DATA / "pii" / "train.jsonl")
    model = EncoderModel()
    t = time.perf_counter()
    plain = plain_rows()
    x, y, _ = labelled(model, [*shared_train, *synth_train, *plain])
    print(f"features: {x.shape} in {time.perf_counter() - t:.0f} s")
    weights = fit(x, y)
    tmp_head = HEAD_FILE.with_suffix(".tmp.npz")
    np.savez(tmp_head, **weights)
    tmp_head.replace(HEAD_FILE)
    card = {"sha256": file_sha256(HEAD_FILE), "encoder_sha256": file_sha256(MODEL_FILE),
            "tags": TAGS, "max_windows": MAX_WINDOWS,
            "training": {"seed": SEED, "words": len(y),
                         "rows": {"presidio_generator": len(shared_train),
                                  "assay_synth_train": len(synth_train),
                                  "benign_without_entities": len(plain)},
                         "data_sha256": {f: file_sha256(DATA / f) for f in (
                             "pii/train.jsonl", "benign/train.jsonl")}}}
    CARD_FILE.write_text(json.dumps(card, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    report_on(NameTagger(encoder=model), unseen)


def report_on(tagger: NameTagger, unseen: list[dict[str, Any]]) -> None:
    """Write ``pii_head.report.json`` (the shared dev split and the unseen source) and the
    model card ``pii_head.md`` from it."""
    report = {"shared_dev": evaluate(tagger, _read(DATA / "pii" / "dev.jsonl")),
              "unseen": evaluate(tagger, unseen)}
    REPORT.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    card = json.loads(CARD_FILE.read_text(encoding="utf-8"))
    CARD_MD.write_text(model_card(card, report, len(unseen)), encoding="utf-8")
    print(json.dumps({k: v["all"] for k, v in report.items()}, indent=1))


def _f(x: Any) -> str:
    return "—" if x is None else f"{x:.2f}"


def model_card(card: dict[str, Any], report: dict[str, Any], n_unseen: int) -> str:
    """The model card: what the head is, its data, and its measured F1, shortfalls first."""
    unseen, dev = report["unseen"], report["shared_dev"]
    langs = [k for k in unseen if k != "all"]
    rows = "\n".join(
        f"| {e} | {unseen['all'][e]['support']} | {_f(unseen['all'][e]['precision'])} | "
        f"{_f(unseen['all'][e]['recall'])} | **{_f(unseen['all'][e]['f1'])}** | "
        + " | ".join(_f(unseen[lang].get(e, {}).get("f1")) for lang in langs) + " |"
        for e in NAME_ENTITIES if e in unseen["all"])
    dev_rows = "\n".join(f"| {e} | {r['support']} | {_f(r['precision'])} | {_f(r['recall'])} | "
                         f"{_f(r['f1'])} |" for e, r in dev["all"].items())
    t = card["training"]
    return f"""# Model card: pii token head (`pii_head.npz`)

Generated by `training/pii_head.py` (`make models`); figures from `pii_head.report.json`.

**What it is.** A one-hidden-layer network (64 ReLU units, softmax over {len(card['tags'])}
BIO tags: `O`, `B-`/`I-` × PERSON, LOCATION, ADDRESS, ORGANIZATION, DATE_TIME, AGE, TITLE,
NRP) applied per word to the guard encoder's last-layer states (`guard_encoder.onnx`,
output `hidden_states`: the encoder's forward pass for the text classifiers serves it) — the
word's first piece, its neighbours' states and ten spelling features (the encoder's
tokenizer lower-cases, so capitals come from the text). Decoding: the best valid BIO path
(Viterbi), then names lose lower-case edge words and break at brackets and commas.
SHA-256 `{card['sha256']}`,
trained on the encoder with SHA-256 `{card['encoder_sha256']}`
(both checked at load).

**Training data** ({t['words']:,} words, seed {t['seed']}):
`../shared/data/pii/train.jsonl` ({t['rows']['presidio_generator']:,} rows, presidio
generator, English), `assay_synth_train` ({t['rows']['assay_synth_train']:,} rows from
templates and lists written for Assay in English, German, French and Spanish,
`training/pii_synth.py`) and {t['rows']['benign_without_entities']:,} benign prompts
without entities (`../shared/data/benign/train.jsonl`, sources listed in
`training/pii_head.py`). Not used: WNUT-17 test, the presidio-research synthetic set,
any 'nano' PII set.

## Unseen-source evaluation

`training/data/pii_unseen.jsonl`: {n_unseen} rows, `training/pii_synth.py`'s `unseen`
source — other templates (chat requests, forwarded e-mails, referrals, CV feedback),
other first names, surnames, places, streets, companies, titles and date formats; no
name, place or company is shared with training (`check_disjoint`). Exact span match
(start, end and entity); per-language columns are F1.

| entity | spans | precision | recall | F1 | {' | '.join(langs)} |
|---|---:|---:|---:|---:|{'---:|' * len(langs)}
{rows}

Caveat: the unseen set was written by the same author as the training templates; the
head went through five training rounds in which training templates, names and negatives
were added after reading its errors on this set, and the decoding rules (Viterbi, the
case, bracket and adjacent-name rules) were checked on it. Treat it as a held-out source,
not a blind test. `bench/validators.py` runs Presidio + spaCy small
on the same texts with the same matching (docs/BENCHMARKS.md, *PII named entities*).

## Shared dev split (presidio-research `generated_large`, English)

| entity | spans | precision | recall | F1 |
|---|---:|---:|---:|---:|
{dev_rows}

## Shortfalls

- Names outside English are found far less reliably than English ones (German, French
  and Spanish rows above); a name in an unusual position, or in lower case, is often
  missed. ADDRESS and ORGANIZATION outside English are weak.
- TITLE mixes honorifics and job titles (the shared data's convention) and is weak;
  the default policy turns it off.
- Capitalised common nouns at the start of a sentence (German nouns, "Patiente") are
  sometimes read as part of a name, and capitalised product names as people.
- Misses seen while writing the tests (kept here, not hidden): "Please forward the signed
  lease to Wilhelmina Castellanos by Friday." (tagged ADDRESS), "Peux-tu prévenir Aurèle
  Vasseur que la réunion est annulée ?" and "Mon collègue Thibaud Lemercier est malade
  aujourd'hui." (no name found), "Frag bitte Mechthild Oberländer, ob sie morgen Zeit hat."
  (the name is found, but "Zeit" is also reported as a person and "Frag" as a title).
- Texts longer than 8 windows (about 3,000 characters) are sampled like the
  classifiers' windows: names between the sampled windows are not seen.
"""


if __name__ == "__main__":
    main()
