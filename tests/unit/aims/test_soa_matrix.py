"""ISO/IEC 42001 Annex A applicability from the scope (data/soa_scope_matrix.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from assay.aims.soa import Scope, annex_a_controls, build

PROFILES: dict[str, dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "soa_scope_matrix.yaml").read_text(encoding="utf-8")
)["profiles"]


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_scope_profile(name: str) -> None:
    profile = PROFILES[name]
    scope = Scope(**{k: tuple(v) for k, v in profile["scope"].items()})
    entries = {e.control.split(":")[1]: e for e in build(annex_a_controls(), {}, (), scope)}
    for control, cite in (profile.get("required") or {}).items():
        assert cite.startswith(control), cite
        entry = entries[control]
        assert entry.applicable and entry.justification.startswith("Required by scope"), control
    for control, (reason, cite) in (profile.get("excluded") or {}).items():
        assert cite.startswith(control), cite
        entry = entries[control]
        assert not entry.applicable and reason in entry.justification, control
