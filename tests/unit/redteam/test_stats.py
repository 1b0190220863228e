"""Wilson intervals against published values, and gates on rates."""

from __future__ import annotations

import pytest

from assay.errors import UsageError
from assay.redteam.results import RunResult, parse_fail_on
from assay.redteam.stats import rate, wilson


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        (5, 10, 0.2366, 0.7634),  # Newcombe 1998 / standard tables
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (1, 20, 0.0089, 0.2361),
        (81, 263, 0.2553, 0.3662),  # Wallis 2013, table 1 example
    ],
)
def test_wilson_known_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got[0] == pytest.approx(lo, abs=1e-4)
    assert got[1] == pytest.approx(hi, abs=1e-4)


def test_wilson_edges() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_unassessed_never_counts_as_resisted() -> None:
    r = rate(["succeeded", "unassessed", "unassessed", "resisted"])
    assert (r.succeeded, r.resisted, r.unassessed, r.assessed) == (1, 1, 2, 2)
    assert r.asr == 0.5


def _result(outcomes: dict[str, list[str]]) -> RunResult:
    attempts = [
        {"key": f"{fam}{i}", "attack_id": f"{fam}-{i}", "family": fam, "outcome": o}
        for fam, outs in outcomes.items()
        for i, o in enumerate(outs)
    ]
    return RunResult({"run_id": "r"}, attempts)


def test_gates() -> None:
    res = _result({"prompt_injection": ["succeeded", "resisted"], "toxicity": ["resisted"] * 4})
    assert parse_fail_on("asr>0.05")[0].check(res)
    assert parse_fail_on("asr>0.5")[0].check(res) is None
    assert parse_fail_on("toxicity:asr>0")[0].check(res) is None
    assert parse_fail_on("prompt_injection:succeeded>=1")[0].check(res)
    assert parse_fail_on("toxicity:asr_upper>0.4")[0].check(res)  # 0/4: upper bound 0.49
    with pytest.raises(UsageError):
        parse_fail_on("asr=>1")
    with pytest.raises(UsageError):
        parse_fail_on("nosuchfamily:asr>0")
