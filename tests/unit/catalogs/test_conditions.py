"""The applicability condition language: parsing, validation at load time, evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.catalogs import ConditionError, framework, load_framework_file, parse_condition
from assay.errors import AssayError

VOCAB = {
    "role": ("provider", "deployer"),
    "annex-iii": ("5", "5(b)", "2"),
    "flag": ("public-body",),
}


def test_precedence_grouping_and_negation() -> None:
    cond = parse_condition(
        "role:deployer and not annex-iii:2 and (flag:public-body or annex-iii:5(b))", VOCAB
    )
    assert cond.holds({"role": {"deployer"}, "annex-iii": {"5", "5(b)"}})
    assert not cond.holds({"role": {"deployer"}, "annex-iii": {"2", "5(b)"}})
    assert not cond.holds({"role": {"provider"}, "flag": {"public-body"}})
    either = parse_condition("role:provider or role:deployer and flag:public-body", VOCAB)
    assert either.holds({"role": {"provider"}})  # and binds tighter than or
    assert str(either) == "role:provider or (role:deployer and flag:public-body)"
    assert parse_condition("always", VOCAB).holds({})


def test_trace_marks_each_atom() -> None:
    cond = parse_condition("role:provider and annex-iii:5(b)", VOCAB)
    assert cond.text({"role": {"provider"}}) == "role:provider [yes] and annex-iii:5(b) [no]"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("role:provder", "did you mean provider"),
        ("rol:provider", "unknown fact 'rol'"),
        ("role:provider and", "ends too early"),
        ("(role:provider", "ends too early"),
        ("(role:provider deployer", "unknown word"),
        ("role:provider role:deployer", "unexpected"),
        ("provider", "atoms are written name:value"),
        ("", "empty"),
    ],
)
def test_bad_conditions_say_why(text: str, problem: str) -> None:
    with pytest.raises(ConditionError, match=problem):
        parse_condition(text, VOCAB)


def test_a_catalog_with_a_bad_condition_fails_to_load(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        """\
framework: acme
name: ACME
version: "1"
source: internal
licence: internal
vocabularies:
  facts:
    role: [provider, deployer]
requirements:
  - id: P1
    title: Top
    applies_when: "role:deployr"
    description: A requirement.
    evidence_expectations: []
""",
        encoding="utf-8",
    )
    with pytest.raises(AssayError, match=r"c.yaml:12.*applies_when.*did you mean deployer"):
        load_framework_file(path)


def test_every_eu_ai_act_leaf_states_its_condition() -> None:
    fw = framework("eu-ai-act")
    parents = {r.parent for r in fw.requirements}
    leaves = [r for r in fw.requirements if r.id not in parents]
    missing = [r.id for r in leaves if fw.condition(r.id) is None]
    assert missing == []
    for ref in ("Art.23(1)", "Art.24(1)", "Art.25(1)", "Art.86(1)", "Art.53(1)(a)"):
        assert ref in fw, ref
