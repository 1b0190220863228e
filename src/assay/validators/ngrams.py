"""Hashed character and word n-gram features, computed with vectorised numpy.

Why not a tokenizer or Python loops: the default input policy has a 3 ms p50
budget, so features are polynomial rolling hashes over the code points
(prefix sums modulo 2**64), which turn every n-gram and word into a bucket in
a few numpy passes. Training (``training/``) and inference share this module,
so the model files only hold weights, never vocabularies or pickles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from assay.validators._deps import require_numpy

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["BITS", "CHAR_NGRAMS", "WINDOW", "FeatureWindow", "featurize", "prepare"]

#: log2 of the number of hash buckets every model uses.
BITS = 19
CHAR_NGRAMS = (2, 3, 4, 5)
#: Texts longer than this are scored in overlapping 1,000-character windows
#: (max over windows), so one injected paragraph is not diluted by a long document.
WINDOW = 3000
_SPAN = 1000
_STRIDE = 500
_BASE = 0x100000001B3  # odd, hence invertible modulo 2**64
_MIX = 0x9E3779B97F4A7C15
_WORD_SALT = 0x5851F42D4C957F2D
_BIGRAM_SALT = 0x14057B7EF767814F
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class FeatureWindow:
    """L2-normalised feature counts of one window of the text."""

    start: int
    end: int
    index: npt.NDArray[np.int64]
    value: npt.NDArray[np.float32]


def prepare(text: str) -> str:
    """Lower-case and collapse whitespace (normalisation itself happens before)."""
    return " " + _SPACE_RE.sub(" ", text.lower()).strip() + " "


@lru_cache(maxsize=4)
def _powers(n: int) -> tuple[Any, Any]:
    np = require_numpy()
    base = np.full(n, _BASE, dtype=np.uint64)
    base[0] = 1
    inv_val = pow(_BASE, -1, 2**64)
    inv = np.full(n, inv_val, dtype=np.uint64)
    inv[0] = 1
    return np.cumprod(base, dtype=np.uint64), np.cumprod(inv, dtype=np.uint64)


def _bucket(h: Any) -> Any:
    np = require_numpy()
    return ((h * np.uint64(_MIX)) >> np.uint64(64 - BITS)).astype(np.int64)


def _hashes(text: str) -> tuple[Any, Any]:
    """Buckets of every feature and the position (in ``text``) where it starts."""
    np = require_numpy()
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = codes.size
    size = 1 << max(12, (n + 1).bit_length())
    pw, inv = _powers(size)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(codes * pw[:n], out=prefix[1:])
    buckets = []
    positions = []
    for k in CHAR_NGRAMS:
        if n < k:
            continue
        start = np.arange(n - k + 1)
        h = (prefix[k:] - prefix[: n - k + 1]) * inv[: n - k + 1]
        buckets.append(_bucket(h ^ np.uint64(k)))
        positions.append(start)
    is_word = ((codes >= 97) & (codes <= 122)) | ((codes >= 48) & (codes <= 57)) | (codes >= 0xC0)
    edges = np.diff(is_word.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    ws = np.flatnonzero(edges == 1)
    we = np.flatnonzero(edges == -1)
    if ws.size:
        wh = (prefix[we] - prefix[ws]) * inv[ws]
        buckets.append(_bucket(wh ^ np.uint64(_WORD_SALT)))
        positions.append(ws)
        if ws.size > 1:
            bh = wh[:-1] * np.uint64(_BASE) + wh[1:]
            buckets.append(_bucket(bh ^ np.uint64(_BIGRAM_SALT)))
            positions.append(ws[:-1])
    if not buckets:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(buckets), np.concatenate(positions)


def _window(buckets: Any, start: int, end: int) -> FeatureWindow:
    np = require_numpy()
    index, counts = np.unique(buckets, return_counts=True)
    value = counts.astype(np.float32)
    norm = float(np.sqrt(np.dot(value, value))) or 1.0
    return FeatureWindow(start, end, index, value / np.float32(norm))


@lru_cache(maxsize=64)
def featurize(text: str) -> tuple[FeatureWindow, ...]:
    """Feature windows of an already-normalised text (cached: models share them).

    Window offsets refer to positions in ``prepare(text)``, which has one
    leading space; callers map them back with ``max(0, pos - 1)``.
    """
    prepared = prepare(text)
    buckets, positions = _hashes(prepared)
    n = len(prepared)
    if n <= WINDOW:
        return (_window(buckets, 0, n),)
    np = require_numpy()
    order = np.argsort(positions, kind="stable")
    positions, buckets = positions[order], buckets[order]
    windows = []
    for start in range(0, n - _STRIDE, _STRIDE):
        end = min(n, start + _SPAN)
        lo, hi = np.searchsorted(positions, [start, end])
        windows.append(_window(buckets[lo:hi], start, end))
    return tuple(windows)
