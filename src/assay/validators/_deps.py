"""Optional dependencies, imported on first use with a one-sentence fix on failure."""

from __future__ import annotations

import importlib
from types import ModuleType

from assay.errors import AssayError

__all__ = ["require_numpy", "require_re2"]


def require_numpy() -> ModuleType:
    """numpy, which the model-based validators need (the ``ml`` extra)."""
    try:
        import numpy
    except ImportError as exc:  # pragma: no cover - exercised only without numpy
        raise AssayError(
            "The model-based validators need numpy; install assay[ml] "
            "(pip install 'assay[ml]')."
        ) from exc
    return numpy


def require_re2() -> ModuleType:
    """google-re2, the linear-time regex engine used for user-supplied patterns."""
    try:
        re2 = importlib.import_module("re2")
    except ImportError as exc:  # pragma: no cover - exercised only without re2
        raise AssayError(
            "User-supplied regular expressions need the linear-time RE2 engine; "
            "install assay[ml] (pip install 'assay[ml]')."
        ) from exc
    return re2
