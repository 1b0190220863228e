"""The facts a catalog's ``applies_when`` conditions read, for one AI system; pure.

A system's facts come from two records: the inventory (its EU AI Act roles,
as a set, and its life-cycle stage) and the recorded classification answers
(re-read through :func:`assay.aims.classification.classify`, so a stored
classification always yields the facts of today's rules):

=========== =============================================================
``role``    provider, deployer, importer, distributor, authorised-representative,
            product-manufacturer, gpai-model-provider
``class``   prohibited, high-risk, transparency, minimal, out-of-scope
``annex-iii`` the points and sub-points that apply after the carve-outs
            (``5`` and ``5(b)`` for credit scoring)
``art50``   the Art. 50 paragraphs whose case applies (``1`` to ``4``)
``practice`` the Art. 5(1) points recorded (``5(1)(c)``)
``flag``    annex-i, annex-iii-listed, art6-3-claim, profiling, public-body, workplace
=========== =============================================================

No recorded role means *not decided*: readiness then evaluates every role
and asks for the roles, instead of assuming one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from assay.aims.classification import (
    PROHIBITED_PRACTICES,
    TRANSPARENCY_CASES,
    Answers,
    Classification,
    classify,
)
from assay.aims.inventory import ORG_ROLES, SystemRecord
from assay.errors import AssayError

__all__ = ["SystemScope", "facts_of", "scope_of"]

_EMOTION_OR_CATEGORISATION = {"1(b)", "1(c)"}


@dataclass(frozen=True)
class SystemScope:
    """What applicability needs to know about one system."""

    id: str
    ai_act_class: str | None
    roles: tuple[str, ...] = ()
    facts: Mapping[str, frozenset[str]] = field(default_factory=dict)
    retired: bool = False
    version: str = ""
    """The version in service (empty: not recorded, any tested version counts)."""

    @property
    def classified(self) -> bool:
        return self.ai_act_class is not None

    def evaluated_facts(self) -> Mapping[str, frozenset[str]]:
        """The facts, with every role assumed when none is recorded (conservative)."""
        if self.roles:
            return self.facts
        return {**self.facts, "role": frozenset(ORG_ROLES)}


def facts_of(roles: tuple[str, ...], result: Classification | None) -> dict[str, frozenset[str]]:
    """The condition facts for a system with these roles and this classification."""
    facts: dict[str, frozenset[str]] = {"role": frozenset(roles)}
    if result is None:
        return facts
    answers = result.answers
    points = set(result.annex_iii_points)
    art50 = {TRANSPARENCY_CASES[k][0].rsplit("(", 1)[1].rstrip(")") for k in answers.transparency}
    if points & _EMOTION_OR_CATEGORISATION:
        art50.add("3")  # emotion recognition and biometric categorisation are Art. 50(3) cases
    flags = {
        name
        for name, present in (
            ("annex-i", answers.annex_i_safety_component),
            ("annex-iii-listed", bool(points)),
            ("art6-3-claim", result.art6_3_claim),
            ("profiling", answers.profiling),
            ("public-body", answers.public_body),
            ("workplace", answers.workplace),
        )
        if present
    }
    practices = {PROHIBITED_PRACTICES[k][0].split(":Art.", 1)[1] for k in answers.prohibited}
    facts.update(
        {
            "class": frozenset({result.risk_class}),
            "annex-iii": frozenset(points),
            "art50": frozenset(art50),
            "practice": frozenset(practices),
            "flag": frozenset(flags),
        }
    )
    return facts


def _classification(stored: Mapping[str, Any] | None) -> Classification | None:
    if not stored or not isinstance(stored.get("answers"), Mapping):
        return None
    try:
        return classify(Answers.model_validate(dict(stored["answers"])))
    except (ValidationError, AssayError):
        return None


def scope_of(record: SystemRecord) -> SystemScope:
    """A system's scope from its inventory record and stored classification."""
    result = _classification(record.ai_act_classification)
    roles = tuple(record.profile.org_roles)
    ai_act_class = result.risk_class if result is not None else record.ai_act_class
    facts = facts_of(roles, result)
    if result is None and ai_act_class is not None:  # answers no longer readable: keep the class
        facts["class"] = frozenset({ai_act_class})
    return SystemScope(
        id=record.id,
        ai_act_class=ai_act_class,
        roles=roles,
        facts=facts,
        retired=record.lifecycle_stage == "retirement",
        version=record.profile.version,
    )
