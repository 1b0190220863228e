"""Named-entity PII for ``pii``: a token head on the guard encoder's states.

Names, places, addresses, organisations, dates, ages, titles and NRP
(nationality, religion, political group) have no checksum or pattern; they are
read from context. The guard encoder (:mod:`assay.validators.encoder`) already
runs on every prompt for the text classifiers, and its forward pass yields the
last layer's state of each word piece; this module applies a small head to those
states, so names cost a matrix product, not a second model (issue #23).

The head (``models/pii_head.npz``: a one-hidden-layer network over each word's
first-piece state and a few features of its spelling, since the encoder's
tokenizer lower-cases) tags each word ``O``, ``B-<entity>`` or ``I-<entity>``;
consecutive words of one entity make a span. It is trained by
``training/pii_head.py`` (``make models``) on the encoder file that ships; its
SHA-256 and the encoder's are checked when it loads (``models/pii_head.json``), so a
tampered head, or a head left over from an earlier encoder, is refused. Its model
card is ``models/pii_head.md``.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from assay.errors import AssayError
from assay.validators import encoder as _encoder
from assay.validators._deps import require_numpy
from assay.validators.encoder import EncoderModel, TokenStates

__all__ = ["HEAD_FILE", "NAME_ENTITIES", "NameTagger", "get_tagger", "word_features"]

_MODELS = Path(__file__).parent / "models"
HEAD_FILE = _MODELS / "pii_head.npz"
CARD_FILE = _MODELS / "pii_head.json"
#: Entities the token head reports.
NAME_ENTITIES: tuple[str, ...] = ("PERSON", "LOCATION", "ADDRESS", "ORGANIZATION", "DATE_TIME",
                                  "AGE", "TITLE", "NRP")
#: Spelling features per word, after the encoder state (see :func:`word_features`).
N_SPELLING = 10
_SENTENCE_END = frozenset(".!?:;\n\"'([{")
_FIX = "reinstall Assay's ml extra or rebuild the head with `make models`"
_CACHE = 256
#: Rows per first-layer product (8 x 1162 x 64 multiply-adds stay under OpenBLAS's threading
#: threshold; see :meth:`NameTagger.probabilities`).
_ROWS = 8
_CASED = frozenset({"PERSON", "LOCATION", "ORGANIZATION"})
_BREAKS = frozenset({"(", ")", "[", "]", "{", "}", ",", ";", "<", ">"})
_TRAILING = frozenset(",;:([{-/ \n\t")


def _shape(word: str) -> list[float]:
    """Casing and character class of one word (the encoder sees lower case only)."""
    alpha = word.isalpha()
    return [float(word[:1].isupper()), float(word.isupper() and len(word) > 1),
            float(any(c.isdigit() for c in word)), float(alpha),
            float(not any(c.isalnum() for c in word)), float(word.islower())]


def _words(text: str, states: TokenStates) -> tuple[list[int], list[tuple[int, int]]]:
    """Index of each word's first piece and the word's ``(start, end)`` in ``text``."""
    first: list[int] = []
    spans: list[tuple[int, int]] = []
    words = states.words.tolist()
    offsets = states.offsets.tolist()
    for i, w in enumerate(words):
        if i and w == words[i - 1]:
            spans[-1] = (spans[-1][0], offsets[i][1])
        else:
            first.append(i)
            spans.append((offsets[i][0], offsets[i][1]))
    return first, spans


def word_features(text: str, states: TokenStates) -> tuple[Any, list[tuple[int, int]]]:
    """The head's input per word and each word's span in the normalised ``text``.

    A row is the word's first-piece state, the previous and the next word's (zeros at the
    ends: a name's surname is read with its first name), then :data:`N_SPELLING` features:
    the word's shape (:func:`_shape`), whether it starts a sentence or line, whether its neighbours
    start with a capital, and the share of capitalised words in the text (a text typed in
    lower case gives capitals no weight). Training (``training/pii_head.py``) calls this
    same function.
    """
    np = require_numpy()
    first, spans = _words(text, states)
    tokens = [text[s:e] for s, e in spans]
    caps = [t[:1].isupper() for t in tokens]
    share = sum(caps) / max(1, sum(t[:1].isalpha() for t in tokens))
    extra = np.zeros((len(spans), N_SPELLING), dtype=np.float32)
    for i, (start, _) in enumerate(spans):
        j = start - 1
        while j >= 0 and text[j] in " \t":  # the character before the word, spaces skipped
            j -= 1
        opens = j < 0 or text[j] in _SENTENCE_END
        extra[i] = [*_shape(tokens[i]), float(opens), float(i > 0 and caps[i - 1]),
                    float(i + 1 < len(caps) and caps[i + 1]), share]
    base = states.states[first].astype(np.float32)
    pad = np.zeros((1, base.shape[1]), dtype=np.float32)
    before_, after_ = np.vstack([pad, base[:-1]]), np.vstack([base[1:], pad])
    return np.hstack([base, before_, after_, extra])[:len(spans)], spans


def _read_card(path: Path) -> dict[str, Any]:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(card.get("sha256"), str) or not isinstance(card.get("encoder_sha256"),
                                                                        str):
            raise TypeError("sha256")
        tags = card["tags"]
        if not isinstance(tags, list) or tags[0] != "O":
            raise TypeError("tags")
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise AssayError(f"The pii token head's card {path} is missing or damaged "
                         f"({type(exc).__name__}); {_FIX}.") from None
    return dict(card)


class NameTagger:
    """The token head: :meth:`spans` tags a normalised text from the encoder's states.

    Thread-safe (numpy reads only; the span cache is locked). Policies with several pii
    rules (one per action) ask for the same text's spans more than once: they are cached.
    """

    def __init__(self, head_path: Path = HEAD_FILE, card_path: Path = CARD_FILE, *,
                 encoder: EncoderModel | None = None) -> None:
        self._np = require_numpy()
        card = _read_card(card_path)
        _encoder.check_model_file(head_path, card["sha256"], "pii token head", card_path)
        # The encoder checked its own file against its card when it loaded: compare the
        # hash it verified rather than reading its 19 MB file a second time at start-up.
        self._encoder = encoder if encoder is not None else _encoder.get_encoder()
        if self._encoder.sha256 != card["encoder_sha256"]:
            raise AssayError(f"The pii token head {head_path} was trained on another guard "
                             f"encoder than the one installed; {_FIX}.")
        with self._np.load(head_path, allow_pickle=False) as z:
            self._w = {k: z[k].astype(self._np.float32) for k in ("mean", "scale", "w1", "b1",
                                                                   "w2", "b2")}
        self.tags: tuple[str, ...] = tuple(card["tags"])
        self.threshold = float(card.get("threshold", 0.5))
        if not self._encoder.has_states:
            raise AssayError("The guard encoder has no token-state output, "
                             f"which the pii token head reads; {_FIX}.")
        self._cache: OrderedDict[tuple[str, int], list[tuple[int, int, str, float]]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def probabilities(self, features: Any) -> Any:
        """Softmax over :attr:`tags` per row of :func:`word_features`.

        The first layer is multiplied :data:`_ROWS` rows at a time: a larger product makes
        OpenBLAS hand the work to its thread pool, which on a busy machine costs tens of
        milliseconds for what one thread does in well under one.
        """
        np, w = self._np, self._w
        x = (features - w["mean"]) * w["scale"]
        h = np.vstack([x[i:i + _ROWS] @ w["w1"] for i in range(0, len(x), _ROWS)])
        h = np.maximum(h + w["b1"], 0.0)
        z = h @ w["w2"] + w["b2"]
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def spans(self, normalized: str, max_windows: int) -> list[tuple[int, int, str, float]]:
        """``(start, end, entity, score)`` in ``normalized``, sorted, non-overlapping."""
        key = (normalized, max_windows)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        states = self._encoder.token_states(normalized, max_windows)
        x, words = word_features(normalized, states)
        found = decode(normalized, words, self.probabilities(x), self.tags) if len(words) else []
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return found


@functools.lru_cache(maxsize=4)
def _transitions(tags: tuple[str, ...]) -> tuple[Any, Any]:
    """Log-penalties of tag pairs and of first tags: ``I-X`` only after ``B-X`` or ``I-X``."""
    np = require_numpy()
    ok = np.ones((len(tags), len(tags)), dtype=bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            ok[:, j] = [t[2:] == tag[2:] and t != "O" for t in tags]
    first = np.array([-1e9 if t.startswith("I-") else 0.0 for t in tags])
    return np.where(ok, 0.0, -1e9), first


def best_path(probs: Any, tags: tuple[str, ...]) -> list[int]:
    """The most probable tag sequence that is valid BIO (Viterbi over per-word log
    probabilities): a surname the head reads as ``I-ADDRESS`` right after a first name's
    ``B-PERSON`` becomes ``I-PERSON`` when that is the better valid reading. When each
    word's most probable tag already makes a valid sequence (most texts), that is it."""
    np = require_numpy()
    penalty, first = _transitions(tags)
    greedy = probs.argmax(axis=1)
    if first[greedy[0]] == 0 and not (penalty[greedy[:-1], greedy[1:]] < 0).any():
        return [int(t) for t in greedy]
    logp = np.log(probs + 1e-9)
    score = logp[0] + first
    back = np.zeros(probs.shape, dtype=np.int64)
    for i in range(1, len(probs)):
        cand = score[:, None] + penalty
        back[i] = cand.argmax(axis=0)
        score = cand.max(axis=0) + logp[i]
    path = [int(score.argmax())]
    for i in range(len(probs) - 1, 0, -1):
        path.append(int(back[i, path[-1]]))
    return path[::-1]


def _follows(found: list[tuple[str, list[int]]], i: int) -> bool:
    """Whether word ``i`` directly follows the last word of the last span found."""
    return found[-1][1][-1] == i - 1


def _spaced(text: str, words: list[tuple[int, int]], i: int) -> bool:
    """Whether only spaces separate word ``i`` from the word before it: two names in a row
    are always separated ("Ana, Luis", "Ana and Luis"), so "Esperanza Villalobos" read as
    two ``B-PERSON`` is one name."""
    return not text[words[i - 1][1]:words[i][0]].strip(" ")


def decode(text: str, words: list[tuple[int, int]], probs: Any,
           tags: tuple[str, ...]) -> list[tuple[int, int, str, float]]:
    """Spans from per-word tag probabilities: the best valid BIO path (:func:`best_path`),
    a span per ``B-X`` and the ``I-X`` words after it (a person, place or organisation also
    takes a ``B-`` of its own kind right after it, :func:`_spaced`); its score is the mean
    probability of its words' tags. Names are written with capitals: a person, place or
    organisation span that has a capitalised word loses lower-case words at its edges
    ("Ilse Lorenz schon"); trailing separators are trimmed."""
    path = best_path(probs, tags)
    rows = probs.tolist()
    found: list[tuple[str, list[int]]] = []
    for i, t in enumerate(path):
        tag = tags[t]
        if tag[2:] in _CASED and text[words[i][0]:words[i][1]] in _BREAKS:
            continue  # "Maître Rousseau (Bosch)": a bracket or comma ends a name
        if found and found[-1][0] == tag[2:] and _follows(found, i) and (
                tag.startswith("I-") or (tag[2:] in _CASED and _spaced(text, words, i))):
            found[-1][1].append(i)
        elif tag != "O":
            found.append((tag[2:], [i]))
    spans = []
    for entity, idx in found:
        if entity in _CASED and any(text[words[i][0]].isupper() for i in idx):
            while idx and text[words[idx[0]][0]].islower():
                idx = idx[1:]
            while idx and text[words[idx[-1]][0]].islower():
                idx = idx[:-1]
        if not idx:
            continue
        start, end = words[idx[0]][0], words[idx[-1]][1]
        while end > start and text[end - 1] in _TRAILING:
            end -= 1
        if end > start:
            score = sum(rows[i][path[i]] for i in idx) / len(idx)
            spans.append((start, end, entity, score))
    return spans


_TAGGER: list[NameTagger] = []
_LOCK = threading.Lock()


def get_tagger() -> NameTagger:
    """The process-wide token head, loaded (and hash-checked) on first use."""
    if not _TAGGER:
        with _LOCK:
            if not _TAGGER:
                _TAGGER.append(NameTagger(HEAD_FILE, CARD_FILE))
    return _TAGGER[0]
