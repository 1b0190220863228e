"""The applicability condition language of the catalogs: when does a requirement bind a system?

A catalog requirement may carry ``applies_when``, a small boolean expression
over *facts* about one AI system. Facts are named sets of values; an atom
``name:value`` is true when ``value`` is in the system's set for ``name``::

    role:provider and class:high-risk and not annex-iii:2
    role:deployer and (flag:public-body or annex-iii:5(b) or annex-iii:5(c))
    always

Grammar (``not`` binds tightest, then ``and``, then ``or``; parentheses group)::

    expr   := term ("or" term)*
    term   := factor ("and" factor)*
    factor := "not" factor | "(" expr ")" | "always" | atom
    atom   := name ":" value        name: [a-z][a-z0-9-]*   value: 5, 5(b), 5(1)(c), high-risk

Which names and values exist is declared by the catalog file itself
(``vocabularies.facts``); :func:`parse` refuses anything else, so a typo in a
condition fails when the catalog loads, not silently at assessment time.
A requirement without a condition inherits its parent's; with none at all it
always applies. Pure; standard library only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

__all__ = [
    "ALWAYS",
    "Condition",
    "ConditionError",
    "Facts",
    "parse",
]

Facts = Mapping[str, AbstractSet[str]]
"""A system's facts: name → the set of values that hold (``{"role": {"provider"}}``)."""

_TOKEN = re.compile(
    r"\s*(?:(?P<paren>[()])|(?P<atom>[a-z][a-z0-9-]*:[A-Za-z0-9.\-]+(?:\([A-Za-z0-9]+\))*)"
    r"|(?P<word>[a-z]+))"
)
_KEYWORDS = ("and", "or", "not", "always")


class ConditionError(ValueError):
    """A condition that does not parse or names an unknown fact or value."""


@dataclass(frozen=True)
class Condition:
    """A parsed condition: ``op`` is ``atom``, ``not``, ``and``, ``or`` or ``always``."""

    op: str
    name: str = ""
    value: str = ""
    parts: tuple[Condition, ...] = ()

    def holds(self, facts: Facts) -> bool:
        """True when the condition is true for these facts."""
        if self.op == "always":
            return True
        if self.op == "atom":
            return self.value in facts.get(self.name, frozenset())
        if self.op == "not":
            return not self.parts[0].holds(facts)
        if self.op == "and":
            return all(p.holds(facts) for p in self.parts)
        return any(p.holds(facts) for p in self.parts)

    def atoms(self) -> tuple[Condition, ...]:
        """Every atom, in order of appearance."""
        if self.op == "atom":
            return (self,)
        return tuple(a for p in self.parts for a in p.atoms())

    def text(self, facts: Facts | None = None) -> str:
        """The condition as written; with ``facts``, each atom marked ``[yes]`` or ``[no]``."""
        if self.op == "always":
            return "always"
        if self.op == "atom":
            mark = ""
            if facts is not None:
                mark = " [yes]" if self.holds(facts) else " [no]"
            return f"{self.name}:{self.value}{mark}"
        if self.op == "not":
            return f"not {self.parts[0]._grouped(facts)}"
        return f" {self.op} ".join(p._grouped(facts) for p in self.parts)

    def _grouped(self, facts: Facts | None) -> str:
        inner = self.text(facts)
        return f"({inner})" if self.op in ("and", "or") else inner

    def __str__(self) -> str:
        return self.text()


ALWAYS = Condition("always")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            rest = text[position:].strip()
            raise ConditionError(f"cannot read {rest[:30]!r}: write name:value, and, or, not, ( )")
        token = match.group("paren") or match.group("atom") or match.group("word")
        if match.group("word") and token not in _KEYWORDS:
            raise ConditionError(
                f"unknown word {token!r}: atoms are written name:value (e.g. role:provider)"
            )
        out.append(token)
        position = match.end()
    return out


class _Parser:
    def __init__(self, tokens: list[str], vocabulary: Mapping[str, tuple[str, ...]]) -> None:
        self.tokens, self.at, self.vocabulary = tokens, 0, vocabulary

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ConditionError("the condition ends too early")
        self.at += 1
        return token

    def expr(self) -> Condition:
        parts = [self.term()]
        while self.peek() == "or":
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Condition("or", parts=tuple(parts))

    def term(self) -> Condition:
        parts = [self.factor()]
        while self.peek() == "and":
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else Condition("and", parts=tuple(parts))

    def factor(self) -> Condition:
        word = self.take()
        if word == "not":
            return Condition("not", parts=(self.factor(),))
        if word == "(":
            inner = self.expr()
            if self.take() != ")":
                raise ConditionError("a '(' is not closed")
            return inner
        if word == "always":
            return ALWAYS
        if word in ("and", "or", ")"):
            raise ConditionError(f"unexpected {word!r}")
        name, _, value = word.partition(":")
        self.check(name, value)
        return Condition("atom", name=name, value=value)

    def check(self, name: str, value: str) -> None:
        allowed = self.vocabulary.get(name)
        if allowed is None:
            raise ConditionError(f"unknown fact {name!r}{_hint(name, self.vocabulary)}")
        if value not in allowed:
            raise ConditionError(f"{name!r} has no value {value!r}{_hint(value, allowed)}")


def _hint(wanted: str, known: Mapping[str, object] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(wanted, list(known), n=3, cutoff=0.6)
    if close:
        return f"; did you mean {', '.join(close)}?"
    return f"; known: {', '.join(known)}"


def parse(text: str, vocabulary: Mapping[str, tuple[str, ...]]) -> Condition:
    """Parse and validate a condition against the declared facts; ConditionError says why not."""
    tokens = _tokens(text)
    if not tokens:
        raise ConditionError("the condition is empty")
    parser = _Parser(tokens, vocabulary)
    condition = parser.expr()
    if parser.peek() is not None:
        raise ConditionError(f"unexpected {parser.peek()!r} after a complete condition")
    return condition
