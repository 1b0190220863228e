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
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from assay.errors import AssayError
from assay.validators._deps import require_numpy
from assay.validators.base import TIER_LINEAR, CheckContext, Finding
from assay.validators.encoded import decode_payloads
from assay.validators.ngrams import BITS, pool
from assay.validators.normalize import normalize

__all__ = ["MODEL_DIR", "LinearModel", "LinearTextValidator", "deleet", "load_model", "views"]

MODEL_DIR = Path(__file__).parent / "models"
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
    return tuple(out)


#: Stop scanning further views once a view is this confident (early exit).
_CONFIDENT = 0.995


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
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z)))), start, end


_CACHE: dict[str, LinearModel] = {}
_LOCK = threading.Lock()


def load_model(name: str, directory: Path | None = None) -> LinearModel:
    """Load ``<name>.npz`` once per process (thread-safe)."""
    key = f"{directory or MODEL_DIR}/{name}"
    model = _CACHE.get(key)
    if model is not None:
        return model
    np = require_numpy()
    path = (directory or MODEL_DIR) / f"{name}.npz"
    if not path.is_file():
        raise AssayError(f"The model file {path} is missing; rebuild it with `make models`.")
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        with np.load(path, allow_pickle=False) as data:
            bits = int(data["bits"])
            if bits != BITS:
                raise AssayError(
                    f"The model {path} was built for {bits}-bit hashing but this version uses "
                    f"{BITS}; rebuild it with `make models`."
                )
            has_seg = "seg_weights" in data.files
            model = LinearModel(
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
        _CACHE[key] = model
    return model


class LinearTextValidator:
    """A validator backed by one :class:`LinearModel`; reports one finding above threshold."""

    tier = TIER_LINEAR

    def __init__(self, name: str, *, threshold: float | None = None, model: str | None = None,
                 model_dir: str | Path | None = None) -> None:
        self.name = name
        self._model = load_model(model or name, Path(model_dir) if model_dir else None)
        self.threshold = self._model.threshold if threshold is None else float(threshold)

    def score(self, text: str, ctx: CheckContext | None = None) -> float:
        """Highest probability over the views of ``text`` (what ROC curves are drawn from)."""
        return self._score_span(text)[0]

    def _score_span(self, text: str) -> tuple[float, tuple[int, int]]:
        norm = normalize(text)
        best = 0.0
        span = (0, len(text))
        for i, view in enumerate(views(norm.text)):
            p, start, end = self._model.score(view)
            if p > best:
                best = p
                span = norm.to_original(start, end) if i == 0 and norm.text else (0, len(text))
            if best >= _CONFIDENT:
                break
        return best, span

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """One finding when the score reaches the threshold."""
        p, span = self._score_span(text)
        if p < self.threshold:
            return []
        return [Finding(self.name, p, self.name, (span,), f"score {p:.3f} >= {self.threshold:.3f}")]
