"""The pure rules: the percentage formula and crosswalk credit by relation type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assay.aims.readiness import Facts, SystemScope, assess, readiness_percent
from assay.aims.readiness_evidence import Sighting, Verification
from assay.catalogs import Relation, RelationType, framework
from assay.ledger import InclusionProof

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
REDTEAM = "assay.dev/redteam-run/v1"
TARGET = "nist-ai-rmf:MEASURE-2.7"


def test_percent_formula() -> None:
    assert readiness_percent(["met", "partial", "stale", "gap", "not_applicable"]) == 37.5
    assert readiness_percent(["met", "met"]) == 100.0
    assert readiness_percent(["gap", "stale"]) == 0.0
    assert readiness_percent(["partial", "met", "gap"]) == 50.0
    assert readiness_percent(["not_applicable"]) is None
    assert readiness_percent([]) is None


def _facts(days_ago: float = 1, verified: bool = True) -> Facts:
    sighting = Sighting(7, REDTEAM, NOW - timedelta(days=days_ago), "ab" * 32, "bot", True)
    proofs = {7: InclusionProof(7, 8, b"\x00" * 32, (), "note")} if verified else {}
    return Facts(
        soa=None,
        systems=(SystemScope("bot", "high-risk", "provider"),),
        sightings={TARGET: {REDTEAM: sighting}},
        verification=Verification(None, proofs, {} if verified else {7: "entry 7 fails"}),
    )


def _status(stored: RelationType, facts: Facts | None = None) -> tuple[str, str | None]:
    """Status of iso42001 4.1 when the crosswalk says ``4.1 <stored> MEASURE-2.7``."""

    def relations(ref: str) -> list[Relation]:
        if ref == "iso42001:4.1":
            return [Relation(ref, TARGET, stored, "test", "test")]
        return []

    items = assess(framework("iso42001"), facts or _facts(), now=NOW, relations=relations)
    (item,) = [i for i in items if i.id == "4.1"]
    relation = item.evidence[0].relation if item.evidence else None
    return item.status, relation


@pytest.mark.parametrize(
    ("stored", "status", "shown"),
    [
        # "4.1 subset M" means M is a superset of 4.1: meeting M meets 4.1.
        (RelationType.SUBSET, "met", "superset"),
        (RelationType.EQUIVALENT, "met", "equivalent"),
        (RelationType.SUPERSET, "partial", "subset"),
        (RelationType.INTERSECTS, "partial", "intersects"),
    ],
)
def test_crosswalk_credit_by_relation(stored: RelationType, status: str, shown: str) -> None:
    assert _status(stored) == (status, shown)


def test_crosswalk_needs_fresh_proven_evidence() -> None:
    assert _status(RelationType.EQUIVALENT, _facts(days_ago=45))[0] == "gap"
    assert _status(RelationType.EQUIVALENT, _facts(verified=False))[0] == "gap"


def test_without_a_soa_annex_a_is_treated_as_applicable() -> None:
    items = assess(framework("iso42001"), _facts(), now=NOW, relations=lambda _r: [])
    annex = [i for i in items if i.id.startswith("A.")]
    assert len(annex) == 38
    assert all(i.applicable and "no Statement of Applicability" in i.reason for i in annex)
