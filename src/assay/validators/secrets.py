"""Credentials: provider API-key formats, private keys, JWTs, connection strings, entropy.

Provider formats are prefix-anchored with bounded quantifiers (linear time).
Generic high-entropy tokens are reported only when they look random (Shannon
entropy per character over a threshold, mixed character classes) and sit next
to a word such as ``key``, ``token`` or ``secret``, which keeps hashes and
identifiers in ordinary prose from being flagged.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from dataclasses import dataclass

from assay.validators._spans import non_overlapping
from assay.validators.base import TIER_DETERMINISTIC, CheckContext, Finding
from assay.validators.normalize import normalize

__all__ = ["SecretsValidator", "shannon_entropy"]


@dataclass(frozen=True, slots=True)
class _Rule:
    """A credential format; ``needles`` are lower-case literals one of which must occur
    (a C-speed substring test that skips the regex on most texts)."""

    label: str
    pattern: re.Pattern[str]
    score: float
    needles: tuple[str, ...]


_NEEDLES: dict[str, tuple[str, ...]] = {
    "aws_access_key_id": ("akia", "asia", "abia", "acca"),
    "aws_secret_access_key": ("aws",), "github_token": ("gh", "github_pat_"),
    "gitlab_token": ("glpat-",), "openai_api_key": ("sk-",), "anthropic_api_key": ("sk-ant-",),
    "google_api_key": ("aiza",), "slack_token": ("xox",), "slack_webhook": ("hooks.slack",),
    "stripe_key": ("_live_", "_test_"), "twilio_key": ("sk",), "sendgrid_key": ("sg.",),
    "huggingface_token": ("hf_",), "npm_token": ("npm_",), "pypi_token": ("pypi-",),
    "azure_storage_key": ("accountkey=",), "jwt": ("eyj",), "connection_string": ("://",),
    "password_assignment": ("pass", "pwd"),
}


def _r(label: str, pattern: str, score: float = 0.99) -> _Rule:
    return _Rule(label, re.compile(pattern), score, _NEEDLES[label])


_RULES: tuple[_Rule, ...] = (
    _r("aws_access_key_id", r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    _r("aws_secret_access_key", r"(?i)aws.{0,20}?(?:secret|key).{0,20}?[\"'= :]{1,4}"
       r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
    _r("github_token", r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}"
       r"|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"),
    _r("gitlab_token", r"(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,64}"),
    _r("openai_api_key", r"(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,200}"
       r"(?![A-Za-z0-9_-])"),
    _r("anthropic_api_key", r"(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,200}"),
    _r("google_api_key", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"),
    _r("slack_token", r"(?<![A-Za-z0-9-])xox[abposr]-[A-Za-z0-9-]{10,250}"),
    _r("slack_webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,120}"),
    _r("stripe_key", r"(?<![A-Za-z0-9_])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,120}"),
    _r("twilio_key", r"(?<![A-Za-z0-9])SK[0-9a-f]{32}(?![A-Za-z0-9])", 0.9),
    _r("sendgrid_key", r"SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}"),
    _r("huggingface_token", r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,40}(?![A-Za-z0-9])"),
    _r("npm_token", r"(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
    _r("pypi_token", r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,250}"),
    _r("azure_storage_key", r"AccountKey=[A-Za-z0-9+/]{86}=="),
    _r("jwt", r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}"
       r"\.[A-Za-z0-9_-]{8,1024}"),
    _r("connection_string", r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|"
       r"amqps?|mssql|sqlserver|oracle)://[^\s:/@]{1,128}:[^\s@/]{1,256}@[^\s/]{1,256}"),
    _r("password_assignment", r"(?i)\b(?:password|passwd|pwd)\s{0,3}[=:]\s{0,3}"
       r"[\"']?[^\s\"']{6,128}", 0.7),
)
_PEM_LABEL = r"(?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----"
_PEM_BEGIN_RE = re.compile(r"-----BEGIN " + _PEM_LABEL)
_PEM_END_RE = re.compile(r"-----END " + _PEM_LABEL)
_PEM_MAX_BODY = 16384
_GENERIC_RE = re.compile(
    r"(?i)\b(?:api[_-]?key|apikey|secret|token|access[_-]?key|auth|bearer|client[_-]?secret)"
    r"\w{0,20}[\"']?\s{0,3}[:=]?\s{0,3}[\"']?([A-Za-z0-9+/_.=-]{20,256})"
)
_GENERIC_WORDS = ("key", "secret", "token", "auth", "bearer")
_MIN_ENTROPY = 3.5


def shannon_entropy(s: str) -> float:
    """Bits per character of ``s``."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def _private_keys(text: str) -> list[tuple[int, int]]:
    """PEM private-key blocks: a BEGIN line through its END line when the END follows
    within 16 KiB, else the BEGIN line alone.

    Linear in ``text`` (RFC 7468 §2 framing): every BEGIN and END line is found once,
    then each BEGIN is paired with the first END after it by bisection. A lazy
    ``BEGIN[\\s\\S]{0,16384}?END`` regex rescanned 16 KiB per repeated header
    (about 7 s per MB of repeated headers, issue #19 item 3).
    """
    ends = [(m.start(), m.end()) for m in _PEM_END_RE.finditer(text)]
    starts = [s for s, _ in ends]
    spans: list[tuple[int, int]] = []
    cursor = 0
    for m in _PEM_BEGIN_RE.finditer(text):
        if m.start() < cursor:
            continue  # inside a block already reported
        i = bisect.bisect_left(starts, m.end())
        end = m.end()
        if i < len(ends) and ends[i][0] - m.end() <= _PEM_MAX_BODY:
            end = ends[i][1]
        spans.append((m.start(), end))
        cursor = end
    return spans


def _looks_random(s: str) -> bool:
    classes = sum(bool(re.search(p, s)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
    return classes >= 2 and shannon_entropy(s) >= _MIN_ENTROPY


class SecretsValidator:
    """Detects credentials; each finding's label names the credential type."""

    name = "secrets"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, entropy: bool = True, threshold: float = 0.5) -> None:
        self.entropy = entropy
        self.threshold = float(threshold)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """One finding per credential found."""
        norm = normalize(text)
        t = norm.text
        low = t.lower()
        found: list[tuple[int, int, str, float]] = []
        if "private key" in low:
            found.extend((s, e, "private_key", 0.99) for s, e in _private_keys(t))
        for rule in _RULES:
            if not any(n in low for n in rule.needles):
                continue
            for m in rule.pattern.finditer(t):
                found.append((m.start(), m.end(), rule.label, rule.score))
        if self.entropy and any(w in low for w in _GENERIC_WORDS):
            for m in _GENERIC_RE.finditer(t):
                token = m.group(1)
                if _looks_random(token):
                    found.append((m.start(1), m.end(1), "high_entropy_token", 0.8))
        found.sort(key=lambda f: (-f[3], f[0]))
        kept = non_overlapping(found)
        return [
            Finding(self.name, score, label, (norm.to_original(s, e),), f"{label} ({e - s} chars)")
            for s, e, label, score in kept if score >= self.threshold
        ]
