"""Unicode normalisation done once per text and shared by every validator.

Attackers hide instructions with full-width or mathematical letters, zero-width
splits, bidi controls, Unicode tag characters and Cyrillic/Greek look-alikes.
:func:`normalize` returns NFKC text with invisible characters removed and
common homoglyphs folded to Latin, plus an offset map so that a span found in
the normalised text can be mapped back onto the original (what a redactor cuts).
Pure-ASCII text takes a fast path with no copy and no map.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

__all__ = ["CONFUSABLES", "INVISIBLE_RE", "NormalizedText", "is_invisible", "normalize"]

#: Zero-width and formatting characters, bidi controls, tag characters,
#: variation selectors, soft hyphen and other characters that render as nothing.
_INVISIBLE_CLASS = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001d173-\U0001d17a\U000e0000-\U000e007f"
    "\U000e0100-\U000e01ef"
)
INVISIBLE_RE = re.compile(f"[{_INVISIBLE_CLASS}]")

#: Look-alike letters (Cyrillic, Greek, Armenian, Latin extensions) folded to
#: the ASCII letter they imitate. NFKC already handles full-width, mathematical
#: alphanumerics, circled letters and ligatures; this covers what it leaves.
CONFUSABLES: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j",
    "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y",
    "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ӏ": "l", "ь": "b",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "І": "I", "Ї": "I", "Ј": "J", "К": "K",
    "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X",
    "Ѕ": "S", "Ԁ": "D", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I", "Һ": "H",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ϲ": "c", "ϳ": "j",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Armenian and Latin look-alikes
    "օ": "o", "ս": "u", "ց": "g", "ı": "i", "ȷ": "j", "ʏ": "y", "ᴀ": "A", "ʙ": "B",
    "ᴄ": "C", "ᴅ": "D", "ᴇ": "E", "ɢ": "G", "ʜ": "H", "ɪ": "I", "ᴊ": "J", "ᴋ": "K",
    "ʟ": "L", "ᴍ": "M", "ɴ": "N", "ᴏ": "O", "ᴘ": "P", "ʀ": "R", "ꜱ": "S", "ᴛ": "T",
    "ᴜ": "U", "ᴠ": "V", "ᴡ": "W", "ᴢ": "Z",
}
_CONFUSABLE_RE = re.compile("[" + "".join(sorted(CONFUSABLES)) + "]")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


def is_invisible(ch: str) -> bool:
    """True for a character that renders as nothing (see :data:`INVISIBLE_RE`)."""
    return INVISIBLE_RE.match(ch) is not None


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A normalised view of ``original``.

    ``starts[i]``/``ends[i]`` give the original span that produced normalised
    character ``i``; both are ``None`` when the text needed no change.
    """

    original: str
    text: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None
    invisible: int = 0
    folded: int = 0

    @property
    def changed(self) -> bool:
        """Whether normalisation changed anything."""
        return self.starts is not None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text onto the original text."""
        if self.starts is None or self.ends is None:
            return start, end
        n = len(self.text)
        if n == 0:
            return 0, len(self.original)
        start = min(max(start, 0), n - 1)
        end = min(max(end, start + 1), n)
        return self.starts[start], self.ends[end - 1]


def _clusters(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """Split ``text[lo:hi]`` into base character + combining marks, so NFKC can compose."""
    out: list[tuple[int, int]] = []
    i, n = lo, hi
    combining = unicodedata.combining
    while i < n:
        j = i + 1
        while j < n and combining(text[j]):
            j += 1
        out.append((i, j))
        i = j
    return out


_NON_ASCII_RUN_RE = re.compile(r"[^\x00-\x7f]+")
#: Combining overlays (U+0334-U+0338: tilde, stroke, slash) occur in no orthography.
_OVERLAYS = frozenset(chr(c) for c in range(0x334, 0x339))
_MARK = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
#: A cheap test for stacked marks (the common combining blocks) before the slow path.
_STACK_RE = re.compile("[\u0334-\u0338]|" + _MARK + _MARK)


def _stacked(text: str, i: int, j: int) -> bool:
    """Whether the cluster ``text[i:j]`` hides its base letter under marks ("zalgo" or
    strike-through text, issue #19 item 19): two or more combining marks, or an overlay.
    The validators then read the base letter alone; offsets still cover the cluster."""
    return j - i > 2 or (j - i == 2 and text[i + 1] in _OVERLAYS)


def _fold(text: str, lo: int, hi: int, out: _Builder) -> None:
    """Normalise ``text[lo:hi]`` (a non-ASCII run) cluster by cluster into ``out``."""
    nfkc = unicodedata.normalize
    run = text[lo:hi]
    if (unicodedata.is_normalized("NFKC", run) and INVISIBLE_RE.search(run) is None
            and _CONFUSABLE_RE.search(run) is None and _STACK_RE.search(run) is None):
        out.parts.append(run)  # already clean (e.g. CJK text): map one to one
        out.starts.extend(range(lo, hi))
        out.ends.extend(range(lo + 1, hi + 1))
        return
    for i, j in _clusters(text, lo, hi):
        chunk = nfkc("NFKC", text[i] if _stacked(text, i, j) else text[i:j])
        for ch in chunk:
            if INVISIBLE_RE.match(ch):
                out.invisible += 1
                continue
            rep = CONFUSABLES.get(ch)
            if rep is not None:
                out.folded += 1
                ch = rep
            out.parts.append(ch)
            out.starts.append(i)
            out.ends.append(j)


@dataclass(slots=True)
class _Builder:
    parts: list[str]
    starts: list[int]
    ends: list[int]
    invisible: int = 0
    folded: int = 0


def _slow(text: str) -> NormalizedText:
    """Copy ASCII runs in bulk and normalise only the non-ASCII runs (bounded on long text)."""
    out = _Builder([], [], [])
    pos = 0
    for m in _NON_ASCII_RUN_RE.finditer(text):
        lo, hi = m.start(), m.end()
        if lo > pos and unicodedata.combining(text[lo]):
            lo -= 1  # an ASCII base letter followed by combining marks composes with them
        if lo > pos:
            out.parts.append(text[pos:lo])
            out.starts.extend(range(pos, lo))
            out.ends.extend(range(pos + 1, lo + 1))
        _fold(text, lo, hi, out)
        pos = hi
    if pos < len(text):
        out.parts.append(text[pos:])
        out.starts.extend(range(pos, len(text)))
        out.ends.extend(range(pos + 1, len(text) + 1))
    return NormalizedText(text, "".join(out.parts), tuple(out.starts), tuple(out.ends),
                          out.invisible, out.folded)


@lru_cache(maxsize=256)
def normalize(text: str) -> NormalizedText:
    """Normalise ``text`` (cached, so every validator on the same text shares the work)."""
    if _NON_ASCII_RE.search(text) is None:
        return NormalizedText(text, text)
    if _SURROGATE_RE.search(text) is not None:
        # Lone surrogates (a JSON "\ud800" escape) cannot be encoded: tokenizers, RE2 and
        # hashing raised on them (issue #19 item 12). U+FFFD keeps every offset.
        clean = normalize(_SURROGATE_RE.sub("\ufffd", text))
        return replace(clean, original=text)
    if (
        unicodedata.is_normalized("NFKC", text)
        and INVISIBLE_RE.search(text) is None
        and _CONFUSABLE_RE.search(text) is None
        and _STACK_RE.search(text) is None
    ):
        return NormalizedText(text, text)
    return _slow(text)
