"""Framework catalogs (ISO/IEC 42001, NIST AI RMF, EU AI Act, FCA, SEC), crosswalk, evidence map.

Requirements are addressed as ``<framework>:<id>`` (``iso42001:A.6.2.4``,
``eu-ai-act:Art.15(5)``, ``nist-ai-rmf:MEASURE-2.7``). The YAML files in
``data/`` are validated once per process; an unknown ID anywhere is an error.
"""

from __future__ import annotations

from collections.abc import Mapping

from assay.catalogs.conditions import Condition, ConditionError
from assay.catalogs.conditions import parse as parse_condition
from assay.catalogs.loader import (
    BUILTIN_FRAMEWORKS,
    Catalogs,
    builtin,
    import_framework,
    load_custom_frameworks,
    load_framework_file,
    resolve,
)
from assay.catalogs.model import (
    REF_PATTERN,
    ApplicationDate,
    EvidenceType,
    Framework,
    Relation,
    RelationType,
    Requirement,
    find_refs,
    parse_ref,
)
from assay.errors import NotFound

__all__ = [
    "BUILTIN_FRAMEWORKS",
    "REF_PATTERN",
    "ApplicationDate",
    "Catalogs",
    "Condition",
    "ConditionError",
    "EvidenceType",
    "Framework",
    "Relation",
    "RelationType",
    "Requirement",
    "builtin",
    "evidence_for",
    "evidence_types",
    "find_refs",
    "framework",
    "frameworks",
    "import_framework",
    "load_custom_frameworks",
    "load_framework_file",
    "parse_condition",
    "parse_ref",
    "relations_for",
    "resolve",
]


def frameworks() -> Mapping[str, Framework]:
    """The built-in frameworks by ID, in catalog order."""
    return builtin().frameworks


def framework(framework_id: str) -> Framework:
    """One built-in framework; an unknown ID is :class:`NotFound` listing the known ones."""
    found = builtin().frameworks.get(framework_id)
    if found is None:
        known = ", ".join(builtin().frameworks)
        raise NotFound(f"unknown framework '{framework_id}'; use one of: {known}.")
    return found


def evidence_types() -> Mapping[str, EvidenceType]:
    """Every evidence type URI the ledger accepts, with what it supports and its freshness."""
    return builtin().evidence_types


def relations_for(ref: str) -> list[Relation]:
    """Crosswalk relations touching a requirement, each oriented with ``ref`` as the source."""
    canonical = resolve(ref).ref
    return [
        rel.seen_from(canonical)
        for rel in builtin().relations
        if canonical in (rel.source_ref, rel.target_ref)
    ]


def evidence_for(ref: str) -> list[EvidenceType]:
    """Evidence types that directly support a requirement."""
    canonical = resolve(ref).ref
    return [et for et in builtin().evidence_types.values() if canonical in et.supports]
