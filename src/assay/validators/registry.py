"""Validator names and factories: ``get_validator(name, **params)``.

Factories import their module lazily, so using a deterministic validator never
imports numpy, and a missing optional dependency surfaces as an
:class:`~assay.errors.AssayError` naming the ``ml`` extra.
"""

from __future__ import annotations

import importlib
from typing import Any

from assay.errors import AssayError
from assay.validators.base import Validator

__all__ = ["INPUT_VALIDATORS", "OUTPUT_VALIDATORS", "get_validator", "validator_names"]

#: name -> (module, class, fixed keyword arguments)
_FACTORIES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "pii": ("pii", "PiiValidator", {}),
    "secrets": ("secrets", "SecretsValidator", {}),
    "invisible_text": ("invisible", "InvisibleTextValidator", {}),
    "encoded_payload": ("encoded", "EncodedPayloadValidator", {}),
    "language": ("language", "LanguageValidator", {}),
    "length": ("text_rules", "LengthValidator", {}),
    "banned_substrings": ("text_rules", "BannedSubstringsValidator", {}),
    "regex": ("text_rules", "RegexValidator", {}),
    "urls": ("text_rules", "UrlsValidator", {}),
    "json_schema": ("json_schema", "JsonSchemaValidator", {}),
    "system_prompt_leak": ("output_checks", "SystemPromptLeakValidator", {}),
    "refusal": ("output_checks", "RefusalValidator", {}),
    "relevance": ("output_checks", "RelevanceValidator", {}),
    "banned_topics": ("output_checks", "BannedTopicsValidator", {}),
    # The guard encoder: four heads on one fine-tuned transformer (tier 2).
    "prompt_injection": ("encoder", "EncoderValidator", {"name": "prompt_injection"}),
    "jailbreak": ("encoder", "EncoderValidator", {"name": "jailbreak"}),
    "harmful_request": ("encoder", "EncoderValidator", {"name": "harmful_request"}),
    "toxicity": ("encoder", "EncoderValidator", {"name": "toxicity"}),
    # The earlier hashed n-gram models (tier 1): faster, weaker on unseen sources.
    "prompt_injection_lexical": ("injection", "InjectionValidator",
                                 {"name": "prompt_injection_lexical",
                                  "model": "prompt_injection"}),
    "jailbreak_lexical": ("linear", "LinearTextValidator",
                          {"name": "jailbreak_lexical", "model": "jailbreak"}),
    "harmful_request_lexical": ("linear", "LinearTextValidator",
                                {"name": "harmful_request_lexical", "model": "harmful_request"}),
    "toxicity_lexical": ("linear", "LinearTextValidator",
                         {"name": "toxicity_lexical", "model": "toxicity"}),
}

INPUT_VALIDATORS = ("prompt_injection", "jailbreak", "harmful_request", "toxicity", "pii",
                    "prompt_injection_lexical", "jailbreak_lexical", "harmful_request_lexical",
                    "toxicity_lexical",
                    "secrets", "invisible_text", "encoded_payload", "language", "length",
                    "banned_topics", "banned_substrings", "regex", "urls")
OUTPUT_VALIDATORS = ("pii", "secrets", "system_prompt_leak", "toxicity", "toxicity_lexical",
                     "refusal",
                     "json_schema", "relevance", "urls", "banned_substrings", "regex",
                     "banned_topics", "language", "length", "invisible_text")


def validator_names() -> list[str]:
    """Every registered validator name, sorted."""
    return sorted(_FACTORIES)


def get_validator(name: str, **params: Any) -> Validator:
    """Build the validator ``name`` with its parameters (from a policy entry)."""
    spec = _FACTORIES.get(name)
    if spec is None:
        raise AssayError(f"Unknown validator {name!r}; choose one of: "
                         + ", ".join(validator_names()) + ".")
    module_name, class_name, fixed = spec
    module = importlib.import_module(f"assay.validators.{module_name}")
    cls = getattr(module, class_name)
    try:
        built: Validator = cls(**fixed, **params)
    except TypeError as exc:
        raise AssayError(f"Bad parameters for validator {name!r}: {exc}; check the policy "
                         "entry's keys.") from exc
    return built
