"""The EU AI Act applicability matrix (data/eu_applicability_matrix.yaml) against the catalog.

Every profile is classified with :func:`classify` from its recorded answers, its
facts built as readiness builds them, and every assessed obligation checked:
the listed ones apply (or are prohibited), every other one does not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from assay.aims.applicability import SystemScope, facts_of
from assay.aims.classification import Answers, classify
from assay.aims.readiness import Facts, assess, leaves
from assay.aims.readiness_evidence import Verification
from assay.catalogs import Framework, framework

MATRIX = Path(__file__).parent / "data" / "eu_applicability_matrix.yaml"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _matrix() -> dict[str, Any]:
    data = yaml.safe_load(MATRIX.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


PROFILES: dict[str, dict[str, Any]] = _matrix()["profiles"]


def _expand(fw: Framework, keys: dict[str, str]) -> set[str]:
    """Leaf IDs covered by the keys (an article covers its assessed points)."""
    leaf_ids = {r.id for r in leaves(fw)}
    out: set[str] = set()
    for key in keys:
        assert key in fw, f"{key} is not in the catalog"
        covered = {key} if key in leaf_ids else {r for r in leaf_ids if key in _ancestors(fw, r)}
        assert covered, f"{key} covers no assessed obligation"
        out |= covered
    return out


def _ancestors(fw: Framework, requirement_id: str) -> set[str]:
    return {a.id for a in fw.ancestors(requirement_id)}


def _statuses(profile: dict[str, Any]) -> dict[str, str]:
    result = classify(Answers.model_validate(profile["answers"]))
    roles = tuple(profile["roles"])
    scope = SystemScope("s", result.risk_class, roles, facts_of(roles, result))
    facts = Facts(None, (scope,), {}, Verification(None, {}, {}))
    items = assess(framework("eu-ai-act"), facts, now=NOW, relations=lambda _r: [])
    return {i.id: i.status for i in items}


def test_the_matrix_is_big_enough_and_every_cell_cites_the_text() -> None:
    assert len(PROFILES) >= 20
    for name, profile in PROFILES.items():
        for group in ("applies", "not", "prohibited"):
            for key, cite in (profile.get(group) or {}).items():
                assert isinstance(cite, str), (name, key)
                assert "Art." in cite or "Annex" in cite, (name, key, cite)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_profile(name: str) -> None:
    fw = framework("eu-ai-act")
    profile = PROFILES[name]
    statuses = _statuses(profile)
    applies = _expand(fw, profile.get("applies") or {})
    prohibited = _expand(fw, profile.get("prohibited") or {})
    excluded = _expand(fw, profile.get("not") or {})
    assert not (applies & excluded), "a cell is both applicable and excluded"
    wrong_na = sorted(r for r in applies if statuses[r] == "not_applicable")
    wrong_applies = sorted(
        r for r, s in statuses.items() if s != "not_applicable" and r not in applies | prohibited
    )
    assert (wrong_na, wrong_applies) == ([], []), "expected applicable / expected not applicable"
    assert {r for r, s in statuses.items() if s == "prohibited"} == prohibited
