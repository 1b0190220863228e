"""Shared helpers for the training scripts: data loading, features, fitting, model files.

Features come from :mod:`assay.validators.ngrams` and the normaliser, exactly
as at run time, so a model file holds only weights, a bias and a threshold.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from assay.validators import ngrams
from assay.validators.normalize import normalize

SEED = 1234
ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("ASSAY_TRAINING_DATA", ROOT.parent / "shared" / "data"))
MODEL_DIR = ROOT / "src" / "assay" / "validators" / "models"


@dataclass(frozen=True)
class Row:
    text: str
    label: int
    source: str
    category: str


def load(task: str, split: str) -> list[Row]:
    """Rows of ``<DATA>/<task>/<split>.jsonl``."""
    rows = []
    with (DATA / task / f"{split}.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            rows.append(Row(r["text"], int(r["label"]), r.get("source", ""),
                            r.get("category") or ""))
    return rows


def features(texts: Iterable[str]) -> sparse.csr_matrix:
    """One L2-normalised hashed n-gram row per text (whole text, no windowing)."""
    indptr = [0]
    indices: list[Any] = []
    data: list[Any] = []
    for text in texts:
        prepared = ngrams.prepare(normalize(text).text)
        buckets, _ = ngrams._hashes(prepared)
        win = ngrams._window(buckets, 0, len(prepared))
        indices.append(win.index)
        data.append(win.value)
        indptr.append(indptr[-1] + win.index.size)
    return sparse.csr_matrix(
        (np.concatenate(data) if data else np.zeros(0, np.float32),
         np.concatenate(indices) if indices else np.zeros(0, np.int64), np.array(indptr)),
        shape=(len(indptr) - 1, 1 << ngrams.BITS), dtype=np.float32,
    )


def fit(x: sparse.csr_matrix, y: Sequence[int], c: float) -> tuple[np.ndarray, float]:
    """Class-balanced L2 logistic regression; returns (weights, bias)."""
    clf = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=200,
                             random_state=SEED)
    clf.fit(x, np.asarray(y))
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0])


def save(name: str, weights: np.ndarray, bias: float, threshold: float) -> Path:
    """Write ``<name>.npz`` (float16 weights, compressed, no pickles)."""
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    path = MODEL_DIR / f"{name}.npz"
    np.savez_compressed(path, weights=weights.astype(np.float16), bias=np.float32(bias),
                        threshold=np.float32(threshold), bits=np.int32(ngrams.BITS),
                        version=np.int32(1))
    return path
