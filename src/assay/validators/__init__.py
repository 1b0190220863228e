"""Validators: pure, thread-safe checks on prompts and responses.

Use :func:`get_validator` to build one by name and :func:`validator_names` to
list them; every validator returns :class:`Finding` objects whose spans point
at the original text.
"""

from assay.validators.base import (
    TIER_DETERMINISTIC,
    TIER_EMBEDDING,
    TIER_LINEAR,
    CheckContext,
    Finding,
    Span,
    Validator,
)
from assay.validators.normalize import NormalizedText, normalize
from assay.validators.pii import redact
from assay.validators.registry import (
    INPUT_VALIDATORS,
    OUTPUT_VALIDATORS,
    get_validator,
    validator_names,
)

__all__ = [
    "INPUT_VALIDATORS",
    "OUTPUT_VALIDATORS",
    "TIER_DETERMINISTIC",
    "TIER_EMBEDDING",
    "TIER_LINEAR",
    "CheckContext",
    "Finding",
    "NormalizedText",
    "Span",
    "Validator",
    "get_validator",
    "normalize",
    "redact",
    "validator_names",
]
