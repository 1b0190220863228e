"""Language identification without a model: Unicode scripts plus stop-word profiles.

Why not a model: the check must be cheap and dependency-free. Non-Latin
scripts identify most languages outright; Latin-script text is scored against
short stop-word lists. Texts shorter than ``min_chars`` are not judged.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from assay.validators.base import TIER_DETERMINISTIC, CheckContext, Finding
from assay.validators.normalize import INVISIBLE_RE

__all__ = ["LanguageValidator", "detect_language"]


def _words(text: str) -> list[str]:
    return text.split()

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(_words(
        "the and of to is in that it you for was on are with as be this have not what can "
        "how do my please i "
    )),
    "de": frozenset(_words(
        "der die das und ist nicht ich sie es zu den mit ein eine auf für von wie was "
        "auch dem wir "
    )),
    "fr": frozenset(_words(
        "le la les et est un une des du en que qui dans pour pas sur vous je ne au avec "
        "ce il "
    )),
    "es": frozenset(_words(
        "el la los las y es un una de que en por para con no se lo su del como qué mi yo "
    )),
    "it": frozenset(_words(
        "il lo la gli le e è un una di che per non con del della sono come mi questo io "
    )),
    "pt": frozenset(_words(
        "o a os as e é um uma de que em para com não do da por se como eu você mais "
    )),
    "nl": frozenset(_words(
        "de het een en is van dat niet ik je met op te zijn voor wat hoe er maar "
    )),
    "sv": frozenset(_words(
        "och att det som är en på av för med inte jag du har till den vad hur "
    )),
    "pl": frozenset(_words(
        "i w nie się na to jest że z do co jak ale czy dla jestem tak "
    )),
    "tr": frozenset(_words(
        "ve bir bu da de ne için ile çok ben sen mi değil gibi var "
    )),
}
_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("ja", "[\u3040-\u30ff]"),
    ("ko", "[\uac00-\ud7af\u1100-\u11ff]"),
    ("zh", "[\u4e00-\u9fff]"),
    ("ru", "[\u0400-\u04ff]"),
    ("el", "[\u0370-\u03ff]"),
    ("ar", "[\u0600-\u06ff]"),
    ("he", "[\u0590-\u05ff]"),
    ("hi", "[\u0900-\u097f]"),
    ("th", "[\u0e00-\u0e7f]"),
)
_SCRIPT_RE = {lang: re.compile(p) for lang, p in _SCRIPTS}
_LATIN_RE = re.compile(r"[A-Za-zÀ-ɏ]")
_WORD_RE = re.compile(r"[^\W\d_]+")


def detect_language(text: str) -> tuple[str, float]:
    """``(ISO 639-1 code or "und", confidence in [0, 1])``."""
    sample = text[:4000]
    counts = {lang: len(rx.findall(sample)) for lang, rx in _SCRIPT_RE.items()}
    latin = len(_LATIN_RE.findall(sample))
    if counts["ja"]:
        counts["ja"] += counts["zh"]
    script, n = max(counts.items(), key=lambda kv: kv[1])
    if n > latin:
        return script, min(1.0, n / max(1, n + latin))
    words = [w.lower() for w in _WORD_RE.findall(sample)]
    if not words:
        return "und", 0.0
    hits: Counter[str] = Counter()
    for w in words:
        for lang, stop in _STOPWORDS.items():
            if w in stop:
                hits[lang] += 1
    if not hits:
        return "und", 0.0
    (best, top), *rest = [*hits.most_common(2), ("", 0)]
    runner_up = rest[0][1]
    confidence = min(1.0, (top - runner_up + 1) / (top + 1)) * min(1.0, 4 * top / len(words))
    return best, round(confidence, 3)


class LanguageValidator:
    """Flags text whose detected language is not in ``allowed``."""

    name = "language"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, allowed: Sequence[str] = ("en",), min_chars: int = 20,
                 threshold: float = 0.5) -> None:
        self.allowed = frozenset(a.lower() for a in allowed)
        self.min_chars = min_chars
        self.threshold = float(threshold)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """A finding when a confidently detected language is not allowed."""
        # NFKC and invisible-character removal, but no homoglyph folding: folding
        # would turn Cyrillic or Greek text into Latin look-alikes.
        t = unicodedata.normalize("NFKC", INVISIBLE_RE.sub("", text))
        if len(t.strip()) < self.min_chars:
            return []
        lang, confidence = detect_language(t)
        if lang == "und" or lang in self.allowed or confidence < self.threshold:
            return []
        return [Finding(self.name, confidence, lang, ((0, len(text)),),
                        f"detected {lang}, allowed {sorted(self.allowed)}")]
