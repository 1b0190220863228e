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
    """One hashed n-gram row per text (whole text, no windowing), scaled as at run time."""
    x, _ = unit_features(texts, "text")
    return x


def unit_features(texts: Iterable[str], unit: str) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows of pooled features and, per row, the index of the text it came from.

    ``unit="text"``: one row per whole text; ``"segment"``: one row per
    sentence-like segment (the units the run-time segment head scores).
    Both go through :func:`assay.validators.ngrams.pool`'s code path.
    """
    rows: list[Any] = []
    cols: list[Any] = []
    vals: list[Any] = []
    owner: list[int] = []
    offset = 0
    for i, text in enumerate(texts):
        norm = normalize(text).text
        if unit == "segment":
            p = ngrams.pool(norm, "segment")
            row, index, scale = p.row, p.index, p.scale
        else:
            index, _ = ngrams._occurrences(ngrams.prepare(norm))
            row = np.zeros(index.size, dtype=np.int64)
            scale = np.array([1.0 / np.sqrt(max(index.size, 1))], dtype=np.float32)
        units = int(scale.size)
        rows.append(row + offset)
        cols.append(index)
        vals.append(scale[row])
        owner += [i] * units
        offset += units
    x = sparse.csr_matrix(
        (np.concatenate(vals) if vals else np.zeros(0, np.float32),
         (np.concatenate(rows) if rows else np.zeros(0, np.int64),
          np.concatenate(cols) if cols else np.zeros(0, np.int64))),
        shape=(offset, 1 << ngrams.BITS), dtype=np.float32,
    )
    return x, np.asarray(owner)


def fit(x: sparse.csr_matrix, y: Sequence[int], c: float) -> tuple[np.ndarray, float]:
    """Class-balanced L2 logistic regression; returns (weights, bias)."""
    clf = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=200,
                             random_state=SEED)
    clf.fit(x, np.asarray(y))
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0])


@dataclass(frozen=True)
class Heads:
    """Trained weights: a document head and an optional segment head mixed into it."""

    weights: np.ndarray
    bias: float
    seg_weights: np.ndarray | None = None
    seg_bias: float = 0.0
    seg_mix: float = 0.0
    calib: tuple[float, float] = (1.0, 0.0)


def float32_at_most(x: float) -> np.float32:
    """``x`` as the largest float32 <= x: a threshold picked at a dev score must still
    let that score through after storage (rounding up once dropped a dev positive)."""
    y = np.float32(x)
    return y if float(y) <= x else np.nextafter(y, np.float32(-np.inf))


def save(name: str, heads: Heads, threshold: float, directory: Path = MODEL_DIR,
         extra: dict[str, Any] | None = None) -> Path:
    """Write ``<name>.npz`` (float16 weights, compressed, no pickles); ``extra``: more arrays."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.npz"
    arrays: dict[str, Any] = {
        "weights": heads.weights.astype(np.float16), "bias": np.float32(heads.bias),
        "threshold": float32_at_most(threshold), "bits": np.int32(ngrams.BITS),
        "version": np.int32(2), "calib": np.asarray(heads.calib, dtype=np.float32),
    }
    if heads.seg_weights is not None:
        arrays.update(seg_weights=heads.seg_weights.astype(np.float16),
                      seg_bias=np.float32(heads.seg_bias), seg_mix=np.float32(heads.seg_mix))
    np.savez_compressed(path, **arrays, **(extra or {}))
    return path
