"""Invisible and deceptive characters: zero-width, bidi controls, tag characters, homoglyphs.

Unicode tag characters (U+E0000 block) can smuggle a whole ASCII instruction
that renders as nothing ("ASCII smuggling"); the finding decodes it. Bidi
overrides reorder what a reviewer sees (Trojan Source). Homoglyphs are reported
only inside words that mix scripts, so ordinary Greek or Cyrillic text is fine.
"""

from __future__ import annotations

import re

from assay.validators.base import TIER_DETERMINISTIC, CheckContext, Finding
from assay.validators.normalize import CONFUSABLES, INVISIBLE_RE

__all__ = ["InvisibleTextValidator"]

_RUN_RE = re.compile(INVISIBLE_RE.pattern + "+")
_TAG_RE = re.compile("[\U000e0000-\U000e007f]+")
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
_WORD_RE = re.compile(r"\w{2,64}")
_LATIN_RE = re.compile(r"[A-Za-z]")
_CONFUSABLE_RE = re.compile("[" + "".join(sorted(CONFUSABLES)) + "]")


class InvisibleTextValidator:
    """Flags hidden characters (score 1.0 for tag/bidi, ``zero_width_score`` otherwise)."""

    name = "invisible_text"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, zero_width_score: float = 0.8, homoglyph_score: float = 0.7,
                 threshold: float = 0.5) -> None:
        self.zero_width_score = float(zero_width_score)
        self.homoglyph_score = float(homoglyph_score)
        self.threshold = float(threshold)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """Findings for tag characters, bidi controls, zero-width runs and mixed-script words."""
        if text.isascii():
            return []
        findings: list[Finding] = []
        for m in _TAG_RE.finditer(text):
            hidden = "".join(chr(ord(c) - 0xE0000) for c in m.group(0)
                             if 0x20 <= ord(c) - 0xE0000 < 0x7F)
            findings.append(Finding(self.name, 1.0, "tag_characters", (m.span(),),
                                    f"hidden ASCII: {hidden[:120]}"))
        bidi = [m.span() for m in _BIDI_RE.finditer(text)]
        if bidi:
            findings.append(Finding(self.name, 1.0, "bidi_control", tuple(bidi),
                                    f"{len(bidi)} bidi control characters"))
        zero = [m.span() for m in _RUN_RE.finditer(text)
                if not _TAG_RE.fullmatch(m.group(0)) and not _BIDI_RE.search(m.group(0))]
        if zero:
            findings.append(Finding(self.name, self.zero_width_score, "zero_width", tuple(zero),
                                    f"{len(zero)} runs of invisible characters"))
        mixed = [] if _CONFUSABLE_RE.search(text) is None else [
            m.span() for m in _WORD_RE.finditer(text)
            if _LATIN_RE.search(m.group(0)) and _CONFUSABLE_RE.search(m.group(0))]
        if mixed:
            findings.append(Finding(self.name, self.homoglyph_score, "homoglyph", tuple(mixed),
                                    f"{len(mixed)} words mix Latin with look-alike letters"))
        return [f for f in findings if f.score >= self.threshold]
