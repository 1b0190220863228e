"""Embeddings of training texts with an on-disk cache (the run-time embedder's first window).

Each text is embedded exactly as :func:`assay.validators.embedding.embedding` does at run
time (normalised, first :data:`~assay.validators.embedding.WINDOW_CHARS` characters, at most
256 word pieces); the training scripts use two threads and batches, which give the same
vectors. Cache: ``$ASSAY_EMBED_CACHE`` (default ``/tmp/assay-embed-cache``), one ``.npy``
per list of texts, keyed by the SHA-256 of the texts.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

from assay.validators.embedding import WINDOW_CHARS, Embedder
from assay.validators.normalize import normalize

CACHE = Path(os.environ.get("ASSAY_EMBED_CACHE", "/tmp/assay-embed-cache"))
_EMBEDDER: Embedder | None = None


def embed_texts(texts: list[str]) -> np.ndarray:
    """Unit embeddings (n, 384) of ``texts``' first windows, cached on disk."""
    global _EMBEDDER
    units = [normalize(t).text[:WINDOW_CHARS] for t in texts]
    key = hashlib.sha256("\x00".join(units).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    path = CACHE / f"{key}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    if _EMBEDDER is None:
        _EMBEDDER = Embedder(threads=2)
    t0 = time.time()
    order = sorted(range(len(units)), key=lambda i: len(units[i]))  # batches of similar length
    out = np.zeros((len(units), 384), dtype=np.float32)
    for lo in range(0, len(order), 64):
        idx = order[lo:lo + 64]
        out[idx] = _EMBEDDER.encode([units[i] for i in idx], batch_size=64)
    print(f"  embedded {len(units)} texts in {time.time() - t0:.0f}s", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out, allow_pickle=False)
    return out
