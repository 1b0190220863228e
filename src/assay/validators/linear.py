"""Small linear text classifiers over hashed n-grams (tier 1).

Each model is an ``.npz`` file (no pickles) beside a model card in
``validators/models/``: a weight per hash bucket, a bias and the decision
threshold chosen on the dev split, and optionally a *segment head* (weights
trained on sentence-sized units) whose best segment is added to the document
logit, so one injected sentence inside a long benign document is not diluted.
A text is scored as several *views* (the normalised text, a de-leetspoken copy
when it looks leetspoken, and payloads decoded from base64/hex/URL encoding)
and in windows when long; the score is the maximum, so obfuscation and
dilution do not hide an attack. Every window and segment of a view is scored
in one gather + ``bincount`` (:class:`~assay.validators.ngrams.Pooled`).

With ``embedding=True`` a validator whose model has an embedding head
(``<name>.embed.npz``, built by ``training/train_embedding_heads.py``) runs a
cascade: only when the linear logit falls inside the head's uncertainty band is
the shared sentence embedding (:mod:`assay.validators.embedding`) computed, and
the score becomes the stacked logit ``w_lin * z_linear + w_emb * z_head + b``;
outside the band a neutral head logit stands in, so the decision at the
threshold is the one the full stack would make for any head logit within the
band's training range.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG
from typing import Any, TypeVar, cast

from assay.errors import AssayError
from assay.validators._deps import require_numpy
from assay.validators.base import TIER_LINEAR, CheckContext, Finding
from assay.validators.encoded import decode_payloads
from assay.validators.ngrams import BITS, pool
from assay.validators.normalize import normalize

__all__ = ["MODEL_DIR", "EmbeddingHead", "LinearModel", "LinearTextValidator", "ViewScorer",
           "deleet", "linear_model", "load_head", "load_model", "load_once", "loaded_model_files",
           "sigmoid", "views"]

MODEL_DIR = Path(__file__).parent / "models"
#: Scores one view: (probability, start, end of the unit that produced it).
ViewScorer = Callable[[str], tuple[float, int, int]]
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "|": "l", "8": "b", "9": "g"})
_LEET_RE = re.compile(r"[A-Za-z][013457@$!|89]+[A-Za-z]|\b[013457@$][A-Za-z]{2,}")
_LEET_WORD_RE = re.compile(r"\S*[A-Za-z]\S*")


def deleet(text: str) -> str:
    """Undo leetspeak in words that mix letters with digit/symbol look-alikes."""
    return _LEET_WORD_RE.sub(lambda m: m.group(0).translate(_LEET), text)


@lru_cache(maxsize=64)
def views(text: str) -> tuple[str, ...]:
    """The texts a classifier scores for one normalised input (cached: models share them)."""
    out = [text]
    # Long texts get a de-leetspoken view only when leetspeak is dense, not incidental
    # ("4th", "x86"): bounded work on 100,000-character inputs.
    hits = len(_LEET_RE.findall(text)) if len(text) > 3000 else int(bool(_LEET_RE.search(text)))
    if hits and hits >= len(text) // 1000:
        leet = deleet(text)
        if leet != text:
            out.append(leet)
    for payload in decode_payloads(text):
        out.append(normalize(payload.decoded).text)
    if _looks_reversed(text):
        out.append(text[::-1])
    return tuple(out)


_COMMON = frozenset({"the", "and", "you", "all", "your", "to", "of", "is", "it", "this", "that",
                     "for", "in", "with", "are", "be", "me", "my", "now", "what"})
_REVERSED_COMMON = frozenset(w[::-1] for w in _COMMON)
_WORD_RE = re.compile(r"[a-z]+")
#: Reversal is judged on the head of a text (bounded work on long inputs).
_REVERSAL_SAMPLE = 4000


def _looks_reversed(text: str) -> bool:
    """Whether ``text`` reads as English written backwards ("snoitcurtsni suoiverp lla
    erongI", issue #19 item 19): more reversed common words than common words, at least 3."""
    words = _WORD_RE.findall(text[:_REVERSAL_SAMPLE].lower())
    backwards = sum(w in _REVERSED_COMMON for w in words)
    return backwards >= 3 and backwards > sum(w in _COMMON for w in words)


#: Stop scanning further views once a view is this confident (early exit).
_CONFIDENT = 0.995


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Weights of one logistic-regression head over :mod:`assay.validators.ngrams` features."""

    name: str
    weights: Any
    bias: float
    threshold: float
    seg_weights: Any = None
    seg_bias: float = 0.0
    seg_mix: float = 0.0
    calib_a: float = 1.0
    calib_b: float = 0.0

    def logit(self, text: str) -> tuple[float, int, int]:
        """Logit and the (start, end) unit, in ``text``, that produced it."""
        doc = pool(text, "doc")
        z_doc = doc.logits(self.weights)
        i = int(z_doc.argmax())
        z = float(z_doc[i]) + self.bias
        start, end = int(doc.starts[i]), int(doc.ends[i])
        if self.seg_weights is not None and self.seg_mix:
            seg = pool(text, "segment")
            z_seg = seg.logits(self.seg_weights)
            j = int(z_seg.argmax())
            z += self.seg_mix * (float(z_seg[j]) + self.seg_bias)
            if not (start <= seg.starts[j] < end):
                start, end = int(seg.starts[j]), int(seg.ends[j])
        z = self.calib_a * z + self.calib_b
        return z, max(0, start - 1), min(len(text), max(0, end - 1))

    def score(self, text: str) -> tuple[float, int, int]:
        """Probability and the (start, end) unit, in ``text``, that produced it."""
        z, start, end = self.logit(text)
        return sigmoid(z), start, end


T = TypeVar("T")
_CACHE: dict[tuple[Path, int, int], Any] = {}
_LOCK = threading.Lock()


def load_once(path: Path, missing: str, build: Callable[[Any], T]) -> T:
    """``build(npz data)`` once per file version and process (thread-safe).

    The key includes the file's mtime and size, so a model rewritten at the same path
    (training writes candidates to one scratch directory) is never served stale.
    """
    np = require_numpy()
    try:
        stat = path.stat()
    except OSError:
        raise AssayError(missing) from None
    if not S_ISREG(stat.st_mode):
        raise AssayError(missing)
    key = (path, stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(key)
    if cached is not None:
        return cast(T, cached)
    with _LOCK:
        if key not in _CACHE:
            with np.load(path, allow_pickle=False) as data:
                _CACHE[key] = build(data)
        return cast(T, _CACHE[key])


def loaded_model_files() -> list[Path]:
    """The model files this process has loaded (readiness checks they are still there)."""
    return sorted({key[0] for key in list(_CACHE)})


def load_model(name: str, directory: Path | None = None) -> LinearModel:
    """Load ``<name>.npz`` once per process (thread-safe)."""
    path = (directory or MODEL_DIR) / f"{name}.npz"
    return load_once(path, f"The model file {path} is missing; rebuild it with `make models`.",
                      lambda data: linear_model(name, path, data))


def linear_model(name: str, path: Path, data: Any) -> LinearModel:
    np = require_numpy()
    bits = int(data["bits"])
    if bits != BITS:
        raise AssayError(
            f"The model {path} was built for {bits}-bit hashing but this version uses "
            f"{BITS}; rebuild it with `make models`."
        )
    has_seg = "seg_weights" in data.files
    return LinearModel(
        name=name,
        weights=np.ascontiguousarray(data["weights"], dtype=np.float32),
        bias=float(data["bias"]),
        threshold=float(data["threshold"]),
        seg_weights=(np.ascontiguousarray(data["seg_weights"], dtype=np.float32)
                     if has_seg else None),
        seg_bias=float(data["seg_bias"]) if has_seg else 0.0,
        seg_mix=float(data["seg_mix"]) if has_seg else 0.0,
        calib_a=float(data["calib"][0]) if "calib" in data.files else 1.0,
        calib_b=float(data["calib"][1]) if "calib" in data.files else 0.0,
    )


@dataclass(frozen=True, slots=True)
class EmbeddingHead:
    """A logistic-regression head on the shared embedding, stacked with a linear model.

    ``stack`` = (w_lin, w_emb, bias) over the *raw* linear logit (before the linear
    model's calibration) and the head's logit; ``band`` = the raw linear logits
    [lo, hi) for which the embedding is computed; ``neutral`` = the head logit used
    outside the band.
    """

    weights: Any
    bias: float
    stack: tuple[float, float, float]
    band: tuple[float, float]
    neutral: float
    threshold: float

    def head_logit(self, vec: Any) -> float:
        return float(vec @ self.weights) + self.bias

    def combine(self, z_raw: float, z_head: float) -> float:
        w_lin, w_emb, b = self.stack
        return w_lin * z_raw + w_emb * z_head + b

    def in_band(self, z_raw: float) -> bool:
        return self.band[0] <= z_raw < self.band[1]


def load_head(name: str, directory: Path | None = None) -> EmbeddingHead:
    """Load ``<name>.embed.npz`` once per process."""
    path = (directory or MODEL_DIR) / f"{name}.embed.npz"
    missing = (f"The validator {name!r} has no embedding head ({path} is missing); "
               "set embedding: false or rebuild it with `make models`.")
    return load_once(path, missing, _embedding_head)


def _embedding_head(data: Any) -> EmbeddingHead:
    np = require_numpy()
    return EmbeddingHead(
        weights=np.ascontiguousarray(data["weights"], dtype=np.float32),
        bias=float(data["bias"]),
        stack=(float(data["stack"][0]), float(data["stack"][1]), float(data["stack"][2])),
        band=(float(data["band"][0]), float(data["band"][1])),
        neutral=float(data["neutral"]),
        threshold=float(data["threshold"]),
    )


class LinearTextValidator:
    """A validator backed by one :class:`LinearModel`; reports one finding above threshold."""

    tier = TIER_LINEAR

    def __init__(self, name: str, *, threshold: float | None = None, model: str | None = None,
                 model_dir: str | Path | None = None, embedding: bool = False) -> None:
        self.name = name
        directory = Path(model_dir) if model_dir else None
        self._model = load_model(model or name, directory)
        self._head: EmbeddingHead | None = None
        default = self._model.threshold
        if embedding:
            from assay.validators.embedding import require

            require()
            self._head = load_head(model or name, directory)
            default = self._head.threshold
        self.threshold = default if threshold is None else float(threshold)
        #: texts whose linear score fell inside the head's band (the embedding was needed)
        self.cascaded = 0

    def score(self, text: str, ctx: CheckContext | None = None) -> float:
        """Highest probability over the views of ``text`` (what ROC curves are drawn from)."""
        return self._score_span(text, ctx)[0]

    def _view_scorer(self, text: str, ctx: CheckContext | None) -> ViewScorer:
        """How one view of the normalised ``text`` is scored (subclasses may route)."""
        return self._model.score

    def _score_span(self, text: str, ctx: CheckContext | None = None
                    ) -> tuple[float, tuple[int, int]]:
        norm = normalize(text)
        best = 0.0
        span = (0, len(text))
        unit = (0, len(norm.text))
        scorer = self._view_scorer(norm.text, ctx)
        for i, view in enumerate(views(norm.text)):
            p, start, end = scorer(view)
            if p > best:
                best = p
                span = norm.to_original(start, end) if i == 0 and norm.text else (0, len(text))
                unit = (start, end) if i == 0 else (0, len(norm.text))
            if best >= _CONFIDENT:
                break
        if self._head is None:
            return best, span
        return self._cascade(best, norm.text, unit), span

    def _cascade(self, p: float, text: str, unit: tuple[int, int]) -> float:
        """The stacked score; the embedding is computed only inside the head's band."""
        from assay.validators.embedding import unit_embedding, window_around

        head = self._head
        assert head is not None
        m = self._model
        p = min(max(p, 1e-12), 1.0 - 1e-12)
        z_raw = (math.log(p / (1.0 - p)) - m.calib_b) / m.calib_a
        z_head = head.neutral
        if head.in_band(z_raw):
            self.cascaded += 1
            lo, hi = window_around(text, *unit)
            z_head = head.head_logit(unit_embedding(text[lo:hi]))
        return sigmoid(head.combine(z_raw, z_head))

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """One finding when the score reaches the threshold."""
        p, span = self._score_span(text, ctx)
        if p < self.threshold:
            return []
        return [Finding(self.name, p, self.name, (span,), f"score {p:.3f} >= {self.threshold:.3f}")]
