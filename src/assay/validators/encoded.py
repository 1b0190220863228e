"""Bounded decode-and-rescan of base64, hex, URL-encoded and ROT13 payloads.

Attackers wrap instructions in encodings a model can read but a filter cannot.
:func:`decode_payloads` finds candidate runs with linear-time patterns, decodes
those that turn into readable text (depth, count and size are capped, so a
hostile input cannot make it expensive), and the ``encoded_payload`` validator
rescans what was decoded with other validators.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from assay.validators.base import TIER_DETERMINISTIC, CheckContext, Finding

__all__ = ["MAX_DEPTH", "DecodedPayload", "EncodedPayloadValidator", "decode_payloads"]


def _words(text: str) -> list[str]:
    return text.split()

MAX_DEPTH = 2
_MAX_PAYLOADS = 16
_MAX_DECODED_CHARS = 65_536
_MAX_CANDIDATE = 65_536

_B64_RE = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,65536}={0,2}")
_HEX_RE = re.compile(r"(?:\\x|0x)?(?:[0-9A-Fa-f]{2}(?:\\x|[ :]?)){8,32768}")
_URL_RE = re.compile(r"(?<![^\s%])[^\s%]*+(?:%[0-9A-Fa-f]{2}[^\s%]*+){2,}")
_WORD_RE = re.compile(r"[a-z]+")
_LOWER_RE = re.compile(r"[a-z]")
_UPPER_RE = re.compile(r"[A-Z]")
_SYMBOL_RE = re.compile(r"[0-9+/=_-]")
#: Necessary condition for a _HEX_RE match (four hex pairs with their separators), with a
#: leading character class the regex engine can scan for quickly; _HEX_RE itself starts
#: with an optional group and is tried at every position.
_HEX_GATE_RE = re.compile(r"[0-9A-Fa-f]{2}(?:[\\x :]{0,2}[0-9A-Fa-f]{2}){3}")
_COMMON = frozenset(_words(
        "the and you that this with for are not all your have from ignore previous "
        "instructions say what tell print reveal system prompt password is of to in it be "
        "as "
    ))
_COMMON_ROT = frozenset(codecs.encode(w, "rot13") for w in _COMMON)


@dataclass(frozen=True, slots=True)
class DecodedPayload:
    """A decoded run: its encoding, its span in the scanned text and the decoded text."""

    encoding: str
    start: int
    end: int
    decoded: str


def _readable(data: bytes) -> str | None:
    if len(data) < 6:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    if printable < 0.95 * len(text):
        return None
    letters = sum(1 for c in text if c.isalpha() or c == " ")
    return text if letters >= 0.6 * len(text) else None


def _b64(token: str) -> str | None:
    if not _LOWER_RE.search(token) or not (
        _SYMBOL_RE.search(token) or _UPPER_RE.search(token)
    ):
        return None
    body = token.rstrip("=")
    padded = body + "=" * (-len(body) % 4)
    try:
        data = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return _readable(data)


def _hex(token: str) -> str | None:
    digits = re.sub(r"\\x|0x|[ :]", "", token)
    if len(digits) % 2:
        digits = digits[:-1]
    try:
        return _readable(bytes.fromhex(digits))
    except ValueError:
        return None


def _common_words(text: str) -> int:
    return sum(1 for w in _WORD_RE.findall(text.lower()) if w in _COMMON)


def _rot13(text: str) -> str | None:
    """ROT13 of ``text`` when it reads much more like English than the original."""
    if len(text) < 12 or len(text) > _MAX_CANDIDATE:
        return None
    if text.isascii():
        # One pass: a word of the rotated text is common iff its rotation is in _COMMON_ROT
        # (ROT13 maps ASCII letters to letters, so the words are the same runs).
        words = _WORD_RE.findall(text.lower())
        before = sum(1 for w in words if w in _COMMON)
        after = sum(1 for w in words if w in _COMMON_ROT)
        if not (after >= 3 and after >= 3 * (before + 1)):
            return None
        return codecs.encode(text, "rot13")
    rotated = codecs.encode(text, "rot13")
    before, after = _common_words(text), _common_words(rotated)
    return rotated if after >= 3 and after >= 3 * (before + 1) else None


def _candidates(text: str) -> Iterator[DecodedPayload]:
    for m in _B64_RE.finditer(text):
        decoded = _b64(m.group(0))
        if decoded:
            yield DecodedPayload("base64", m.start(), m.end(), decoded)
    if _HEX_GATE_RE.search(text) is not None:
        for m in _HEX_RE.finditer(text):
            decoded = _hex(m.group(0))
            if decoded:
                yield DecodedPayload("hex", m.start(), m.end(), decoded)
    if "%" in text:
        for m in _URL_RE.finditer(text):
            token = m.group(0)[:_MAX_CANDIDATE]
            decoded = urllib.parse.unquote(token)
            if decoded != token and _readable(decoded.encode("utf-8")):
                yield DecodedPayload("url", m.start(), m.end(), decoded)
    rotated = _rot13(text)
    if rotated:
        yield DecodedPayload("rot13", 0, len(text), rotated)


@lru_cache(maxsize=64)
def decode_payloads(text: str, depth: int = MAX_DEPTH) -> tuple[DecodedPayload, ...]:
    """Readable payloads hidden in ``text``, recursively to ``depth`` levels, capped in size.

    Spans of nested payloads point at the outermost encoded run.
    """
    out: list[DecodedPayload] = []
    budget = _MAX_DECODED_CHARS
    for payload in _candidates(text):
        if len(out) >= _MAX_PAYLOADS or budget <= 0:
            break
        decoded = payload.decoded[:budget]
        budget -= len(decoded)
        out.append(DecodedPayload(payload.encoding, payload.start, payload.end, decoded))
        if depth > 1:
            for inner in decode_payloads(decoded, depth - 1):
                if len(out) >= _MAX_PAYLOADS:
                    break
                out.append(DecodedPayload(f"{payload.encoding}+{inner.encoding}", payload.start,
                                          payload.end, inner.decoded))
    return tuple(out)


class EncodedPayloadValidator:
    """Flags encoded payloads; scores them by rescanning the decoded text.

    A readable payload alone scores ``base_score`` (encoded prose in a prompt is
    unusual); if a rescan validator flags the decoded text the finding takes
    that validator's score.
    """

    name = "encoded_payload"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, rescan: Sequence[str] = ("secrets",), base_score: float = 0.5,
                 threshold: float = 0.5) -> None:
        from assay.validators.registry import get_validator

        self.threshold = float(threshold)
        self.base_score = float(base_score)
        self._rescan = [get_validator(n) for n in rescan if n != self.name]

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """One finding per readable decoded payload."""
        from assay.validators.normalize import normalize

        norm = normalize(text)
        findings: list[Finding] = []
        for payload in decode_payloads(norm.text):
            score, label = self.base_score, payload.encoding
            for validator in self._rescan:
                for inner in validator.check(payload.decoded, ctx):
                    if inner.score > score:
                        score, label = inner.score, f"{payload.encoding}:{inner.label}"
            if score >= self.threshold:
                span = norm.to_original(payload.start, payload.end)
                preview = payload.decoded[:80].replace("\n", " ")
                findings.append(Finding(self.name, score, label, (span,), f"decodes to: {preview}"))
        return findings
