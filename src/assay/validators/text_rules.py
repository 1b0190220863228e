"""Simple deterministic checks: length, banned substrings, regular expressions, URLs.

Everything user-supplied runs in linear time: banned substrings through RE2 (or
a pure-Python Aho-Corasick automaton when RE2 is absent) and regular
expressions only through RE2, which has no backtracking, so a policy author
cannot introduce a ReDoS.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from assay.errors import AssayError
from assay.validators._deps import require_re2
from assay.validators.base import TIER_DETERMINISTIC, CheckContext, Finding
from assay.validators.normalize import normalize

__all__ = ["AhoCorasick", "BannedSubstringsValidator", "LengthValidator", "RegexValidator",
           "UrlsValidator"]


class LengthValidator:
    """Flags texts longer than ``max_chars`` characters or ``max_tokens`` estimated tokens.

    Tokens are estimated as one per four characters or one per word, whichever
    is larger (a tokenizer-free upper bound that holds well for English).
    """

    name = "length"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, max_chars: int | None = None, max_tokens: int | None = None,
                 threshold: float = 0.5) -> None:
        if max_chars is None and max_tokens is None:
            max_chars = 32_000
        self.max_chars = max_chars
        self.max_tokens = max_tokens
        self.threshold = float(threshold)

    @staticmethod
    def estimate_tokens(text: str) -> int:
        """Tokenizer-free token estimate."""
        return max(len(text) // 4, len(text.split()))

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """A finding when a limit is exceeded; the span covers the overflow."""
        if self.max_chars is not None and len(text) > self.max_chars:
            return [Finding(self.name, 1.0, "too_long", ((self.max_chars, len(text)),),
                            f"{len(text)} characters > {self.max_chars}")]
        if self.max_tokens is not None:
            tokens = self.estimate_tokens(text)
            if tokens > self.max_tokens:
                return [Finding(self.name, 1.0, "too_many_tokens", ((0, len(text)),),
                                f"about {tokens} tokens > {self.max_tokens}")]
        return []


class AhoCorasick:
    """Multi-pattern literal search in time linear in text plus matches (no dependencies)."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._goto: list[dict[str, int]] = [{}]
        self._fail: list[int] = [0]
        self._out: list[list[int]] = [[]]
        self.patterns = list(patterns)
        for idx, pat in enumerate(self.patterns):
            node = 0
            for ch in pat:
                nxt = self._goto[node].get(ch)
                if nxt is None:
                    nxt = len(self._goto)
                    self._goto[node][ch] = nxt
                    self._goto.append({})
                    self._fail.append(0)
                    self._out.append([])
                node = nxt
            self._out[node].append(idx)
        queue: deque[int] = deque(self._goto[0].values())
        while queue:
            node = queue.popleft()
            for ch, nxt in self._goto[node].items():
                queue.append(nxt)
                f = self._fail[node]
                while f and ch not in self._goto[f]:
                    f = self._fail[f]
                cand = self._goto[f].get(ch, 0)
                self._fail[nxt] = cand if cand != nxt else 0
                self._out[nxt] = self._out[nxt] + self._out[self._fail[nxt]]

    def find(self, text: str) -> list[tuple[int, int, int]]:
        """``(start, end, pattern index)`` for every occurrence."""
        out: list[tuple[int, int, int]] = []
        node = 0
        goto, fail, outs = self._goto, self._fail, self._out
        for i, ch in enumerate(text):
            while node and ch not in goto[node]:
                node = fail[node]
            node = goto[node].get(ch, 0)
            for idx in outs[node]:
                out.append((i + 1 - len(self.patterns[idx]), i + 1, idx))
        return out


class BannedSubstringsValidator:
    """Flags any of the given substrings (case-insensitive by default, after normalisation)."""

    name = "banned_substrings"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, substrings: Sequence[str] = (), case_sensitive: bool = False,
                 engine: str = "auto", threshold: float = 0.5) -> None:
        subs = [s for s in substrings if s]
        if not subs:
            raise AssayError("banned_substrings needs a non-empty 'substrings' list in the policy.")
        self.case_sensitive = case_sensitive
        self.threshold = float(threshold)
        self._subs = [s if case_sensitive else s.lower() for s in subs]
        self._re2: Any = None
        self._ac: AhoCorasick | None = None
        if engine not in ("auto", "re2", "aho-corasick"):
            raise AssayError("banned_substrings 'engine' must be auto, re2 or aho-corasick.")
        if engine in ("auto", "re2"):
            try:
                re2 = require_re2()
            except AssayError:
                if engine == "re2":
                    raise
            else:
                self._re2 = re2.compile("|".join(re.escape(s) for s in self._subs))
        if self._re2 is None:
            self._ac = AhoCorasick(self._subs)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """One finding listing every occurrence."""
        norm = normalize(text)
        t = norm.text if self.case_sensitive else norm.text.lower()
        if len(t) != len(norm.text):  # lower() changed length (rare: e.g. U+0130)
            t = norm.text
        if self._re2 is not None:
            spans = [(m.start(), m.end()) for m in self._re2.finditer(t)]
        else:
            assert self._ac is not None
            spans = [(s, e) for s, e, _ in self._ac.find(t)]
        if not spans:
            return []
        orig = tuple(norm.to_original(s, e) for s, e in spans)
        words = sorted({t[s:e] for s, e in spans})
        return [Finding(self.name, 1.0, "banned_substring", orig, ", ".join(words)[:200])]


class RegexValidator:
    """Flags matches of user-given regular expressions, compiled with RE2 (linear time)."""

    name = "regex"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, patterns: Sequence[str] = (), match: str = "flag",
                 threshold: float = 0.5) -> None:
        re2 = require_re2()
        if not patterns:
            raise AssayError("regex needs a non-empty 'patterns' list in the policy.")
        if match not in ("flag", "require"):
            raise AssayError("regex 'match' must be 'flag' (matches are violations) or "
                             "'require' (a text without a match is a violation).")
        self.match = match
        self.threshold = float(threshold)
        self._compiled: list[tuple[str, Any]] = []
        options = re2.Options()
        options.max_mem = 8 << 20
        for p in patterns:
            try:
                self._compiled.append((p, re2.compile(p, options)))
            except Exception as exc:
                raise AssayError(f"The regex {p!r} is not valid RE2 syntax (no backreferences or "
                                 f"lookarounds); rewrite it: {exc}") from exc

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """Matches (``flag``) or the absence of any match (``require``)."""
        norm = normalize(text)
        spans: list[tuple[int, int]] = []
        hit: list[str] = []
        for src, rx in self._compiled:
            ms = [(m.start(), m.end()) for m in rx.finditer(norm.text)]
            if ms:
                hit.append(src)
                spans.extend(norm.to_original(s, e) for s, e in ms)
        if self.match == "require":
            if hit:
                return []
            return [Finding(self.name, 1.0, "required_pattern_missing", ((0, len(text)),),
                            "no required pattern matched")]
        if not spans:
            return []
        return [Finding(self.name, 1.0, "regex_match", tuple(sorted(spans)),
                        "matched: " + ", ".join(hit)[:200])]


_URL_RE = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>\"'`]{1,2048}|\bwww\.[^\s<>\"'`]{1,2048}")


def _host_matches(host: str, domains: Sequence[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


class UrlsValidator:
    """Flags URLs whose host is on ``deny`` or, when ``allow`` is given, not on it.

    Also flags raw IP hosts and userinfo tricks (``https://bank.com@evil.example``)
    unless ``allow_ip_hosts`` is set.
    """

    name = "urls"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, allow: Sequence[str] | None = None, deny: Sequence[str] = (),
                 allow_ip_hosts: bool = False, threshold: float = 0.5) -> None:
        self.allow = [d.lower().lstrip(".") for d in allow] if allow is not None else None
        self.deny = [d.lower().lstrip(".") for d in deny]
        self.allow_ip_hosts = allow_ip_hosts
        self.threshold = float(threshold)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """One finding per offending URL."""
        norm = normalize(text)
        findings = []
        for m in _URL_RE.finditer(norm.text):
            raw = m.group(0).rstrip(".,;:!?)]}")
            url = raw if "://" in raw else "http://" + raw
            try:
                parts = urlsplit(url)
                host = (parts.hostname or "").lower()
            except ValueError:
                host, parts = "", None
            reason = None
            if not host:
                reason = "unparseable URL"
            elif _host_matches(host, self.deny):
                reason = f"denied host {host}"
            elif self.allow is not None and not _host_matches(host, self.allow):
                reason = f"host {host} not on the allow list"
            elif parts is not None and parts.username is not None:
                reason = f"URL with credentials or a deceptive user part ({host})"
            elif not self.allow_ip_hosts and re.fullmatch(r"[\d.]+|\[?[0-9a-f:]+\]?", host):
                reason = f"raw IP host {host}"
            if reason:
                span = norm.to_original(m.start(), m.start() + len(raw))
                findings.append(Finding(self.name, 1.0, "url", (span,), reason))
        return findings
