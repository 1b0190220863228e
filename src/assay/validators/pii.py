"""Personal data: detection and redaction of identifiers, with checksums where they exist.

Patterns use bounded or possessive quantifiers only, so they run in linear time
on hostile input. Checksummed identifiers (payment cards: Luhn; IBAN: mod 97)
are confirmed before they are reported; weak formats (BIC,
passport and driving-licence numbers) need a nearby keyword.

Names, places, addresses, organisations, dates, ages, titles and NRP
(:data:`NAME_ENTITIES`) come from the token head on the guard encoder
(:mod:`assay.validators.names`); asking for any of them (or ``names=True``) makes
the validator a tier-2 one that reads the encoder's forward pass. On overlap a
checksummed or validated identifier wins; otherwise the higher score wins.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from assay.errors import AssayError
from assay.validators._spans import non_overlapping
from assay.validators.base import TIER_DETERMINISTIC, TIER_EMBEDDING, CheckContext, Finding
from assay.validators.checksums import iban_valid, luhn_valid
from assay.validators.normalize import normalize

__all__ = ["ENTITIES", "NAME_ENTITIES", "PiiValidator", "redact"]

#: Entities of the token head (kept here too so the deterministic path imports no numpy).
NAME_ENTITIES = ("PERSON", "LOCATION", "ADDRESS", "ORGANIZATION", "DATE_TIME", "AGE", "TITLE",
                 "NRP")


@dataclass(frozen=True, slots=True)
class _Rule:
    entity: str
    pattern: re.Pattern[str]
    score: float
    accept: Callable[[str], bool] | None = None
    context: re.Pattern[str] | None = None
    group: int = 0
    #: A cheap necessary condition on the whole text (a regex without the leading
    #: lookbehind, which defeats the regex engine's prefix scan, or a substring):
    #: when it fails the rule cannot match and its pattern is not run.
    gate: Callable[[str], bool] | None = None


def _ssn_ok(s: str) -> bool:
    d = re.sub(r"\D", "", s)
    area, group, serial = d[:3], d[3:5], d[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _ip_ok(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
    except ValueError:
        return False
    return True


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A calendar date written with dots or slashes (15.08.1990, 3/4/2021) is not a phone number.
_DOTTED_DATE_RE = re.compile(r"(?:0?[1-9]|[12]\d|3[01])[./](?:0?[1-9]|1[0-2])[./](?:19|20)?\d\d")


def _phone_ok(s: str) -> bool:
    digits = sum(c.isdigit() for c in s)
    return (6 <= digits <= 15 and _DATE_RE.match(s) is None
            and _DOTTED_DATE_RE.fullmatch(s) is None)


_OBFUSCATED_AT = r"\s?[\[({<]\s?(?i:at)\s?[\])}>]\s?"
_OBFUSCATED_DOT = r"(?:\.|\s?[\[({<]\s?(?i:dot)\s?[\])}>]\s?)"
_B = r"(?<![\w.+-])"  # left boundary
_E = r"(?![\w@])"  # right boundary
_NINO_CTX = re.compile(r"(?i)\b(?:national\s+insurance|NI\s+number|NINO)\b")
_BIC_CTX = re.compile(r"(?i)\b(?:BIC|SWIFT)\b")
_PASSPORT_CTX = re.compile(r"(?i)\bpass(?:port)?\b")
_DL_CTX = re.compile(r"(?i)\b(?:driv\w*\s*licen[cs]e|DL|licen[cs]e\s*(?:no|number|#))\b")

def _search(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern)
    return lambda text: compiled.search(text) is not None


def _any_caseless(*words: str) -> Callable[[str], bool]:
    """Gate for a case-insensitive context keyword: same ``(?i)`` semantics, stops at the
    first hit (no copy of a long text)."""
    compiled = re.compile("(?i)" + "|".join(words))
    return lambda text: compiled.search(text) is not None


_RULES: tuple[_Rule, ...] = (
    _Rule("EMAIL_ADDRESS", re.compile(
        r"(?:(?<=\\[nrt])|(?<![\\\w.+-]))[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![\w])"),
        0.99, gate=lambda text: "@" in text),
    # an address written to dodge filters: jane [at] example [dot] com, jane(at)example.com
    _Rule("EMAIL_ADDRESS", re.compile(
        r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}" + _OBFUSCATED_AT
        + r"(?:[A-Za-z0-9-]{1,63}" + _OBFUSCATED_DOT + r"){1,8}[A-Za-z]{2,24}(?![\w])"),
        0.9, gate=_any_caseless(r"[\[({<]\s?at\s?[\])}>]")),
    # groups of four digits may also be joined by dots (4539.1488.0343.6467)
    _Rule("CREDIT_CARD", re.compile(
        _B + r"(?:(?:\d[ -]?){11,18}\d|\d{4}(?:\.\d{4}){2,3}(?:\.\d{1,3})?)"
        + r"(?![\w@]|\.\d)"), 0.95, luhn_valid, gate=_search(r"\d[\d .-]{10,}\d")),
    _Rule("IBAN_CODE", re.compile(
        r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]{11,30}"
        r"|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,3})?)(?![A-Za-z0-9])"), 0.97,
        iban_valid, gate=_search(r"[a-zA-Z][a-zA-Z]\d\d")),
    _Rule("US_SSN", re.compile(_B + r"\d{3}-\d{2}-\d{4}" + _E), 0.9, _ssn_ok,
          gate=_search(r"\d{3}-\d{2}-\d{4}")),
    _Rule("UK_NINO", re.compile(
        r"(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
        r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"), 0.85, None, None,
        gate=_search(r"[A-Z]{2} ?\d{2}")),
    # Each alternative starts with a consumed character class and checks its left boundary
    # right after it ((?<![\w.:]\d) = "the digit just read follows no [\w.:]"): the same
    # matches as a leading lookbehind, but the engine can skip ahead to candidate characters.
    _Rule("IP_ADDRESS", re.compile(
        r"\d(?<![\w.:]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w.])"
        r"|[0-9A-Fa-f](?<![\w:][0-9A-Fa-f])[0-9A-Fa-f]{0,3}:(?:[0-9A-Fa-f]{1,4}:){1,6}"
        r"(?::|[0-9A-Fa-f]{1,4})(?![\w:])"
        r"|[0-9A-Fa-f](?<![\w:][0-9A-Fa-f])[0-9A-Fa-f]{0,3}:(?:[0-9A-Fa-f]{1,4}:){0,5}"
        r"(?::[0-9A-Fa-f]{1,4}){1,6}(?![\w:])"), 0.9, _ip_ok,
        gate=_search(r"\d\.\d|[0-9A-Fa-f]:[0-9A-Fa-f:]")),
    _Rule("PHONE_NUMBER", re.compile(
        r"(?<![\w+.:])(?:\+\d{1,3}[ .-]?|00\d{1,3}[ .-]?|001-)?(?:\(\d{1,4}\)[ .-]?)?"
        r"\d{2,4}(?:[ .-]\d{2,7}){1,4}(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?!\w|-\d|:\d|[.]\d)"
        r"|(?<![\w+])\(\d{3}\)\s?\d{3}-\d{4}(?!\w|-\d)"), 0.75, _phone_ok,
        gate=_search(r"\d\d[ .-]\d\d")),
    _Rule("BIC", re.compile(r"(?<![A-Za-z0-9])[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?"
                            r"(?![A-Za-z0-9])"), 0.8, None, _BIC_CTX,
          gate=_any_caseless("bic", "swift")),
    _Rule("PASSPORT", re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,2}\d{6,9}(?![A-Za-z0-9])"), 0.8,
          None, _PASSPORT_CTX, gate=_any_caseless("pass")),
    _Rule("US_DRIVER_LICENSE", re.compile(r"(?<![A-Za-z0-9])[A-Z]?\d{6,14}[A-Z]?(?![A-Za-z0-9])"),
          0.7, None, _DL_CTX, gate=_any_caseless("dl", "licen")),
)
#: Entities this validator reports.
ENTITIES: tuple[str, ...] = tuple(dict.fromkeys(r.entity for r in _RULES))
_CONTEXT_WINDOW = 40
_PRIORITY = {e: i for i, e in enumerate(ENTITIES)}
#: Identifiers confirmed by a checksum or a parser: they win any overlap with a model's span.
_CONFIRMED = frozenset({"EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS"})


def _has_context(rule: _Rule, text: str, start: int) -> bool:
    if rule.context is None:
        return True
    window = text[max(0, start - _CONTEXT_WINDOW): start]
    return rule.context.search(window) is not None


def _matches(text: str, entities: frozenset[str]) -> list[tuple[int, int, str, float]]:
    found: list[tuple[int, int, str, float]] = []
    for rule in _RULES:
        if rule.entity not in entities or (rule.gate is not None and not rule.gate(text)):
            continue
        for m in rule.pattern.finditer(text):
            value = m.group(rule.group)
            if rule.accept is not None and not rule.accept(value):
                continue
            if not _has_context(rule, text, m.start()):
                continue
            found.append((m.start(), m.end(), rule.entity, rule.score))
    return _resolve(found)


def _resolve(found: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """Drop spans overlapping an earlier-priority (more specific) or longer span."""
    found.sort(key=lambda f: (_PRIORITY.get(f[2], 99), -(f[1] - f[0]), f[0]))
    return non_overlapping(found)


def _merge(found: list[tuple[int, int, str, float]],
           named: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """Confirmed identifiers first, then every other span by score; overlaps dropped."""
    strong = [f for f in found if f[2] in _CONFIRMED]
    rest = sorted((f for f in [*found, *named] if f[2] not in _CONFIRMED),
                  key=lambda f: (-f[3], f[0]))
    return non_overlapping([*strong, *rest])


class PiiValidator:
    """Detects personal data; each finding's label is the entity type.

    ``entities`` picks what is reported (default: the identifiers, :data:`ENTITIES`;
    ``names=True`` adds every :data:`NAME_ENTITIES` entity). A guard policy may give
    ``entities`` as a mapping of entity to action instead; the policy turns it into one
    rule per action (:mod:`assay.guard.policy`) and a mapping given here reports every
    entity whose action is not ``off``. ``max_windows`` is the encoder's window cap
    (keep the classifiers' 8 so one forward pass serves both).

    If the token head cannot load, the failure is kept and raised by every
    :meth:`check`, so the engine applies the policy's ``on_error`` (a default policy
    blocks): names are never skipped silently.
    """

    name = "pii"

    def __init__(self, *, entities: Sequence[str] | dict[str, Any] | None = None,
                 threshold: float = 0.5, names: bool = False, max_windows: int = 8) -> None:
        self.threshold = float(threshold)
        known = set(ENTITIES) | set(NAME_ENTITIES)
        if isinstance(entities, dict):
            entities = [e for e, action in entities.items()
                        if action is not False and action != "off"]
        if isinstance(entities, str):
            raise AssayError("pii entities must be a list or a mapping of entity to action, "
                             f"not the string {entities!r}.")
        wanted = set(entities) if entities is not None else \
            set(ENTITIES) | (set(NAME_ENTITIES) if names else set())
        unknown = wanted - known
        if unknown:
            raise AssayError(f"pii does not know the entities {sorted(unknown)}; choose from "
                             + ", ".join(sorted(known)) + ".")
        if not 1 <= int(max_windows) <= 4096:
            raise AssayError("max_windows must be between 1 and 4096.")
        self.entities = frozenset(wanted)
        self.max_windows = int(max_windows)
        self._names = bool(wanted & set(NAME_ENTITIES))
        self.tier = TIER_EMBEDDING if self._names else TIER_DETERMINISTIC
        self._tagger: Any = None
        self._load_error: AssayError | None = None
        if self._names:
            try:
                from assay.validators.names import get_tagger

                self._tagger = get_tagger()
            except AssayError as exc:
                self._load_error = exc

    def spans(self, text: str) -> list[tuple[int, int, str, float]]:
        """``(start, end, entity, score)`` in the original text, sorted, non-overlapping."""
        norm = normalize(text)
        if not self._names:
            found = _matches(norm.text, self.entities)
        else:
            if self._load_error is not None:
                raise self._load_error
            named = self._tagger.spans(norm.text, self.max_windows) if norm.text.strip() else []
            found = [f for f in _merge(_matches(norm.text, frozenset(ENTITIES)), named)
                     if f[2] in self.entities]
        out = []
        for s, e, ent, score in found:
            a, b = norm.to_original(s, e)
            out.append((a, b, ent, score))
        return out

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """One finding per detected identifier or name."""
        return [Finding(self.name, score, ent, ((s, e),), f"{ent} ({e - s} chars)")
                for s, e, ent, score in self.spans(text) if score >= self.threshold]


def redact(text: str, spans: Iterable[tuple[int, int]], template: str = "[REDACTED]") -> str:
    """Replace each span (merged when overlapping) with ``template``."""
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        out.append(text[pos:s])
        out.append(template)
        pos = e
    out.append(text[pos:])
    return "".join(out)
