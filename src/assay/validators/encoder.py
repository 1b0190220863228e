"""The guard encoder (tier 2): one fine-tuned transformer serves four validators.

``prompt_injection``, ``jailbreak``, ``harmful_request`` and ``toxicity`` are four
heads on one encoder (the first four layers of all-MiniLM-L6-v2, fine-tuned by
``training/guard_encoder.py``), exported to ONNX, quantised to int8 and run with
onnxruntime on one thread. One forward pass per text gives all four logits, and
the result is cached per normalised text, so a policy with all four validators
pays for one run. The same run also yields the last layer's state of every word
piece (:meth:`EncoderModel.token_states`), which the ``pii`` validator's token head
(:mod:`assay.validators.names`) reads instead of running a model of its own.

Texts are normalised (:func:`~assay.validators.normalize.normalize`), cut into
windows of :data:`WINDOW` word pieces, :data:`STRIDE` apart (they overlap), and
the text's logit per task is the maximum over its windows: an instruction planted
anywhere in a long document is seen. Cost is bounded: beyond ``max_windows``
windows, that many are spread evenly over the text (first and last kept), so a
1 MB input costs the same as a ``max_windows``-window one (8 by default: about
3,000 characters of English are scored exhaustively, longer texts in 8 windows spread
over them); the policy's latency
budget and ``on_error`` still apply.

The model file ships in the package (``validators/models/guard_encoder.onnx``)
beside ``guard_encoder.json``, which holds its SHA-256, the calibration of each
head (temperature and bias) and two thresholds per task chosen on the dev splits
and the ordinary-traffic calibration set, never on test data: ``block`` (at most
0.5 % of ordinary prompts) and the lower ``warn``. The hash is checked when the
model loads: a missing, truncated or altered file is one clear error.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from stat import S_ISREG
from typing import Any, Literal

from assay.errors import AssayError
from assay.validators._deps import require_numpy, require_onnxruntime, require_tokenizers
from assay.validators.base import TIER_EMBEDDING, CheckContext, Finding
from assay.validators.linear import sigmoid, views
from assay.validators.normalize import normalize

__all__ = ["MODEL_FILE", "STRIDE", "TASKS", "WINDOW", "EncoderModel", "EncoderValidator",
           "TokenStates", "file_sha256", "get_encoder", "loaded_model_file", "windows"]

_MODELS = Path(__file__).parent / "models"
MODEL_FILE = _MODELS / "guard_encoder.onnx"
META_FILE = _MODELS / "guard_encoder.json"
TOKENIZER_FILE = _MODELS / "minilm-tokenizer.json"
TASKS = ("prompt_injection", "jailbreak", "harmful_request", "toxicity")
#: Word pieces per window, [CLS] and [SEP] included, and the step between windows.
WINDOW = 128
STRIDE = 96
#: Characters tokenised at most (a word piece is at least one character, so
#: ``max_windows * STRIDE * 8`` characters cover every window that can be scored).
_CHARS_PER_PIECE = 8
#: Characters sampled per window from a very long text (about a window of English).
_SPAN_CHARS = 600
#: Characters of text the logits cache may hold as keys.
_CACHE_CHARS = 2_000_000
#: Word pieces whose states the token-state cache may hold (384 float16 each: 24 MiB).
_STATE_TOKENS = 32_768
#: The graph output holding the last layer's state per word piece (``training/pii_head.py``
#: adds it beside ``logits`` without changing them).
STATES_OUTPUT = "hidden_states"
_CLS, _SEP = 101, 102
#: At most this many views of one text are scored (each is a forward pass).
_MAX_VIEWS = 4
_FIX = ("reinstall Assay's ml extra (pip install --force-reinstall 'assay[ml]') "
        "or rebuild the model with `make models`")


def _starts(n: int, limit: int | None) -> list[int]:
    """First piece of each window over ``n`` pieces (see :func:`windows`)."""
    body = WINDOW - 2
    starts = list(range(0, max(1, n - body + STRIDE), STRIDE))
    starts = [s for s in starts if s == 0 or s < n]
    if starts[-1] + body < n:
        starts.append(n - body)
    if limit is not None and len(starts) > limit:
        if limit == 1:
            starts = starts[:1]
        else:
            pick = sorted({round(i * (len(starts) - 1) / (limit - 1)) for i in range(limit)})
            starts = [starts[i] for i in pick]
    return starts


def windows(ids: list[int], limit: int | None) -> list[list[int]]:
    """Windows of at most :data:`WINDOW` pieces (``[CLS] ... [SEP]``), :data:`STRIDE` apart.

    With ``limit``, at most that many, spread evenly (the first and last kept).
    Training cuts the same windows (``training/guard_encoder.py``).
    """
    body = WINDOW - 2
    return [[_CLS, *ids[s:s + body], _SEP] for s in _starts(len(ids), limit)]


@dataclass(frozen=True, slots=True)
class TokenStates:
    """The encoder's last-layer state of each word piece of one normalised text.

    ``offsets[i]`` is piece ``i``'s ``(start, end)`` in the normalised text and
    ``words[i]`` the index of the word it belongs to (the tokenizer's pre-tokenised
    words: punctuation is a word of its own). Where windows overlap, a piece's state
    comes from the window in which it sits further from the edge. ``complete`` is false
    when a long text was sampled (:meth:`EncoderModel.token_states`): only the pieces some
    window saw are listed.
    """

    states: Any  # (pieces, hidden) float16
    offsets: Any  # (pieces, 2) int32
    words: Any  # (pieces,) int32
    complete: bool


@dataclass(frozen=True, slots=True)
class _Cut:
    """A text's windows, where each starts among its pieces, and the pieces' positions."""

    windows: list[list[int]]
    starts: list[int]
    offsets: list[tuple[int, int]]
    words: list[int]
    complete: bool


@dataclass(frozen=True, slots=True)
class _Head:
    """Calibration and thresholds of one task's head (from ``guard_encoder.json``)."""

    scale: float
    shift: float
    block: float
    warn: float


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (how the model card names the model)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_model_file(path: Path, sha256: str, what: str, card: Path) -> None:
    """Refuse a model file that is missing, not a regular file, or not the one ``card`` names
    (its SHA-256): a guard must never run on a model it cannot vouch for."""
    try:
        regular = S_ISREG(path.stat().st_mode)
    except OSError:
        regular = False
    if not regular:
        raise AssayError(f"The {what} {path} is missing; {_FIX}.")
    if file_sha256(path) != sha256:
        raise AssayError(f"The {what} {path} is damaged (its SHA-256 differs from "
                         f"{card.name}); {_FIX}.")


def _read_card(path: Path) -> tuple[str, dict[str, _Head]]:
    """The model's SHA-256 and each head's calibration and thresholds."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        heads = {t: _Head(*(float(meta["heads"][t][k]) for k in ("scale", "shift", "block",
                                                                    "warn")))
                 for t in TASKS}
        sha = meta["sha256"]
        if not isinstance(sha, str):
            raise TypeError("sha256")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssayError(f"The guard encoder's model card {path} is missing or damaged "
                         f"({type(exc).__name__}); {_FIX}.") from None
    return sha, heads


class EncoderModel:
    """The ONNX session, tokenizer and calibration; :meth:`probability` scores a text.

    Thread-safe: onnxruntime sessions and the Rust tokenizer allow concurrent calls;
    the result cache is guarded by a lock.
    """

    def __init__(self, model_path: Path = MODEL_FILE, meta_path: Path = META_FILE,
                 tokenizer_path: Path = TOKENIZER_FILE, *, threads: int = 1,
                 cache_size: int = 512) -> None:
        ort = require_onnxruntime()
        tokenizers = require_tokenizers()
        self._np = require_numpy()
        sha, self.heads = _read_card(meta_path)
        check_model_file(model_path, sha, "guard encoder model", meta_path)
        self.sha256 = sha  # verified: what a head trained on this encoder names
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(str(model_path), sess_options=opts,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own error types
            raise AssayError(f"The guard encoder model {model_path} cannot be loaded "
                             f"({type(exc).__name__}); {_FIX}.") from None
        self._tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        names = [o.name for o in self._session.get_outputs()]
        #: Whether the model file exposes the per-piece states (the pii token head needs them).
        self.has_states = STATES_OUTPUT in names
        self._outputs = ["logits", STATES_OUTPUT] if self.has_states else ["logits"]
        self.runs = 0  # forward passes (texts, not windows), for tests and benchmarks
        # Keyed by the text itself (str caches its hash, so the four heads' lookups are cheap);
        # bounded in entries and in characters held, so long inputs cannot pin megabytes.
        self._cache: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self._cache_size = cache_size
        self._cache_chars = 0
        # The pieces' states, bounded in pieces (a 3,000-character text holds ~750).
        self._states: OrderedDict[tuple[str, int], TokenStates] = OrderedDict()
        self._states_tokens = 0
        self._lock = threading.Lock()

    def logits(self, normalized: str, max_windows: int) -> Any:
        """Raw logits per task (max over windows) of a text already through
        :func:`~assay.validators.normalize.normalize` (which also replaces lone surrogates)."""
        key = (normalized, max_windows)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        return self._run(normalized, max_windows)[0]

    def token_states(self, normalized: str, max_windows: int) -> TokenStates:
        """The last layer's state per word piece of ``normalized``, from the same forward pass
        as :meth:`logits` (cached: when a classifier scored the text, no model runs again).

        Texts longer than ``max_windows`` windows are sampled as :meth:`logits` samples them
        (``complete`` is then false). Needs a model file with the ``hidden_states`` output.
        """
        if not self.has_states:
            raise AssayError(f"The guard encoder model has no {STATES_OUTPUT!r} output, which "
                             f"the pii token head reads; {_FIX}.")
        key = (normalized, max_windows)
        with self._lock:
            hit = self._states.get(key)
            if hit is not None:
                self._states.move_to_end(key)
                return hit
        found = self._run(normalized, max_windows)[1]
        assert found is not None  # has_states
        return found

    def _run(self, normalized: str, max_windows: int) -> tuple[Any, TokenStates | None]:
        """One forward pass over the text's windows; fills both caches."""
        np = self._np
        cut = self._cut(normalized, max_windows)
        wins = cut.windows
        width = max(len(w) for w in wins)
        feed_ids = np.zeros((len(wins), width), dtype=np.int64)
        mask = np.zeros((len(wins), width), dtype=np.int64)
        for i, w in enumerate(wins):
            feed_ids[i, :len(w)] = w
            mask[i, :len(w)] = 1
        outs = self._session.run(self._outputs, {"input_ids": feed_ids, "attention_mask": mask})
        z = outs[0].max(axis=0).astype(np.float64)
        z.setflags(write=False)
        states = self._gather(cut, outs[1]) if self.has_states else None
        key = (normalized, max_windows)
        with self._lock:
            self.runs += 1
            if key not in self._cache:
                self._cache[key] = z
                self._cache_chars += len(normalized)
            while self._cache and (len(self._cache) > self._cache_size
                                   or self._cache_chars > _CACHE_CHARS):
                (old, _), _ = self._cache.popitem(last=False)
                self._cache_chars -= len(old)
            if states is not None and key not in self._states:
                self._states[key] = states
                self._states_tokens += len(states.words)
                while len(self._states) > 1 and self._states_tokens > _STATE_TOKENS:
                    _, dropped = self._states.popitem(last=False)
                    self._states_tokens -= len(dropped.words)
        return z, states

    def _gather(self, cut: _Cut, hidden: Any) -> TokenStates:
        """One state per piece: window ``k`` owns its pieces from the middle of its overlap
        with window ``k - 1`` on (position 0 of a window is ``[CLS]``)."""
        np = self._np
        n = len(cut.offsets)
        out = np.zeros((n, hidden.shape[2]), dtype=np.float16)
        prev_end = 0
        for k, (start, win) in enumerate(zip(cut.starts, cut.windows, strict=True)):
            end = start + len(win) - 2
            own = start if k == 0 or prev_end <= start else start + (prev_end - start) // 2
            out[own:end] = hidden[k, 1 + own - start:1 + end - start]
            prev_end = end
        offsets = np.asarray(cut.offsets, dtype=np.int32).reshape(n, 2)
        words = np.asarray(cut.words, dtype=np.int32)
        if not cut.complete:  # keep the pieces some window saw
            seen = np.zeros(n, dtype=bool)
            for start, win in zip(cut.starts, cut.windows, strict=True):
                seen[start:start + len(win) - 2] = True
            out, offsets, words = out[seen], offsets[seen], words[seen]
        out.setflags(write=False)
        offsets.setflags(write=False)
        words.setflags(write=False)
        return TokenStates(out, offsets, words, cut.complete)

    def _cut(self, text: str, max_windows: int) -> _Cut:
        """Token windows of ``text``; a very long text is sampled in evenly spread spans.

        Up to ``max_windows * STRIDE * 8`` characters the whole text is tokenised and
        cut by :func:`windows`; beyond, ``max_windows`` spans of
        :data:`_SPAN_CHARS` characters spread from the start to the end are tokenised,
        one window each, so the cost does not grow with the length.
        """
        if len(text) <= max_windows * STRIDE * _CHARS_PER_PIECE:
            enc = self._tokenizer.encode(text, add_special_tokens=False)
            ids = list(enc.ids)
            starts = _starts(len(ids), max_windows)
            body = WINDOW - 2
            return _Cut([[_CLS, *ids[s:s + body], _SEP] for s in starts], starts,
                        list(enc.offsets), [w or 0 for w in enc.word_ids],
                        len(_starts(len(ids), None)) <= max_windows)
        last = len(text) - _SPAN_CHARS
        spans = sorted({round(i * last / max(1, max_windows - 1)) for i in range(max_windows)})
        encs = self._tokenizer.encode_batch([text[s:s + _SPAN_CHARS] for s in spans],
                                            add_special_tokens=False)
        wins: list[list[int]] = []
        firsts: list[int] = []
        offsets: list[tuple[int, int]] = []
        words: list[int] = []
        for s, e in zip(spans, encs, strict=True):
            n = min(len(e.ids), WINDOW - 2)
            firsts.append(len(offsets))
            wins.append([_CLS, *e.ids[:n], _SEP])
            offsets.extend((a + s, b + s) for a, b in e.offsets[:n])
            base = (words[-1] + 1) if words else 0
            words.extend(base + (w or 0) for w in e.word_ids[:n])
        return _Cut(wins, firsts, offsets, words, False)

    def text_logits(self, normalized: str, max_windows: int) -> Any:
        """Logits per task, the maximum over the text's views: the text and, when present,
        the de-leetspoken copy, the text read backwards and decoded base64/hex/URL payloads
        (the views the lexical models score too; at most :data:`_MAX_VIEWS`)."""
        np = self._np
        found = [self.logits(view, max_windows) for view in views(normalized)[:_MAX_VIEWS]
                 if view.strip()]
        return found[0] if len(found) == 1 else np.max(found, axis=0)

    def probability(self, task: str, normalized: str, max_windows: int) -> float:
        """Calibrated probability that ``normalized`` belongs to ``task``'s positive class."""
        head = self.heads[task]
        z = float(self.text_logits(normalized, max_windows)[TASKS.index(task)])
        return sigmoid(head.scale * z + head.shift)


_MODEL: EncoderModel | None = None
_MODEL_LOCK = threading.Lock()


def loaded_model_file() -> Path | None:
    """The encoder file this process loaded, if any (readiness checks it is still there)."""
    return MODEL_FILE if _MODEL is not None else None


def get_encoder() -> EncoderModel:
    """The process-wide encoder, loaded (and hash-checked) on first use."""
    global _MODEL
    if _MODEL is None:
        with _MODEL_LOCK:
            if _MODEL is None:
                _MODEL = EncoderModel(MODEL_FILE, META_FILE, TOKENIZER_FILE)
    return _MODEL


class EncoderValidator:
    """One task's head of the shared guard encoder.

    ``level`` picks the calibrated threshold used when the rule gives none:
    ``block`` (at most 0.5 % of ordinary prompts flagged) or the lower ``warn``.
    ``max_windows`` bounds the windows scored per text (see the module doc).
    """

    tier = TIER_EMBEDDING

    def __init__(self, name: str, *, threshold: float | None = None,
                 level: Literal["block", "warn"] = "block", max_windows: int = 8) -> None:
        if name not in TASKS:
            raise AssayError(f"The guard encoder has no head {name!r}; choose one of "
                             + ", ".join(TASKS) + ".")
        if level not in ("block", "warn"):
            raise AssayError(f"level must be 'block' or 'warn', not {level!r}.")
        if not 1 <= int(max_windows) <= 4096:
            raise AssayError("max_windows must be between 1 and 4096.")
        self.name = name
        self._model = get_encoder()
        head = self._model.heads[name]
        default = head.block if level == "block" else head.warn
        self.threshold = default if threshold is None else float(threshold)
        self.max_windows = int(max_windows)

    def score(self, text: str, ctx: CheckContext | None = None) -> float:
        """Calibrated probability (what ROC curves and thresholds are computed from)."""
        norm = normalize(text).text
        if not norm.strip():
            return 0.0
        return self._model.probability(self.name, norm, self.max_windows)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """One finding over the whole text when the score reaches the threshold."""
        p = self.score(text, ctx)
        if p < self.threshold:
            return []
        return [Finding(self.name, p, self.name, ((0, len(text)),),
                        f"score {p:.3f} >= {self.threshold:.3f}")]
