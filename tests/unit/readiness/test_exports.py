"""Exports: every OSCAL document validated with compliance-trestle, XLSX and PDF read back,
and an audit pack carrying them verified offline."""

from __future__ import annotations

import base64
import copy
import io
import json
import re
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from pydantic import ValidationError
from trestle.oscal import assessment_results as t_ar
from trestle.oscal import catalog as t_catalog
from trestle.oscal import component as t_component
from trestle.oscal import poam as t_poam
from trestle.oscal import profile as t_profile
from trestle.oscal import ssp as t_ssp

from assay.aims import capa, get_system
from assay.aims.readiness import Readiness, readiness
from assay.ledger.merkle import hash_leaf, verify_inclusion
from assay.ledger.note import open_note, parse_checkpoint_body
from assay.ledger.pack import export_pack
from assay.ledger.verify import verify_pack
from assay.reports import (
    assessment_results,
    component_definition,
    poam,
    readiness_pdf,
    readiness_workbook,
    report_files,
    ssp,
)
from assay.workspace import Workspace

from .conftest import Append


@pytest.fixture
def result(ws: Workspace, append: Append) -> Readiness:
    append("assay.dev/redteam-run/v1", days_ago=3)
    append("assay.dev/drift-alert/v1", days_ago=41)
    capa.open_capa(
        ws.store,
        ws.ledger,
        title="Guard misses encoded payloads",
        source="other",
        actor="alice",
        system="bot",
    )
    return readiness(ws.store, ws.ledger, "iso42001", system="bot")


def test_ssp_and_component_definition_validate(ws: Workspace, result: Readiness) -> None:
    system = get_system(ws.store, "bot")
    plan = ssp(result, system)["system-security-plan"]
    t_ssp.SystemSecurityPlan.model_validate(plan)
    reqs = {r["control-id"]: r for r in plan["control-implementation"]["implemented-requirements"]}
    assert len(reqs) == len(result.items)
    state = reqs["A.6.2.4"]["by-components"][0]["implementation-status"]["state"]
    assert state == "implemented"
    assert reqs["A.10.3"]["by-components"][0]["implementation-status"]["state"] == "not-applicable"
    comp = component_definition(result, system)["component-definition"]
    t_component.ComponentDefinition.model_validate(comp)
    impl = comp["components"][0]["control-implementations"][0]
    assert impl["source"] == "oscal-catalog-iso42001.json"


def test_ssp_imports_into_trestle_through_its_profile(
    ws: Workspace, result: Readiness, tmp_path: Path
) -> None:
    """``trestle import`` resolves the SSP's import-profile (profile → catalog) beside it."""
    formats = ("oscal-catalog", "oscal-profile", "oscal-ssp")
    files = report_files(ws, "iso42001", "bot", formats=formats)
    t_profile.Profile.model_validate(json.loads(files["oscal-profile-iso42001.json"])["profile"])
    reports = tmp_path / "reports"
    reports.mkdir()
    for name, data in files.items():
        (reports / name).write_bytes(data)
    trestle = str(Path(sys.executable).with_name("trestle"))
    root = tmp_path / "trestle-ws"
    root.mkdir()
    subprocess.run([trestle, "init"], cwd=root, check=True, capture_output=True)

    def run_import(name: str, alias: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [trestle, "import", "-tr", str(root), "-f", name, "-o", alias],
            cwd=reports, capture_output=True, text=True, timeout=120,
        )

    done = run_import("oscal-ssp-iso42001-bot.json", "bot")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "system-security-plans" / "bot" / "system-security-plan.json").exists()
    # without the profile beside it, trestle's resolver fails: the href really is followed
    (reports / "oscal-profile-iso42001.json").unlink()
    assert run_import("oscal-ssp-iso42001-bot.json", "bot2").returncode != 0


def test_assessment_results_cite_entries_with_verifiable_proofs(result: Readiness) -> None:
    doc = assessment_results(result)["assessment-results"]
    t_ar.AssessmentResults.model_validate(doc)
    (run,) = doc["results"]
    assert result.checkpoint is not None
    root = bytes.fromhex(result.checkpoint.root_hash)
    cited = {c.seq for i in result.items for c in i.evidence}
    assert {int(_prop(o, "ledger-seq")) for o in run["observations"]} == cited
    for obs in run["observations"]:
        seq, size = int(_prop(obs, "ledger-seq")), int(_prop(obs, "tree-size"))
        leaf = bytes.fromhex(_prop(obs, "leaf-hash"))
        path = [bytes.fromhex(h) for h in _prop(obs, "inclusion-proof").split(",") if h]
        verify_inclusion(leaf, seq, size, path, root)  # raises if the proof is wrong
    findings = {f["target"]["target-id"]: f for f in run["findings"]}
    assert findings["A.6.2.4_smt"]["target"]["status"]["state"] == "satisfied"
    assert findings["A.6.2.6_smt"]["target"]["status"]["state"] == "not-satisfied"
    assert "A.10.3_smt" not in findings  # not applicable: not assessed
    # the checkpoint in back-matter is the signed note the proofs are against
    (note_res,) = [r for r in doc["back-matter"]["resources"] if "base64" in r]
    note = base64.b64decode(note_res["base64"]["value"]).decode()
    assert parse_checkpoint_body(open_note(note)[0]).root_hash == root


def _prop(node: dict, name: str) -> str:
    (value,) = [p["value"] for p in node["props"] if p["name"] == name]
    return str(value)


def test_trestle_rejects_a_broken_assessment(result: Readiness) -> None:
    doc = copy.deepcopy(assessment_results(result)["assessment-results"])
    del doc["results"][0]["observations"][0]["methods"]
    with pytest.raises(ValidationError):
        t_ar.AssessmentResults.model_validate(doc)


def test_poam_lists_open_items_and_open_capa(result: Readiness, ws: Workspace) -> None:
    capas = [(r.id, r.data) for r in capa.list_capas(ws.store)]
    doc = poam(result, capas)["plan-of-action-and-milestones"]
    t_poam.PlanOfActionAndMilestones.model_validate(doc)
    titles = [item["title"] for item in doc["poam-items"]]
    assert len(titles) == len(result.open_items) + 1
    assert any("CAPA-001 Guard misses encoded payloads" in t for t in titles)
    stale = [i for i in doc["poam-items"] if "iso42001:A.6.2.6" in i["title"]]
    assert stale and "Next action" in stale[0]["remarks"]


def test_workbook_reads_back(result: Readiness, ws: Workspace) -> None:
    import openpyxl

    from assay.aims import soa

    book = openpyxl.load_workbook(io.BytesIO(readiness_workbook(result, soa.current(ws.store))))
    assert book.sheetnames == ["Summary", "Status", "Gaps", "SoA"]
    status = list(book["Status"].iter_rows(min_row=2, values_only=True))
    assert len(status) == len(result.items)
    row = {r[0]: r for r in status}["iso42001:A.6.2.4"]
    assert row[2] == "met" and row[3] == "implemented"
    assert len(list(book["Gaps"].iter_rows(min_row=2))) == len(result.open_items)
    soa_rows = list(book["SoA"].iter_rows(min_row=2, values_only=True))
    assert len(soa_rows) == 38
    summary = dict(book["Summary"].iter_rows(values_only=True))
    assert summary["Readiness %"] == result.percent


def _pdf_pages(pdf: bytes) -> int:
    """Count page objects, inflating compressed object streams (no PDF library needed)."""
    chunks = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return sum(len(re.findall(rb"/Type\s*/Page(?![s\w])", c)) for c in chunks)


def test_pdf_renders_offline_and_reads_back(result: Readiness, ws: Workspace) -> None:
    from assay.aims import soa

    pdf = readiness_pdf(result, soa.current(ws.store))
    assert pdf.startswith(b"%PDF-")
    pages = _pdf_pages(pdf)
    assert pages >= 2  # summary, gaps, SoA and every requirement do not fit on one page
    try:
        import pypdf
    except ImportError:
        return
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == pages
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "readiness and gap report" in text and "A.6.2.4" in text


def test_pack_with_reports_verifies_offline(
    ws: Workspace, result: Readiness, tmp_path: Path
) -> None:
    files = report_files(ws, "iso42001", "bot")
    assert {
        "oscal-catalog-iso42001.json",
        "oscal-profile-iso42001.json",
        "oscal-ar-iso42001-bot.json",
        "oscal-poam-iso42001-bot.json",
        "oscal-ssp-iso42001-bot.json",
        "oscal-component-iso42001-bot.json",
        "soa-gap-iso42001-bot.xlsx",
        "soa-gap-iso42001-bot.pdf",
        "readiness-iso42001-bot.json",
    } <= set(files)
    t_catalog.Catalog.model_validate(json.loads(files["oscal-catalog-iso42001.json"])["catalog"])
    out = tmp_path / "pack.zip"
    export_pack(ws.ledger, out, extra_files=files)
    report = verify_pack(str(out), ws.ledger.signer.verifier)
    assert report.ok, report.problems
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        ar = json.loads(archive.read("reports/oscal-ar-iso42001-bot.json"))
        entries = archive.read("entries.jsonl").splitlines()
    assert "reports/soa-gap-iso42001-bot.pdf" in names
    leaves = {hash_leaf(e).hex() for e in entries}
    for obs in ar["assessment-results"]["results"][0]["observations"]:
        assert _prop(obs, "leaf-hash") in leaves  # every cited entry is in the pack
    # a changed report is caught by the signed manifest
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "reports/oscal-poam-iso42001-bot.json":
                data = data.replace(b"not-satisfied", b"satisfied")
                data += b" "
            dst.writestr(info, data)
    bad = verify_pack(str(tampered), ws.ledger.signer.verifier)
    assert any("oscal-poam-iso42001-bot.json" in p for p in bad.problems)
