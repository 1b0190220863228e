"""The fast RFC 8785 path gives the reference implementation's bytes, or its error."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from assay.ledger.canonical import canonical_bytes
from assay.workspace import Workspace

# every code point, lone surrogates included; non-ASCII and astral names exercise the
# UTF-16 member order, lone surrogates the reference fallback
TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
SCALARS = (
    st.none() | st.booleans() | TEXT
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=True, allow_infinity=True)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner)
    | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=25,
)


def _reference(value: Any) -> bytes | type[Exception]:
    try:
        return bytes(rfc8785.dumps(value))
    except Exception as exc:  # the type of error is what must match
        return type(exc)


def _fast(value: Any) -> bytes | type[Exception]:
    try:
        return canonical_bytes(value)
    except Exception as exc:
        return type(exc)


@settings(max_examples=1500, deadline=None)
@given(JSON)
def test_same_bytes_or_same_error_as_the_reference(value: Any) -> None:
    assert _fast(value) == _reference(value)


@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_double_is_laid_out_as_ecmascript_does(x: float) -> None:
    assert canonical_bytes(x) == bytes(rfc8785.dumps(x))


@pytest.mark.parametrize("x, expected", [
    (0.0, b"0"), (-0.0, b"0"), (5.0, b"5"), (1e21, b"1e+21"), (1e20, b"100000000000000000000"),
    (1e-6, b"0.000001"), (1e-7, b"1e-7"), (-1.5e-7, b"-1.5e-7"), (0.1, b"0.1"),
    (123.456, b"123.456"), (2.0**53, b"9007199254740992"),
])
def test_number_layout_examples_from_the_rfc(x: float, expected: bytes) -> None:
    assert canonical_bytes(x) == expected


def test_member_order_is_by_utf16_code_units() -> None:
    # U+FF61 sorts after U+1F600 by code point but before it by UTF-16 code unit
    value = {"\U0001f600": 1, "\uff61": 2, "a": 3}
    assert canonical_bytes(value) == bytes(rfc8785.dumps(value))
    assert canonical_bytes(value).index("\U0001f600".encode()) < canonical_bytes(value).index(
        "\uff61".encode())


# -- issue #19 item 17: integers beyond 2**53 - 1 are refused up front, with the field -----


@pytest.mark.parametrize(
    ("summary", "where"),
    [({"n": 2**53}, "summary.n"), ({"a": [1, -(2**53)]}, "summary.a[1]"),
     ({"x": {"big": 2**64}}, "summary.x.big")],
)  # fmt: skip
def test_integers_beyond_the_double_range_are_refused_with_their_field(
    summary: dict[str, object], where: str
) -> None:
    from assay.errors import AssayError
    from assay.ledger import Evidence

    with pytest.raises(AssayError, match=rf"{re.escape(where)} holds the integer .* as a string"):
        Evidence("assay.dev/note/v1", "t", summary).check()


def test_the_largest_safe_integers_and_large_doubles_are_kept_exactly(tmp_path: Path) -> None:
    from assay.ledger import Evidence
    from assay.ledger.evidence import MAX_SAFE_INTEGER, canonical_json

    summary = {"max": MAX_SAFE_INTEGER, "min": -MAX_SAFE_INTEGER, "double": 2.0**60}
    Evidence("assay.dev/note/v1", "t", summary).check()
    assert canonical_json(summary) == (
        b'{"double":1152921504606847000,"max":9007199254740991,"min":-9007199254740991}'
    )


def test_the_batcher_refuses_a_big_integer_at_submit(workspace: Workspace, tmp_path: Path) -> None:
    from assay.errors import AssayError
    from assay.ledger import Batcher, Evidence

    batcher = Batcher(workspace.ledger, spill_dir=tmp_path / "spill")
    with pytest.raises(AssayError, match=r"summary\.count"):
        batcher.submit(Evidence("assay.dev/note/v1", "t", {"count": 10**20}))
    batcher.close()
    assert workspace.ledger.size() == 0 and not (tmp_path / "spill").exists()
