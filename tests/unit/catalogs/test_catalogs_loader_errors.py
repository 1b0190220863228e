"""Bad catalog, crosswalk and evidence files are refused with file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import assay.catalogs as catalogs
from assay.catalogs.loader import load_crosswalk_file, load_evidence_types_file
from assay.errors import AssayError

GOOD = """\
framework: acme-policy
name: ACME AI policy
version: "1"
source: internal
licence: internal use
requirements:
  - id: P1
    title: Top
    description: The top requirement.
    evidence_expectations: []
  - id: P1.1
    title: Child
    parent: P1
    description: A child requirement.
    evidence_expectations: [a record]
"""


def _write(tmp_path: Path, text: str, name: str = "custom.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(AssayError) as info:
        catalogs.load_framework_file(path)
    return str(info.value)


def test_good_custom_framework_loads(tmp_path: Path) -> None:
    fw = catalogs.load_framework_file(_write(tmp_path, GOOD))
    assert fw.id == "acme-policy" and [r.id for r in fw.requirements] == ["P1", "P1.1"]
    assert fw.ancestors("P1.1")[0].id == "P1"


def test_unknown_parent_names_file_line_field(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("parent: P1", "parent: P9"))
    message = _error(path)
    assert message.startswith(f"{path}:13: field 'requirements[1].parent'")
    assert "unknown ID 'P9'" in message


def test_duplicate_id(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("id: P1.1", "id: P1"))
    message = _error(path)
    assert (
        message.startswith(f"{path}:11: field 'requirements[1].id'")
        and "duplicate ID 'P1'" in message
    )
    assert "line 7" in message


def test_parent_cycle(tmp_path: Path) -> None:
    text = GOOD.replace("    title: Top\n", "    title: Top\n    parent: P1.1\n")
    path = _write(tmp_path, text)
    message = _error(path)
    assert message.startswith(f"{path}:9: field 'requirements[0].parent'") and "cycle" in message


def test_self_parent_is_a_cycle(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("parent: P1", "parent: P1.1"))
    assert "cycle" in _error(path)


def test_missing_required_requirement_field(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("    description: A child requirement.\n", ""))
    message = _error(path)
    assert message.startswith(f"{path}:11: field 'requirements[1].description'")
    assert "required field is missing" in message


def test_missing_required_top_level_field(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("licence: internal use\n", ""))
    assert _error(path).startswith(f"{path}:1: field 'licence': required field is missing")


def test_unknown_field_and_unquoted_number(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("    title: Child\n", "    title: Child\n    owner: me\n"))
    assert _error(path).startswith(f"{path}:13: field 'requirements[1].owner': unknown field")
    path = _write(tmp_path, GOOD.replace("id: P1.1", "id: 4.1").replace("parent: P1", "parent: P1"))
    assert 'quote numbers such as "4.1"' in _error(path)


def test_duplicate_yaml_key_and_syntax_error(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('version: "1"\n', 'version: "1"\nversion: "2"\n'))
    assert _error(path).startswith(f"{path}:4: field 'version': duplicate key")
    path = _write(tmp_path, GOOD + "  - id: [unclosed\n")
    assert f"{path}:" in _error(path) and "invalid YAML" in _error(path)


def test_vocabulary_is_enforced(tmp_path: Path) -> None:
    text = GOOD.replace(
        "requirements:\n", "vocabularies:\n  duty_holders: [provider]\nrequirements:\n"
    ).replace("    parent: P1\n", "    parent: P1\n    duty_holders: [importer]\n")
    path = _write(tmp_path, text)
    assert "field 'requirements[1].duty_holders': 'importer' is not one of provider" in _error(path)


def test_crosswalk_unknown_id_and_bad_type(tmp_path: Path) -> None:
    fws = catalogs.frameworks()
    base = """\
    sources:
      s: {title: test}
    relations:
      - from: iso42001:A.6.2.4
        to: nist-ai-rmf:MEASURE-2.7
        type: intersects
        rationale: r
        source: s
    """
    assert len(load_crosswalk_file(_write(tmp_path, base, "x.yaml"), fws)) == 1
    path = _write(tmp_path, base.replace("iso42001:A.6.2.4", "iso42001:A.6.6"), "x.yaml")
    with pytest.raises(
        AssayError, match=r"x\.yaml:4: field 'relations\[0\]\.from': unknown requirement 'A\.6\.6'"
    ):
        load_crosswalk_file(path, fws)
    path = _write(tmp_path, base.replace("type: intersects", "type: overlaps"), "x.yaml")
    with pytest.raises(
        AssayError, match=r"x\.yaml:6: field 'relations\[0\]\.type': 'overlaps' is not one of"
    ):
        load_crosswalk_file(path, fws)
    path = _write(tmp_path, base.replace("nist-ai-rmf:MEASURE-2.7", "iso42001:A.6.2.5"), "x.yaml")
    with pytest.raises(AssayError, match="two different frameworks"):
        load_crosswalk_file(path, fws)


def test_evidence_types_unknown_ref_and_bad_freshness(tmp_path: Path) -> None:
    fws = catalogs.frameworks()
    base = """\
    types:
      - type: assay.dev/thing/v1
        title: T
        description: D
        produced_by: test
        freshness_days: 30
        supports: [eu-ai-act:Art.15(5)]
    """
    assert "assay.dev/thing/v1" in load_evidence_types_file(_write(tmp_path, base, "e.yaml"), fws)
    path = _write(tmp_path, base.replace("Art.15(5)", "Art.15(9)"), "e.yaml")
    with pytest.raises(
        AssayError, match=r"e\.yaml:7: field 'types\[0\]\.supports': unknown requirement"
    ):
        load_evidence_types_file(path, fws)
    path = _write(tmp_path, base.replace("30", "-1"), "e.yaml")
    with pytest.raises(AssayError, match=r"e\.yaml:6: field 'types\[0\]\.freshness_days'"):
        load_evidence_types_file(path, fws)


def test_import_framework_copies_and_refuses_builtin_ids(tmp_path: Path) -> None:
    dest = tmp_path / "ws" / "frameworks"
    fw = catalogs.import_framework(_write(tmp_path, GOOD), dest)
    assert fw.path == dest / "acme-policy.yaml" and fw.path.exists()
    assert set(catalogs.load_custom_frameworks(dest)) == {"acme-policy"}
    assert catalogs.resolve("acme-policy:P1.1", extra={"acme-policy": fw}).title == "Child"
    clash = _write(
        tmp_path, GOOD.replace("framework: acme-policy", "framework: iso42001"), "c.yaml"
    )
    with pytest.raises(AssayError, match="built-in framework"):
        catalogs.import_framework(clash, dest)
    bad = _write(tmp_path, GOOD.replace("parent: P1", "parent: P9"), "bad.yaml")
    with pytest.raises(AssayError, match="unknown ID"):
        catalogs.import_framework(bad, dest)
    assert not (dest / "bad.yaml").exists()
