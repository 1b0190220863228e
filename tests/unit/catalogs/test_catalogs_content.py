"""The shipped catalogs match the reference structure files exactly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import assay.catalogs as catalogs
from assay.catalogs import RelationType
from assay.errors import AssayError

# The steering repo's shared/reference files when checked out beside this repo, else the
# copies vendored next to this test (identical; they hold IDs and titles only).
REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference"
if not REFERENCE.is_dir():
    REFERENCE = Path(__file__).resolve().parent / "reference"


def _rows(name: str) -> list[dict[str, str]]:
    path = REFERENCE / name
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_iso_ids_and_titles_equal_reference_rows() -> None:
    rows = _rows("iso42001_2023_structure_titles_only.csv")
    fw = catalogs.framework("iso42001")
    assert [(r.id, r.title) for r in fw.requirements] == [(row["id"], row["title"]) for row in rows]
    kinds = {row["id"]: row["kind"] for row in rows}
    assert sum(1 for k in kinds.values() if k == "control") == 38
    assert [r.id for r in fw.requirements if r.kind == "control"] == [
        i for i, k in kinds.items() if k == "control"
    ]


def test_iso_clauses_and_key_requirements_present() -> None:
    fw = catalogs.framework("iso42001")
    for clause in ("4", "5", "6", "7", "8", "9", "10", "6.1.3", "6.1.4", "9.2", "9.3", "10.2"):
        assert clause in fw
    for invented in ("A.1", "A.6.6", "A.10.5", "A.6.2.1"):
        assert invented not in fw


def test_nist_has_all_72_subcategories_matching_reference() -> None:
    rows = _rows("nist_ai_rmf_1.0_subcategories.csv")
    fw = catalogs.framework("nist-ai-rmf")
    subs = [r for r in fw.requirements if r.kind == "subcategory"]
    assert len(subs) == 72
    outcome = next(k for k in rows[0] if k.startswith("outcome"))
    assert [(r.id, r.description) for r in subs] == [
        (row["id"].replace(" ", "-"), row[outcome]) for row in rows
    ]
    for r in subs:
        category = fw.get(r.parent or "")
        assert category is not None and category.kind == "category"
        assert category.parent in {"GOVERN", "MAP", "MEASURE", "MANAGE"}
    counts = {
        f: sum(1 for r in subs if r.id.startswith(f + "-"))
        for f in ("GOVERN", "MAP", "MEASURE", "MANAGE")
    }
    assert counts == {"GOVERN": 19, "MAP": 18, "MEASURE": 22, "MANAGE": 13}


def test_eu_ai_act_covers_the_key_articles_and_annex_iv() -> None:
    rows = _rows("eu_ai_act_key_articles.csv")
    fw = catalogs.framework("eu-ai-act")
    for row in rows:
        req = fw.get(f"Art.{row['article']}")
        assert req is not None, row["article"]
        assert req.duty_holders and req.risk_classes
    assert [r.id for r in fw.children("AnnexIV")] == [f"AnnexIV.{i}" for i in range(1, 10)]
    assert any("Omnibus" in d.status for d in fw.application_dates)
    assert fw.notes is not None and "Digital Omnibus" in fw.notes


def test_fca_and_sec_requirements_cite_their_sources() -> None:
    for framework_id in ("fca", "sec"):
        fw = catalogs.framework(framework_id)
        assert all(r.citation for r in fw.requirements), framework_id
    sec = catalogs.framework("sec")
    assert sec.notes is not None and "withdrew" in sec.notes


def test_parse_ref_and_resolve() -> None:
    assert catalogs.parse_ref("iso42001:A.6.2.4") == ("iso42001", "A.6.2.4")
    assert catalogs.parse_ref("nist-ai-rmf:GOVERN 1.1") == ("nist-ai-rmf", "GOVERN-1.1")
    assert catalogs.resolve("eu-ai-act:Art.15(5)").title.startswith("Cybersecurity")
    with pytest.raises(AssayError, match="did you mean"):
        catalogs.resolve("iso42001:A.6.6")
    with pytest.raises(AssayError, match="unknown framework"):
        catalogs.resolve("iso27001:A.5.1")
    with pytest.raises(AssayError, match="<framework>:<id>"):
        catalogs.parse_ref("A.6.2.4")


def test_find_refs_trims_punctuation() -> None:
    text = "See eu-ai-act:Art.9(2)). Also (iso42001:A.6.2.4), nist-ai-rmf:MEASURE-2.7."
    assert catalogs.find_refs(text) == [
        "eu-ai-act:Art.9(2)",
        "iso42001:A.6.2.4",
        "nist-ai-rmf:MEASURE-2.7",
    ]
    assert catalogs.find_refs("took 3.5sec:12 and xsec:1") == []


def test_crosswalk_and_evidence_mapping() -> None:
    rels = catalogs.relations_for("iso42001:A.5.5")
    sub = [r for r in rels if r.target_ref == "nist-ai-rmf:MEASURE-2.12"]
    assert sub and sub[0].type is RelationType.SUPERSET  # stored as MEASURE-2.12 subset A.5.5
    types = catalogs.evidence_types()
    required = {
        "assay.dev/redteam-run/v1",
        "assay.dev/guard-decision/v1",
        "assay.dev/drift-alert/v1",
        "assay.dev/aims-change/v1",
        "assay.dev/eval-report/v1",
        "assay.dev/erasure/v1",
        "assay.dev/checkpoint-witness/v1",
    }
    assert required <= set(types)
    redteam = types["assay.dev/redteam-run/v1"]
    assert {"iso42001:A.6.2.4", "eu-ai-act:Art.15(5)", "nist-ai-rmf:MEASURE-2.7"} <= set(
        redteam.supports
    )
    assert redteam.freshness_days == 30 and redteam.is_fresh(29.9) and not redteam.is_fresh(30.1)
    assert [e.type for e in catalogs.evidence_for("eu-ai-act:Art.15(5)")][:1] == [
        "assay.dev/redteam-run/v1"
    ]


def test_loading_is_cached() -> None:
    assert catalogs.builtin() is catalogs.builtin()


def test_evidence_types_match_what_the_ledger_accepts() -> None:
    evidence = pytest.importorskip("assay.ledger.evidence")
    assert set(evidence.EVIDENCE_TYPES) == set(catalogs.evidence_types())
