"""Output-side checks: system-prompt leaks, refusals, relevance and banned topics.

Leak detection uses a canary token (exact, after normalisation) and word
5-gram overlap with the system prompt. Relevance and banned topics compare
texts by cosine similarity: of the shared MiniLM sentence embeddings
(:mod:`assay.validators.embedding`, tier 2, so paraphrases match) when the
``ml`` extra's embedding model is installed, otherwise of hashed character/word
n-gram vectors (lexical, tier 1: numpy only, no model). ``method`` forces one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from assay.errors import AssayError
from assay.validators.base import (
    TIER_DETERMINISTIC,
    TIER_EMBEDDING,
    TIER_LINEAR,
    CheckContext,
    Finding,
)
from assay.validators.normalize import normalize

__all__ = ["BannedTopicsValidator", "RefusalValidator", "RelevanceValidator",
           "SystemPromptLeakValidator", "resolve_method", "semantic_similarity", "similarity"]

#: Defaults per method (see docs/guardrails.md for how they were chosen).
TOPIC_THRESHOLD = {"embedding": 0.45, "lexical": 0.35}
RELEVANCE_FLOOR = {"embedding": 0.1, "lexical": 0.05}
_METHODS = ("auto", "embedding", "lexical")


def resolve_method(method: str) -> str:
    """``auto`` -> ``embedding`` when the embedding model is installed, else ``lexical``.

    ``embedding`` without the model raises an :class:`AssayError` naming the ``ml`` extra.
    """
    if method not in _METHODS:
        raise AssayError(f"method must be one of {', '.join(_METHODS)}, not {method!r}.")
    from assay.validators import embedding

    if method == "auto":
        return "embedding" if embedding.available() else "lexical"
    if method == "embedding":
        embedding.require()
    return method

_WORD_RE = re.compile(r"\w+")


def _shingles(text: str, n: int) -> list[tuple[tuple[str, ...], int, int]]:
    words = [(m.group(0).lower(), m.start(), m.end()) for m in _WORD_RE.finditer(text)]
    return [(tuple(w for w, _, _ in words[i:i + n]), words[i][1], words[i + n - 1][2])
            for i in range(len(words) - n + 1)]


class SystemPromptLeakValidator:
    """Flags a response that contains the canary or reproduces the system prompt.

    The score is the share of the system prompt's word ``ngram``-grams found in
    the response (1.0 when the canary appears).
    """

    name = "system_prompt_leak"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, system_prompt: str | None = None, canary: str | None = None,
                 ngram: int = 5, threshold: float = 0.3) -> None:
        self.system_prompt = system_prompt
        self.canary = canary
        self.ngram = ngram
        self.threshold = float(threshold)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """Findings for a canary hit and for n-gram overlap at or above the threshold."""
        ctx = ctx or CheckContext()
        norm = normalize(text)
        findings: list[Finding] = []
        canary = ctx.canary or self.canary
        if canary:
            spans: list[tuple[int, int]] = []
            start = norm.text.find(canary)
            while start != -1 and len(spans) < 100:
                spans.append(norm.to_original(start, start + len(canary)))
                start = norm.text.find(canary, start + 1)
            if spans:
                findings.append(Finding(self.name, 1.0, "canary", tuple(spans),
                                        "the canary token appears in the output"))
        system = ctx.system_prompt or self.system_prompt
        if system:
            ref = {s for s, _, _ in _shingles(normalize(system).text, self.ngram)}
            if ref:
                hits = [(a, b) for s, a, b in _shingles(norm.text, self.ngram) if s in ref]
                shared = {s for s, _, _ in _shingles(norm.text, self.ngram)} & ref
                score = len(shared) / len(ref)
                if score >= self.threshold:
                    findings.append(Finding(
                        self.name, min(1.0, score), "overlap",
                        tuple(norm.to_original(a, b) for a, b in hits[:200]),
                        f"{len(shared)}/{len(ref)} system-prompt {self.ngram}-grams reproduced"))
        return findings


_REFUSAL_RE = re.compile(
    r"(?i)\b(?:I(?:'m| am) (?:sorry|afraid)[^.\n]{0,40}?\b(?:can(?:no|')t|unable|not able|won't)"
    r"|I (?:can(?:no|')t|won't|will not|am unable to|'m unable to|must decline to|am not able to)"
    r" (?:help|assist|provide|comply|do that|fulfil|fulfill|create|generate|share|answer|support)"
    r"|as an AI(?: language model)?,? I (?:can(?:no|')t|don't|do not|am not able)"
    r"|I(?:'m| am) not (?:able|allowed|permitted) to"
    r"|(?:this|that|your) request (?:goes against|violates|is against)"
    r"|I must (?:respectfully )?decline)"
)


class RefusalValidator:
    """Flags responses that refuse; a refusal in the first 200 characters scores higher."""

    name = "refusal"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, threshold: float = 0.5) -> None:
        self.threshold = float(threshold)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """One finding for the first refusal phrase."""
        norm = normalize(text)
        m = _REFUSAL_RE.search(norm.text)
        if m is None:
            return []
        score = 0.9 if m.start() < 200 else 0.6
        if score < self.threshold:
            return []
        return [Finding(self.name, score, "refusal", (norm.to_original(m.start(), m.end()),),
                        m.group(0)[:120])]


def _vector(text: str) -> dict[int, float]:
    from assay.validators.ngrams import featurize

    t = normalize(text).text
    if not t.strip():
        return {}
    acc: dict[int, float] = {}
    for win in featurize(t):
        for i, v in zip(win.index.tolist(), win.value.tolist(), strict=True):
            acc[i] = acc.get(i, 0.0) + v
    norm = sum(v * v for v in acc.values()) ** 0.5 or 1.0
    return {k: v / norm for k, v in acc.items()}


def similarity(a: str, b: str) -> float:
    """Cosine similarity of hashed character/word n-gram vectors, in [0, 1]."""
    va, vb = _vector(a), _vector(b)
    if len(va) > len(vb):
        va, vb = vb, va
    return max(0.0, min(1.0, sum(v * vb.get(k, 0.0) for k, v in va.items())))


def semantic_similarity(a: str, b: str) -> float:
    """Cosine similarity of the shared sentence embeddings (first windows), clipped to [0, 1]."""
    from assay.validators.embedding import embedding

    return max(0.0, min(1.0, float(embedding(a) @ embedding(b))))


class RelevanceValidator:
    """Flags a response whose similarity to the prompt is below ``min_similarity``.

    ``method``: ``auto`` (sentence embeddings when installed, else lexical),
    ``embedding`` or ``lexical``. ``min_similarity`` defaults to 0.1 for
    embeddings and 0.05 for the lexical proxy, which misses paraphrased but
    relevant answers; keep the action at ``warn``/``log`` unless tuned on your
    own traffic.
    """

    name = "relevance"

    def __init__(self, *, min_similarity: float | None = None, threshold: float = 0.5,
                 method: str = "auto") -> None:
        self.method = resolve_method(method)
        self.tier = TIER_EMBEDDING if self.method == "embedding" else TIER_LINEAR
        self.min_similarity = (RELEVANCE_FLOOR[self.method] if min_similarity is None
                               else float(min_similarity))
        self.threshold = float(threshold)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """A finding when the prompt is known and similarity is below the floor."""
        prompt = (ctx or CheckContext()).prompt
        if not prompt or not text.strip():
            return []
        sim = (semantic_similarity(prompt, text) if self.method == "embedding"
               else similarity(prompt, text))
        if sim >= self.min_similarity:
            return []
        return [Finding(self.name, 1.0 - sim, "irrelevant", ((0, len(text)),),
                        f"similarity {sim:.3f} < {self.min_similarity}")]


class BannedTopicsValidator:
    """Flags text similar to user-given examples of each banned topic.

    ``topics`` maps a topic name to example texts (or is a list of examples
    under one topic ``banned``); the score is the highest cosine similarity.
    ``method``: ``auto`` (sentence embeddings when installed, so a paraphrase
    with no shared words still matches; else lexical n-grams), ``embedding`` or
    ``lexical``. ``threshold`` defaults to 0.45 for embeddings and 0.35 for
    the lexical method. Long texts are compared window by window (at most
    ``max_windows`` windows of the embedder's window size).
    """

    name = "banned_topics"

    def __init__(self, *, topics: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
                 threshold: float | None = None, method: str = "auto",
                 max_windows: int = 4) -> None:
        if not topics:
            raise AssayError("banned_topics needs 'topics': a mapping of topic name to example "
                             "texts.")
        items: Mapping[str, Sequence[str]] = (
            {"banned": list(topics)} if not isinstance(topics, Mapping) else topics)
        self.method = resolve_method(method)
        self.tier = TIER_EMBEDDING if self.method == "embedding" else TIER_LINEAR
        self.threshold = (TOPIC_THRESHOLD[self.method] if threshold is None
                          else float(threshold))
        self.max_windows = max(1, int(max_windows))
        pairs = [(topic, example) for topic, examples in items.items() for example in examples]
        self._topics = [topic for topic, _ in pairs]
        self._examples: list[tuple[str, dict[int, float]]] = []
        self._matrix: Any = None
        if self.method == "embedding":
            from assay.validators.embedding import get_embedder

            self._matrix = get_embedder().encode([normalize(e).text for _, e in pairs])
        else:
            self._examples = [(topic, _vector(example)) for topic, example in pairs]

    def scores(self, text: str) -> dict[str, float]:
        """Highest similarity per topic."""
        if self.method == "embedding":
            from assay.validators.embedding import embeddings

            sims = (embeddings(text, self.max_windows) @ self._matrix.T).max(axis=0)
            best: dict[str, float] = {}
            for topic, sim in zip(self._topics, sims.tolist(), strict=True):
                best[topic] = max(best.get(topic, 0.0), min(1.0, max(0.0, sim)))
            return best
        v = _vector(text)
        out: dict[str, float] = {}
        for topic, ex in self._examples:
            a, b = (v, ex) if len(v) < len(ex) else (ex, v)
            s = sum(x * b.get(k, 0.0) for k, x in a.items())
            out[topic] = max(out.get(topic, 0.0), min(1.0, max(0.0, s)))
        return out

    def score(self, text: str, ctx: CheckContext | None = None) -> float:
        """Highest similarity over all topics."""
        return max(self.scores(text).values(), default=0.0)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """One finding per topic at or above the threshold."""
        return [Finding(self.name, s, topic, ((0, len(text)),), f"similarity {s:.3f}")
                for topic, s in sorted(self.scores(text).items()) if s >= self.threshold]


