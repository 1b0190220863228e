"""Typed, immutable records for frameworks, requirements, crosswalk relations and evidence types.

A requirement is addressed everywhere by a reference ``<framework>:<id>``
(``iso42001:A.6.2.4``, ``eu-ai-act:Art.15(5)``, ``nist-ai-rmf:MEASURE-2.7``).
IDs are restricted to letters, digits and ``. - ( )`` so that references can be
found reliably in free text (see :func:`find_refs`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

from assay.catalogs.conditions import Condition
from assay.errors import AssayError, Invalid

__all__ = [
    "FRAMEWORK_ID_PATTERN",
    "ID_PATTERN",
    "REF_PATTERN",
    "ApplicationDate",
    "EvidenceType",
    "Framework",
    "Relation",
    "RelationType",
    "Requirement",
    "find_refs",
    "parse_ref",
]

# A requirement ID: starts with a letter or digit, then letters, digits, ". - ( )".
ID_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.()\-]*[A-Za-z0-9)])?")
FRAMEWORK_ID_PATTERN = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_BUILTIN = ("iso42001", "eu-ai-act", "nist-ai-rmf", "fca", "sec")
# A reference to a built-in framework inside arbitrary text (YAML, code, prose).
REF_PATTERN = re.compile(
    r"(?<![A-Za-z0-9_./-])("
    + "|".join(re.escape(f) for f in _BUILTIN)
    + r"):([A-Za-z0-9][A-Za-z0-9.()\-]*)"
)


class RelationType(StrEnum):
    """Set-theoretic relationship between two requirements (as in NIST IR 8278A, OLIR).

    ``A subset B`` means everything A asks for is also asked for by B (B is broader).
    """

    EQUIVALENT = "equivalent"
    SUBSET = "subset"
    SUPERSET = "superset"
    INTERSECTS = "intersects"

    def inverse(self) -> RelationType:
        """The same relationship read from the other side."""
        if self is RelationType.SUBSET:
            return RelationType.SUPERSET
        if self is RelationType.SUPERSET:
            return RelationType.SUBSET
        return self


@dataclass(frozen=True)
class Requirement:
    """One checkable item of a framework: a clause, control, subcategory or obligation."""

    framework: str
    id: str
    title: str
    description: str
    parent: str | None
    evidence_expectations: tuple[str, ...]
    kind: str = "requirement"
    citation: str | None = None
    duty_holders: tuple[str, ...] = ()
    risk_classes: tuple[str, ...] = ()
    applies_from: date | None = None
    notes: str | None = None
    applies_when: Condition | None = None
    """When the requirement binds a system (see :mod:`assay.catalogs.conditions`); None: inherit."""

    @property
    def ref(self) -> str:
        """The canonical reference, ``<framework>:<id>``."""
        return f"{self.framework}:{self.id}"


@dataclass(frozen=True)
class ApplicationDate:
    """When (part of) a framework starts to apply, with the legal source and its status."""

    date: date
    applies_to: str
    status: str
    source: str


@dataclass(frozen=True)
class Framework:
    """A validated catalog: metadata plus requirements in file order."""

    id: str
    name: str
    version: str
    source: str
    licence: str
    requirements: tuple[Requirement, ...]
    path: Path | None = None
    url: str | None = None
    id_format: str | None = None
    reviewed: date | None = None
    notes: str | None = None
    application_dates: tuple[ApplicationDate, ...] = ()
    _index: dict[str, Requirement] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({r.id: r for r in self.requirements})

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self._index

    def get(self, requirement_id: str) -> Requirement | None:
        """The requirement with this ID, or None."""
        return self._index.get(requirement_id)

    def children(self, requirement_id: str | None) -> tuple[Requirement, ...]:
        """Direct children of a requirement (``None``: the top level), in file order."""
        return tuple(r for r in self.requirements if r.parent == requirement_id)

    def condition(self, requirement_id: str) -> Condition | None:
        """The requirement's applicability condition, or its nearest ancestor's (None: none)."""
        own = self._index.get(requirement_id)
        if own is None:
            return None
        if own.applies_when is not None:
            return own.applies_when
        for ancestor in self.ancestors(requirement_id):
            if ancestor.applies_when is not None:
                return ancestor.applies_when
        return None

    def ancestors(self, requirement_id: str) -> tuple[Requirement, ...]:
        """Parent, grandparent, … of a requirement (nearest first)."""
        out: list[Requirement] = []
        current = self._index.get(requirement_id)
        while current is not None and current.parent is not None:
            current = self._index.get(current.parent)
            if current is not None:
                out.append(current)
        return tuple(out)


@dataclass(frozen=True)
class Relation:
    """A typed crosswalk edge: ``source_ref`` is ``type`` of ``target_ref``."""

    source_ref: str
    target_ref: str
    type: RelationType
    rationale: str
    source: str

    def seen_from(self, ref: str) -> Relation:
        """This relation oriented so that ``ref`` is the source side."""
        if ref == self.source_ref:
            return self
        if ref == self.target_ref:
            return Relation(
                self.target_ref, self.source_ref, self.type.inverse(), self.rationale, self.source
            )
        raise AssayError(f"relation {self.source_ref} -> {self.target_ref} does not involve {ref}.")


@dataclass(frozen=True)
class EvidenceType:
    """A kind of ledger evidence, the requirements it supports and how long it stays fresh."""

    type: str
    title: str
    description: str
    supports: tuple[str, ...]
    freshness_days: int | None
    produced_by: str
    kind: str = "record"
    """``test``, ``operation``, ``monitoring``, ``process``, ``attestation`` or ``record``."""
    by_register: Mapping[str, tuple[str, ...]] | None = None
    """For register changes: the requirements a change to each register supports (none else)."""
    test_families: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Requirement → the test families of which at least one must be in the entry's summary."""

    @property
    def about_a_system(self) -> bool:
        """Tests, operation and monitoring evidence must name the system they are about."""
        return self.kind in ("test", "operation", "monitoring")

    def is_fresh(self, age_days: float) -> bool:
        """True if evidence of this age still counts (``None`` freshness never expires)."""
        return self.freshness_days is None or age_days <= self.freshness_days


def parse_ref(ref: str) -> tuple[str, str]:
    """Split ``<framework>:<id>`` into its parts, checking only the syntax.

    NIST IDs are also accepted in the spelling of the NIST document
    (``nist-ai-rmf:GOVERN 1.1``) and normalised to the canonical ``GOVERN-1.1``.
    """
    if not isinstance(ref, str) or ":" not in ref:
        raise Invalid(
            f"'{ref}' is not a requirement reference; "
            "write <framework>:<id>, e.g. iso42001:A.6.2.4."
        )
    framework_id, _, requirement_id = ref.strip().partition(":")
    framework_id = framework_id.strip().lower()
    requirement_id = requirement_id.strip()
    if framework_id == "nist-ai-rmf":
        requirement_id = re.sub(r"\s+", "-", requirement_id).upper()
    if not FRAMEWORK_ID_PATTERN.fullmatch(framework_id):
        raise Invalid(
            f"'{ref}' has an invalid framework ID '{framework_id}'; "
            "use lower-case words joined by '-'."
        )
    if not ID_PATTERN.fullmatch(requirement_id):
        raise Invalid(
            f"'{ref}' has an invalid requirement ID '{requirement_id}'; "
            "IDs use letters, digits and . - ( )."
        )
    return framework_id, requirement_id


def find_refs(text: str) -> list[str]:
    """Every built-in requirement reference mentioned in ``text``, in order of appearance.

    Trailing sentence punctuation and unbalanced closing brackets are not part
    of an ID, so ``(see eu-ai-act:Art.9(2)).`` yields ``eu-ai-act:Art.9(2)``.
    """
    found: list[str] = []
    for match in REF_PATTERN.finditer(text):
        requirement_id = match.group(2)
        while requirement_id and (
            requirement_id[-1] in ".-("
            or (requirement_id[-1] == ")" and requirement_id.count(")") > requirement_id.count("("))
        ):
            requirement_id = requirement_id[:-1]
        if requirement_id:
            found.append(f"{match.group(1)}:{requirement_id}")
    return found
