"""docs/pack-format.md is enough to verify a pack: an independent verifier agrees (item 20)."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from assay.ledger import Evidence, Subject
from assay.ledger.pack import export_pack
from assay.ledger.verify import verify_pack
from assay.workspace import Workspace

from . import independent_pack_verifier as independent

_DOC = Path(__file__).parents[3] / "docs" / "pack-format.md"


def _evidence(i: int, system: str) -> Evidence:
    payload = json.dumps({"run": i}).encode() if i % 3 == 0 else None
    return Evidence(
        "assay.dev/note/v1", "tester", {"i": i}, Subject(system, "1.0"), payload=payload
    )


def _populate(ws: Workspace) -> str:
    ws.ledger.append([_evidence(i, "bot" if i % 2 else "other") for i in range(13)])
    previous = ws.ledger.checkpoint()
    ws.ledger.append([_evidence(i, "bot") for i in range(13, 29)])
    return previous


def test_the_independent_verifier_accepts_a_filtered_pack_with_consistency(
    workspace: Workspace, tmp_path: Path
) -> None:
    previous = _populate(workspace)
    pack = tmp_path / "pack.zip"
    export_pack(workspace.ledger, pack, system="bot", previous_checkpoint=previous,
                extra_files={"readme.txt": b"hello"})  # fmt: skip
    key = str(workspace.ledger.signer.verifier)
    result = independent.verify(str(pack), key)
    assert verify_pack(str(pack), workspace.ledger.signer.verifier).ok
    assert result["tree_size"] == 29
    assert result["seqs"] == [i for i in range(29) if i % 2 or i >= 13]
    assert result["filters"] == {"since": None, "system": "bot"}
    with zipfile.ZipFile(pack) as archive:
        assert any(n.startswith("payloads/") and n != "payloads/salts.json"
                   for n in archive.namelist())  # fmt: skip


def test_an_unfiltered_pack_lists_every_entry(workspace: Workspace, tmp_path: Path) -> None:
    _populate(workspace)
    pack = tmp_path / "pack.zip"
    export_pack(workspace.ledger, pack)
    result = independent.verify(str(pack), str(workspace.ledger.signer.verifier))
    assert result["seqs"] == list(range(29))


def _rewrite(pack: Path, name: str, old: bytes, new: bytes) -> Path:
    """A copy of the pack with ``old`` replaced by ``new`` in member ``name``."""
    forged = pack.with_name("forged.zip")
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(forged, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == name:
                assert old in data
                data = data.replace(old, new)
            dst.writestr(info.filename, data)
    return forged


@pytest.mark.parametrize(
    ("member", "old", "new"),
    [("entries.jsonl", b"tester", b"tesTer"),
     ("manifest.json", b'"tree_size": 29', b'"tree_size": 28'),
     ("checkpoint.txt", b"\n29\n", b"\n28\n"),
     ("proofs.jsonl", b'"seq": 3', b'"seq": 4')],
)  # fmt: skip
def test_both_verifiers_reject_a_tampered_member(
    workspace: Workspace, tmp_path: Path, member: str, old: bytes, new: bytes
) -> None:
    _populate(workspace)
    pack = tmp_path / "pack.zip"
    export_pack(workspace.ledger, pack)
    forged = _rewrite(pack, member, old, new)
    key = workspace.ledger.signer.verifier
    with pytest.raises(independent.Invalid):
        independent.verify(str(forged), str(key))
    assert not verify_pack(str(forged), key).ok


def test_the_format_document_names_every_member_of_an_exported_pack(
    workspace: Workspace, tmp_path: Path
) -> None:
    previous = _populate(workspace)
    pack = tmp_path / "pack.zip"
    export_pack(workspace.ledger, pack, previous_checkpoint=previous,
                extra_files={"r.json": b"{}"})  # fmt: skip
    doc = _DOC.read_text(encoding="utf-8")
    with zipfile.ZipFile(pack) as archive:
        names = archive.namelist()
        manifest = json.loads(archive.read("manifest.json"))
    for name in names:
        generic = re.sub(r"^payloads/[0-9a-f]{64}$", "payloads/<hex>", name)
        generic = re.sub(r"^reports/.*$", "reports/…", generic)
        assert f"`{generic}`" in doc, name
    for field in manifest:
        assert f'"{field}"' in doc, field


def test_assessment_results_citations_are_proven_as_documented(
    workspace: Workspace, tmp_path: Path
) -> None:
    from assay import catalogs
    from assay.aims import add_system
    from assay.reports.bundle import report_files

    add_system(workspace.store, workspace.ledger, system_id="bot", name="Bot", owner="me",
               actor="t")  # fmt: skip
    workspace.ledger.append([Evidence(
        "assay.dev/redteam-run/v1", "ci", {"attempts": 100, "succeeded": 0},
        Subject("bot", "1"), controls=("iso42001:A.6.2.4",))])  # fmt: skip
    workspace.ledger.checkpoint()
    reports = report_files(workspace, catalogs.framework("iso42001"), "bot", formats=["oscal-ar"])
    pack = tmp_path / "pack.zip"
    export_pack(workspace.ledger, pack, extra_files=reports)
    key = str(workspace.ledger.signer.verifier)
    independent.verify(str(pack), key)
    with zipfile.ZipFile(pack) as archive:
        results = json.loads(archive.read("reports/oscal-ar-iso42001-bot.json"))
        entries = archive.read("entries.jsonl").splitlines()
    proven = independent.check_assessment_citations(results, key)
    assert len(proven) >= 2  # the red-team run and the register change that added the system
    for seq, leaf in proven:
        assert hashlib.sha256(b"\x00" + entries[seq]).hexdigest() == leaf
