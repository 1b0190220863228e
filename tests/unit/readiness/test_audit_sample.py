"""The auditor's sample: reproducible from its seed, recomputable by hand, recorded as evidence."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from assay.aims.audit_sample import draw_sample, population_digest, rank_sample
from assay.aims.readiness import readiness
from assay.cli.main import run
from assay.errors import Invalid
from assay.ledger.evidence import AUDIT_SAMPLE
from assay.workspace import Workspace

from .conftest import Append


@pytest.fixture
def cited(ws: Workspace, append: Append) -> list[int]:
    return [append("assay.dev/redteam-run/v1", days_ago=d) for d in (1, 2, 3)] + [
        append("assay.dev/guard-decision/v1", summary={"action": "block"}) for _ in range(3)
    ]


def test_the_same_seed_draws_the_same_sample_and_records_each_draw(
    ws: Workspace, cited: list[int]
) -> None:
    first = draw_sample(ws.store, ws.ledger, "iso42001", actor="auditor", system="bot",
                        seed="stage2-2026", requirements=5, entries=2)
    again = draw_sample(ws.store, ws.ledger, "iso42001", actor="auditor", system="bot",
                        seed="stage2-2026", requirements=5, entries=2)
    other = draw_sample(ws.store, ws.ledger, "iso42001", actor="auditor", system="bot",
                        seed="another", requirements=5, entries=2)
    assert first.requirements == again.requirements and first.entries == again.entries
    assert first.population_digest == again.population_digest
    assert other.requirements != first.requirements  # 5 of ~50: another seed draws others
    assert len(first.requirements) == 5 and len(set(first.requirements)) == 5
    result = readiness(ws.store, ws.ledger, "iso42001", system="bot", sign=False)
    cited_by_readiness = {c.seq for item in result.items for c in item.evidence}
    assert set(first.entries) <= cited_by_readiness  # entries come from what readiness cites
    assert set(cited) & cited_by_readiness
    recorded = [e.decoded() for e in ws.ledger.entries(AUDIT_SAMPLE)]
    assert len(recorded) == 3  # every draw is in the ledger: none can be redrawn quietly
    assert recorded[0]["summary"]["requirements"] == list(first.requirements)
    assert recorded[0]["subject"]["system"] == "bot"


def test_the_sample_can_be_recomputed_with_plain_sha256(ws: Workspace, cited: list[int]) -> None:
    drawn = draw_sample(ws.store, ws.ledger, "iso42001", actor="a", system="bot", seed="s1",
                        requirements=4, entries=3)
    result = readiness(ws.store, ws.ledger, "iso42001", system="bot", sign=False)
    population = [item.ref for item in result.items if item.applicable]
    by_hand = sorted(population, key=lambda m: hashlib.sha256(f"s1:{m}".encode()).hexdigest())
    assert list(drawn.requirements) == by_hand[:4]
    entries = sorted({c.seq for item in result.items if item.applicable for c in item.evidence})
    assert drawn.population_digest == population_digest(population, entries)
    assert drawn.entry_population == len(entries)


def test_rank_sample_and_bounds(ws: Workspace) -> None:
    assert rank_sample(["a", "b", "c"], "x", 0) == []
    assert sorted(rank_sample(["a", "b", "c", "a"], "x", 10)) == ["a", "b", "c"]
    with pytest.raises(Invalid, match="between 0 and 500"):
        draw_sample(ws.store, ws.ledger, "iso42001", actor="a", requirements=501)
    with pytest.raises(Invalid, match="seed"):
        draw_sample(ws.store, ws.ledger, "iso42001", actor="a", seed=" ")


def test_cli(ws: Workspace, cited: list[int], capsys: pytest.CaptureFixture[str]) -> None:
    root = str(ws.root)
    capsys.readouterr()
    args = ["-w", root, "audits", "sample", "-f", "iso42001", "-s", "bot", "--seed", "k",
            "--requirements", "3", "--json"]
    assert run(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "sha256-rank/v1" and len(out["requirements"]) == 3
    assert run(args) == 0
    assert json.loads(capsys.readouterr().out)["requirements"] == out["requirements"]
    assert run(["-w", root, "audits", "sample", "-f", "iso42001", "--entries", "-1"]) == 2


def test_worksheet_carries_the_sample_and_verifiable_proofs(
    ws: Workspace, cited: list[int], tmp_path: Path
) -> None:
    import io

    import openpyxl

    from assay.ledger.merkle import hash_leaf, verify_inclusion
    from assay.reports import audit_sample_workbook

    drawn = draw_sample(ws.store, ws.ledger, "iso42001", actor="a", system="bot", seed="w",
                        requirements=3, entries=2)
    book = openpyxl.load_workbook(io.BytesIO(audit_sample_workbook(ws.store, ws.ledger,
                                                                   drawn.seq)))
    fields = {row[0]: row[1] for row in book["Sample"].iter_rows(min_row=2, values_only=True)}
    assert fields["Seed"] == "w" and fields["Sample entry"] == drawn.seq
    reqs = [row[0] for row in book["Requirements"].iter_rows(min_row=2, values_only=True)]
    assert reqs == list(drawn.requirements)
    size, root = int(fields["Checkpoint tree size"]), bytes.fromhex(fields["Checkpoint root"])
    for row in book["Entries"].iter_rows(min_row=2, values_only=True):
        seq, leaf, path = int(row[0]), bytes.fromhex(row[4]), [bytes.fromhex(h)
                                                               for h in row[5].split()]
        assert leaf == hash_leaf(ws.ledger.get(seq).entry)
        verify_inclusion(leaf, seq, size, path, root)  # raises if the proof were wrong
    with pytest.raises(Invalid, match="not an audit sample"):
        audit_sample_workbook(ws.store, ws.ledger, cited[0])
    out = tmp_path / "s.xlsx"
    assert run(["-w", str(ws.root), "audits", "sample", "-f", "iso42001", "--seed", "w",
                "--worksheet", str(out)]) == 0
    assert out.stat().st_size > 1000
