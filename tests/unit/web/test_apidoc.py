"""docs/api.md is generated from the OpenAPI spec and kept up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_api_reference_is_current() -> None:
    docs = Path(__file__).parents[3] / "docs" / "api.md"
    fresh = subprocess.run(
        [sys.executable, "-m", "assay.web.apidoc"], capture_output=True, text=True, check=True
    ).stdout
    assert docs.read_text() == fresh, "stale: python -m assay.web.apidoc > docs/api.md"
    assert "`/api/v1/systems`" in fresh
