"""Design rules a reviewer would grep for, checked on every run."""

from __future__ import annotations

import re
from pathlib import Path

import assay

SRC = Path(assay.__file__).parent
#: Not evidence types: the audit pack manifest's note header and the drift reference format.
NOT_EVIDENCE = {"assay.dev/pack-manifest/v1", "assay.dev/drift-reference/v1"}


def _modules(*skip: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if not name.startswith(skip):
            found.append((name, path.read_text(encoding="utf-8")))
    return found


def test_only_the_ledger_queries_the_ledger_tables() -> None:
    table = re.compile(r"\bLedger(Entry|Node|Checkpoint|Cosignature)\b")
    # doctor and ops/metrics are store-level probes: they must answer without the signing key.
    skip = ("ledger/", "store/", "doctor.py", "ops/")
    offenders = [name for name, text in _modules(*skip) if table.search(text)]
    assert offenders == [], "read through Ledger.entries / verified_inclusion instead"


def test_evidence_type_uris_are_named_once() -> None:
    literal = re.compile(r"[\"']assay\.dev/[a-z-]+/v\d+[\"']")
    offenders = [
        name
        for name, text in _modules("ledger/evidence.py")
        if {m.strip("\"'") for m in literal.findall(text)} - NOT_EVIDENCE
    ]
    assert offenders == [], "use the constants of assay.ledger.evidence"


def test_one_guard_decision_builder() -> None:
    """Only guard/evidence.py makes guard-decision entries (the gateway calls its builder)."""
    builders = [
        name
        for name, text in _modules()
        if "Evidence(" in text and re.search(r"\bGUARD_DECISION\b|\bEVIDENCE_TYPE\b", text)
        and ("guard" in name or "gateway" in name)
    ]
    assert builders == ["guard/evidence.py"]


def test_no_public_class_name_means_two_things() -> None:
    """One name, one meaning: a public class name is defined in one package only."""
    import ast

    packages: dict[str, set[str]] = {}
    for name, text in _modules():
        for node in ast.parse(text).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                packages.setdefault(node.name, set()).add(name.split("/")[0])
    shared = {n: sorted(p) for n, p in packages.items() if len(p) > 1}
    assert shared == {}


def test_one_yaml_loader() -> None:
    """Every YAML is read by assay.yamlio (lines in errors, duplicate keys refused)."""
    pyyaml = re.compile(r"^import yaml", re.M)
    offenders = [name for name, text in _modules("yamlio.py") if pyyaml.search(text)]
    assert offenders == []
