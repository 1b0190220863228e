"""A reference built once per session from a synthetic stationary stream."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assay.drift import Reference, build_reference
from assay.drift.synthetic import stream


@pytest.fixture(scope="session")
def reference() -> Reference:
    return replace(build_reference(stream(20_000, seed=1), "support-bot"), version=1)
