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

__all__ = ["BITS", "CHAR_NGRAMS", "WINDOW", "FeatureWindow", "Pooled", "featurize", "pool",
           "prepare", "segment_bounds"]

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
_NEWLINE_RUN_RE = re.compile(r"\s*\n\s*")
_BLANK_RUN_RE = re.compile(r"[^\S\n]+")
#: Sentence-like boundaries in prepared text: end punctuation, table pipes, role/field colons.
_SEGMENT_RE = re.compile(r"(?<=[.!?;])\s|\n|\|+|\s(?=\w{2,12}:\s)")
#: The same matches as _SEGMENT_RE, each alternative starting with a consumed character
#: (the lookbehind moved after it), so the engine can skip ahead to whitespace or pipes.
_SEGMENT_FAST_RE = re.compile(r"\s(?<=[.!?;]\s)|\n|\|+|\s(?=\w{2,12}:\s)")
_MIN_SEGMENT = 24
#: Cue features: instruction-shaped text, added as extra hashed tokens where they
#: match, so a linear head can weigh "an imperative inside a document" or "a role
#: marker" directly instead of only through the character n-grams around them.
_VERBS = (
    r"ignore|forget|disregard|override|bypass|skip|stop|print|say|write|tell|translate|output|"
    r"reveal|repeat|respond|reply|answer|explain|describe|list|give|generate|create|show|"
    r"summari[sz]e|rewrite|spell|format|act|pretend|imagine|start|begin|make|use|include|add|"
    r"send|return|provide|break down|compose|draft|calculate|convert|ensure|please|now|instead"
)
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("imperative", re.compile(r"(?:^ |[\n.!?|:;] ?)(?:" + _VERBS + r")\b")),
    ("override", re.compile(
        r"\b(?:ignore|forget|disregard|override|bypass|skip|drop)\b[^.\n]{0,40}?"
        r"\b(?:previous|prior|above|earlier|before|all|instructions?|rules?|context|everything)\b")),
    ("role", re.compile(
        r"(?:^ |\n|[.!?|] ?)(?:system|assistant|user|human|ai|instructions?|order|task|new task|"
        r"important|note|admin|developer)\s?:|<\|?(?:im_start|system|endoftext)|\[/?inst\]|###")),
    ("address", re.compile(
        r"\b(?:you are now|you will now|from now on|act as|pretend (?:to be|you are)|"
        r"your (?:new )?(?:instructions|task|role|rules|prompt)|"
        r"new (?:instructions?|statement|task))"
        r"\b")),
    ("target", re.compile(
        r"\b(?:password|pass ?phrase|secret|system prompt|access (?:code|granted)|embeddings|"
        r"the (?:prompt|instructions) above|initial prompt|pre-?prompt)\b")),
)
#: Substrings one of which every match of a cue contains (None: no cheap gate). A cue
#: whose gate is absent cannot match, so its regex is skipped: same features, less work.
_CUE_GATES: tuple[tuple[str, ...] | None, ...] = (
    None,
    ("ignore", "forget", "disregard", "override", "bypass", "skip", "drop"),
    None,
    ("you", "from now on", "act as", "pretend", "new "),
    ("pass", "secret", "prompt", "access", "embeddings", "instructions"),
)
#: "imperative" without its ``^ `` alternative, so it starts with a character class the
#: regex engine scans for; the text-initial case is matched separately (_IMPERATIVE_HEAD).
#: Same matches: the head match is " verb" (no punctuation), so none of the others can
#: start inside it.
_IMPERATIVE_FAST = re.compile(r"[\n.!?|:;] ?(?:" + _VERBS + r")\b")
_IMPERATIVE_HEAD = re.compile(r" (?:" + _VERBS + r")\b")
_CUE_SALT = 0x2545F4914F6CDD1D
_MAX_SEGMENTS = 4096


@dataclass(frozen=True, slots=True)
class FeatureWindow:
    """L2-normalised feature counts of one window of the text."""

    start: int
    end: int
    index: npt.NDArray[np.int64]
    value: npt.NDArray[np.float32]


@lru_cache(maxsize=64)
def prepare(text: str) -> str:
    """Lower-case and collapse whitespace, keeping line breaks (segment boundaries).

    A whitespace run becomes one line break when it contains one, else one
    space. Two plain-string substitutions (no Python callback per run), and
    cached: the document and segment pools of every model share it.
    """
    low = text.lower()
    if "\n" in low:
        low = _NEWLINE_RUN_RE.sub("\n", low)
        low = _BLANK_RUN_RE.sub(" ", low)
    else:
        low = _SPACE_RE.sub(" ", low)
    return " " + low.strip() + " "


@lru_cache(maxsize=4)
def _powers(n: int) -> tuple[Any, Any]:
    np = require_numpy()
    base = np.full(n, _BASE, dtype=np.uint64)
    base[0] = 1
    inv_val = pow(_BASE, -1, 2**64)
    inv = np.full(n, inv_val, dtype=np.uint64)
    inv[0] = 1
    return np.cumprod(base, dtype=np.uint64), np.cumprod(inv, dtype=np.uint64)


def _cue_buckets() -> list[int]:
    np = require_numpy()
    keys = np.array([(_CUE_SALT + i) & (2**64 - 1) for i in range(len(_CUES))], dtype=np.uint64)
    return [int(b) for b in _bucket(keys)]


def _cues(text: str) -> tuple[Any, Any]:
    """Buckets and positions of the cue features (see :data:`_CUES`)."""
    np = require_numpy()
    buckets: list[int] = []
    positions: list[int] = []
    for bucket, (_, pattern), gate in zip(_CUE_BUCKETS(), _CUES, _CUE_GATES, strict=True):
        if gate is not None and not any(g in text for g in gate):
            continue
        if pattern is _CUES[0][1]:  # imperative: the fast equivalent (see _IMPERATIVE_FAST)
            if _IMPERATIVE_HEAD.match(text):
                buckets.append(bucket)
                positions.append(0)
            pattern = _IMPERATIVE_FAST
        for m in pattern.finditer(text):
            buckets.append(bucket)
            positions.append(m.start())
    return np.array(buckets, dtype=np.int64), np.array(positions, dtype=np.int64)


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


@dataclass(frozen=True, slots=True)
class Pooled:
    """A text's n-gram occurrences pooled into units: a sparse units x buckets matrix (COO).

    ``row``/``index`` give the unit and bucket of every occurrence; a unit's
    feature vector is its bucket counts times ``scale`` (1/sqrt(occurrences)),
    so scoring every unit with a weight vector is one gather and one
    ``bincount`` - no per-unit sort, which keeps 100,000-character inputs cheap.

    ``pairs=True`` (the overlapping windows of a long text): ``row`` is the
    500-character *block* of an occurrence and unit ``i`` is blocks ``i`` and
    ``i + 1``, so every occurrence is gathered once, not once per window.
    """

    starts: npt.NDArray[np.int64]
    ends: npt.NDArray[np.int64]
    row: npt.NDArray[np.int64]
    index: npt.NDArray[np.int64]
    scale: npt.NDArray[np.float32]
    pairs: bool = False

    @property
    def size(self) -> int:
        """Number of units."""
        return int(self.starts.size)

    def logits(self, weights: Any) -> Any:
        """``x @ weights`` for every unit (float64 array of length :attr:`size`)."""
        np = require_numpy()
        if self.index.size == 0:
            return np.zeros(self.size)
        if self.size == 1 and not self.pairs:  # one unit (most texts): a plain sum
            total = np.take(weights, self.index).sum(dtype=np.float64)
            return np.array([total * float(self.scale[0])])
        gathered = np.take(weights, self.index).astype(np.float64)
        if self.pairs:
            blocks = np.bincount(self.row, weights=gathered, minlength=self.size + 1)
            return (blocks[:-1] + blocks[1:]) * self.scale
        return np.bincount(self.row, weights=gathered, minlength=self.size) * self.scale


def segment_bounds(prepared: str) -> list[tuple[int, int]]:
    """Sentence-like segments of a prepared text, short ones merged with the next."""
    cuts = [m.end() for m in _SEGMENT_FAST_RE.finditer(prepared)]
    out: list[tuple[int, int]] = []
    start = 0
    for cut in [*cuts, len(prepared)]:
        if cut - start >= _MIN_SEGMENT or cut == len(prepared):
            if cut > start:
                out.append((start, cut))
            start = cut
    if len(out) > 1 and out[-1][1] - out[-1][0] < _MIN_SEGMENT:
        last = out.pop()
        out[-1] = (out[-1][0], last[1])
    if len(out) > _MAX_SEGMENTS:  # bounded work on hostile input: merge neighbours evenly
        step = -(-len(out) // _MAX_SEGMENTS)
        out = [(out[i][0], out[min(i + step, len(out)) - 1][1]) for i in range(0, len(out), step)]
    return out or [(0, len(prepared))]


_CUE_BUCKETS = lru_cache(maxsize=1)(_cue_buckets)


@lru_cache(maxsize=64)
def _occurrences(prepared: str) -> tuple[Any, Any]:
    """Buckets and start positions of every n-gram and cue (unsorted: pooling needs no sort)."""
    np = require_numpy()
    buckets, positions = _hashes(prepared)
    cue_b, cue_p = _cues(prepared)
    return np.concatenate([buckets, cue_b]), np.concatenate([positions, cue_p])


def _scale(row: Any, units: int) -> Any:
    np = require_numpy()
    counts = np.bincount(row, minlength=units).astype(np.float32)
    return (1.0 / np.sqrt(np.maximum(counts, 1.0))).astype(np.float32)


@lru_cache(maxsize=64)
def pool(text: str, unit: str = "doc") -> Pooled:
    """Pool the n-grams of an already-normalised text (cached: models share the work).

    ``unit="doc"``: one unit for texts up to :data:`WINDOW` characters, else
    1,000-character windows with a 500-character stride (so one injected
    paragraph is not diluted by a long document). ``unit="segment"``:
    sentence-like segments (see :func:`segment_bounds`), so one injected
    sentence in a long benign document is scored on its own. Offsets refer to
    ``prepare(text)``, which has one leading space.
    """
    np = require_numpy()
    prepared = prepare(text)
    buckets, positions = _occurrences(prepared)
    n = len(prepared)
    if unit == "segment":
        bounds = segment_bounds(prepared)
        starts = np.fromiter((b[0] for b in bounds), dtype=np.int64, count=len(bounds))
        ends = np.fromiter((b[1] for b in bounds), dtype=np.int64, count=len(bounds))
        row = np.searchsorted(starts, positions, side="right") - 1
        return Pooled(starts, ends, row, buckets, _scale(row, starts.size))
    if n <= WINDOW:
        row = np.zeros(buckets.size, dtype=np.int64)
        one = np.array([0], dtype=np.int64)
        return Pooled(one, np.array([n], dtype=np.int64), row, buckets, _scale(row, 1))
    units = len(range(0, n - _STRIDE, _STRIDE))
    starts = np.arange(units, dtype=np.int64) * _STRIDE
    ends = np.minimum(starts + _SPAN, n)
    # Window i = [i * 500, i * 500 + 1000) = blocks i and i + 1 of 500 characters; the last
    # block index, (n - 1) // 500, equals ``units``, so every occurrence is in some window.
    block = positions // _STRIDE
    counts = np.bincount(block, minlength=units + 1).astype(np.float32)
    pair = counts[:-1] + counts[1:]
    scale = (1.0 / np.sqrt(np.maximum(pair, 1.0))).astype(np.float32)
    return Pooled(starts, ends, block, buckets, scale, pairs=True)
