"""Audit packs verify with only the public key, and name the file that was tampered with."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from assay.ledger import Evidence, Subject
from assay.ledger.keys import load_verifier
from assay.ledger.pack import export_pack
from assay.ledger.verify import verify_pack
from assay.workspace import Workspace, init_workspace


def _populate(ws: Workspace, n: int = 30) -> None:
    ws.ledger.append(
        [
            Evidence(
                type="assay.dev/eval-report/v1",
                actor="tester",
                subject=Subject("bot" if i % 2 else "other"),
                summary={"i": i},
                payload=f'{{"report": {i}}}'.encode(),
            )
            for i in range(n)
        ]
    )


def _export(ws: Workspace, tmp_path: Path, **kwargs: object) -> Path:
    out = tmp_path / "pack.zip"
    export_pack(ws.ledger, out, **kwargs)  # type: ignore[arg-type]
    offline = tmp_path / "offline"
    offline.mkdir()
    return Path(shutil.copy(out, offline / "pack.zip"))


def test_pack_verifies_with_only_the_public_key(workspace: Workspace, tmp_path: Path) -> None:
    _populate(workspace)
    pack = _export(workspace, tmp_path, extra_files={"soa.json": b"{}"})
    key = load_verifier(workspace.public_key_path.read_text().strip())
    report = verify_pack(str(pack), key)
    assert report.ok, report.problems
    assert report.entries == 30 and report.payloads == 30 and report.tree_size == 30


def test_system_filter_and_consistency(workspace: Workspace, tmp_path: Path) -> None:
    _populate(workspace, 10)
    previous = workspace.ledger.checkpoint()
    _populate(workspace, 10)
    pack = _export(workspace, tmp_path, system="bot", previous_checkpoint=previous)
    report = verify_pack(str(pack), workspace.ledger.signer.verifier)
    assert report.ok, report.problems
    assert report.entries == 10
    assert "consistency.json" in zipfile.ZipFile(pack).namelist()


def _rewrite(pack: Path, name: str, content: bytes) -> None:
    with zipfile.ZipFile(pack) as src:
        files = {i.filename: src.read(i) for i in src.infolist()}
    files[name] = content
    with zipfile.ZipFile(pack, "w") as dst:
        for fname, data in files.items():
            dst.writestr(fname, data)


@pytest.mark.parametrize(
    "name",
    [
        "entries.jsonl",
        "proofs.jsonl",
        "checkpoint.txt",
        "public-key.txt",
        "reports/soa.json",
        "manifest.json",
    ],
)
def test_tampering_with_any_file_is_named(workspace: Workspace, tmp_path: Path, name: str) -> None:
    _populate(workspace, 5)
    pack = _export(workspace, tmp_path, extra_files={"soa.json": b'{"ok": true}'})
    with zipfile.ZipFile(pack) as src:
        original = src.read(name)
    _rewrite(pack, name, original.replace(b"1", b"2", 1) if b"1" in original else original + b" ")
    report = verify_pack(str(pack), workspace.ledger.signer.verifier)
    assert not report.ok
    assert any(p.startswith(name) for p in report.problems), report.problems


def test_tampered_payload_and_added_file_are_named(workspace: Workspace, tmp_path: Path) -> None:
    _populate(workspace, 3)
    pack = _export(workspace, tmp_path)
    payload = next(
        n
        for n in zipfile.ZipFile(pack).namelist()
        if n.startswith("payloads/") and "salts" not in n
    )
    _rewrite(pack, payload, b'{"report": 999}')
    _rewrite(pack, "extra.txt", b"hello")
    problems = verify_pack(str(pack), workspace.ledger.signer.verifier).problems
    assert any(p.startswith(payload) for p in problems)
    assert any(p.startswith("extra.txt") for p in problems)


def test_pack_from_another_log_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    _populate(workspace, 3)
    pack = _export(workspace, tmp_path)
    other = init_workspace(tmp_path / "other")
    try:
        report = verify_pack(str(pack), other.ledger.signer.verifier)
    finally:
        other.close()
    assert not report.ok
    assert "another log" in report.problems[0]
