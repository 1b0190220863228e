"""Audit packs verify with only the public key, and name the file that was tampered with."""

from __future__ import annotations

import shutil
import warnings
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


# -- issue #19 items 6, 7, 8 and 16: crafted packs ----------------------------------------


def _members(pack: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(pack) as src:
        return [(i.filename, src.read(i)) for i in src.infolist()]


def _write(pack: Path, members: list[tuple[str, bytes]]) -> None:
    with warnings.catch_warnings(), zipfile.ZipFile(pack, "w", zipfile.ZIP_DEFLATED) as dst:
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        for name, data in members:
            dst.writestr(name, data)


def test_a_duplicate_member_name_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    """Item 6: a forged entries.jsonl first, the genuine one second; unzip -n takes the first."""
    _populate(workspace, 3)
    pack = _export(workspace, tmp_path)
    members = _members(pack)
    genuine = dict(members)["entries.jsonl"]
    _write(pack, [("entries.jsonl", genuine.replace(b"1", b"7")), *members])
    report = verify_pack(str(pack), workspace.ledger.signer.verifier)
    assert not report.ok
    assert report.problems[0].startswith("entries.jsonl: more than one member")


def test_member_names_cannot_spoof_the_output(workspace: Workspace, tmp_path: Path) -> None:
    """Item 7: escape codes in a name must not reach the terminal."""
    from typer.testing import CliRunner

    from assay.cli.main import app

    _populate(workspace, 2)
    pack = _export(workspace, tmp_path)
    evil = "reports/\x1b[1A\x1b[2K\rOK: 2 entries proven\u202e.txt"
    _write(pack, [*_members(pack), (evil, b"x")])
    report = verify_pack(str(pack), workspace.ledger.signer.verifier)
    assert not report.ok
    assert all("\x1b" not in p and "\r" not in p and "\u202e" not in p for p in report.problems)
    assert any("\\x1b[1A" in p for p in report.problems)
    key = workspace.public_key_path.read_text().strip()
    out = CliRunner().invoke(app, ["pack", "verify", str(pack), "--key", key])
    assert out.exit_code == 1 and "\x1b" not in out.output and "\r" not in out.output


def test_a_zip_bomb_is_bounded(workspace: Workspace, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Item 8: members are inflated in chunks up to a cap, never read whole."""
    from assay.ledger import _members as reader

    monkeypatch.setattr(reader, "MAX_MEMBER", 1 << 20)
    _populate(workspace, 2)
    pack = _export(workspace, tmp_path)
    _write(pack, [*_members(pack), ("reports/bomb.bin", bytes(8 << 20))])
    assert pack.stat().st_size < 200_000
    report = verify_pack(str(pack), workspace.ledger.signer.verifier)
    assert report.problems == [f"reports/bomb.bin: inflates past {1 << 20} bytes (a zip bomb?)"]


@pytest.mark.parametrize(("name", "content"), [
    ("proofs.jsonl", b"not json\nnot json\n"),
    ("proofs.jsonl", b'{"seq": "x"}\n[]\n'),
    ("entries.jsonl", b"[]\n{}\n"),
    ("checkpoint.txt", b"\xff\xfe"),
    ("payloads/salts.json", b"[1, 2]"),
    ("payloads/salts.json", b'{"sha256:00": "zz"}'),
    ("consistency.json", b'{"old_checkpoint": 5, "proof": "x"}'),
    ("consistency.json", b"[]"),
])
def test_crafted_members_are_named_not_internal_errors(
    workspace: Workspace, tmp_path: Path, name: str, content: bytes
) -> None:
    """Item 16: every damaged member ends in a problem naming it, never an exception."""
    _populate(workspace, 2)
    previous = workspace.ledger.checkpoint()
    _populate(workspace, 2)
    pack = _export(workspace, tmp_path, previous_checkpoint=previous)
    _write(pack, [(n, content if n == name else data) for n, data in _members(pack)])
    report = verify_pack(str(pack), workspace.ledger.signer.verifier)
    assert not report.ok
    assert report.problems[0].startswith(name), report.problems  # and nothing raised


def test_a_flipped_byte_names_the_member(workspace: Workspace, tmp_path: Path) -> None:
    _populate(workspace, 2)
    pack = _export(workspace, tmp_path)
    with zipfile.ZipFile(pack) as src:
        info = src.getinfo("entries.jsonl")
    raw = bytearray(pack.read_bytes())
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5
    raw[at] ^= 0xFF
    pack.write_bytes(bytes(raw))
    report = verify_pack(str(pack), workspace.ledger.signer.verifier)
    assert not report.ok
    assert report.problems[0].startswith("entries.jsonl: damaged in the zip")
