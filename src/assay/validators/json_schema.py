"""Structured-output check: the response must be JSON that satisfies a JSON Schema subset.

Why our own validator: the core package carries no JSON Schema dependency. We
support the keywords that structured LLM outputs use (type, properties,
required, additionalProperties, items, enum, const, string/number/array bounds,
pattern via RE2, anyOf/oneOf/allOf/not); unknown keywords are ignored as the
JSON Schema specification allows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from assay.errors import AssayError
from assay.validators._deps import require_re2
from assay.validators.base import TIER_DETERMINISTIC, CheckContext, Finding

__all__ = ["JsonSchemaValidator", "schema_errors"]

_FENCE_RE = re.compile(r"```(?:json)?[ \t]*\n(.{0,1000000}?)\n?```", re.DOTALL)
_TYPES: dict[str, Any] = {
    "object": dict, "array": list, "string": str, "boolean": bool, "null": type(None),
}


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    expected = _TYPES.get(name)
    return expected is not None and isinstance(value, expected)


def schema_errors(value: Any, schema: Mapping[str, Any] | bool, path: str = "$") -> list[str]:
    """Every violation of ``schema`` by ``value`` as ``"<json path>: <problem>"``."""
    if schema is True:
        return []
    if schema is False:
        return [f"{path}: not allowed"]
    assert isinstance(schema, Mapping)
    errors: list[str] = []
    t = schema.get("type")
    if t is not None:
        types = [t] if isinstance(t, str) else list(t)
        if not any(_is_type(value, x) for x in types):
            return [f"{path}: expected {'/'.join(types)}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in enum")
    if "const" in schema and value != schema["const"]:
        errors.append(f"{path}: expected const {schema['const']!r}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']}")
        if "pattern" in schema and require_re2().search(schema["pattern"], value) is None:
            errors.append(f"{path}: does not match {schema['pattern']!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        for key, ok in (("minimum", value >= schema.get("minimum", value)),
                        ("maximum", value <= schema.get("maximum", value)),
                        ("exclusiveMinimum", "exclusiveMinimum" not in schema
                         or value > schema["exclusiveMinimum"]),
                        ("exclusiveMaximum", "exclusiveMaximum" not in schema
                         or value < schema["exclusiveMaximum"])):
            if not ok:
                errors.append(f"{path}: violates {key} {schema[key]}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [f"{path}: missing required property {k!r}"
                   for k in schema.get("required", []) if k not in value]
        extra_schema = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                errors += schema_errors(v, props[k], f"{path}.{k}")
            elif extra_schema is False:
                errors.append(f"{path}: unexpected property {k!r}")
            elif isinstance(extra_schema, Mapping):
                errors += schema_errors(v, extra_schema, f"{path}.{k}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: fewer than {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{path}: more than {schema['maxItems']} items")
        if schema.get("uniqueItems"):
            seen = [json.dumps(v, sort_keys=True) for v in value]
            if len(set(seen)) != len(seen):
                errors.append(f"{path}: items are not unique")
        if "items" in schema:
            for i, v in enumerate(value):
                errors += schema_errors(v, schema["items"], f"{path}[{i}]")
    for sub in schema.get("allOf", []):
        errors += schema_errors(value, sub, path)
    if "anyOf" in schema and all(schema_errors(value, s, path) for s in schema["anyOf"]):
        errors.append(f"{path}: matches none of anyOf")
    if "oneOf" in schema and sum(not schema_errors(value, s, path) for s in schema["oneOf"]) != 1:
        errors.append(f"{path}: must match exactly one of oneOf")
    if "not" in schema and not schema_errors(value, schema["not"], path):
        errors.append(f"{path}: matches a forbidden schema")
    return errors


def _extract(text: str) -> Any:
    s = text.strip()
    try:
        return json.loads(s)
    except ValueError:
        pass
    m = _FENCE_RE.search(text)
    if m:
        return json.loads(m.group(1))
    raise ValueError("no JSON document found")


class JsonSchemaValidator:
    """Flags a response that is not JSON or does not satisfy ``schema``."""

    name = "json_schema"
    tier = TIER_DETERMINISTIC

    def __init__(self, *, schema: Mapping[str, Any] | None = None,
                 threshold: float = 0.5) -> None:
        if schema is not None and not isinstance(schema, Mapping):
            raise AssayError("json_schema 'schema' must be a mapping (a JSON Schema object).")
        self.schema: Mapping[str, Any] = schema or {}
        self.threshold = float(threshold)

    def check(self, text: str, ctx: CheckContext | None = None) -> list[Finding]:
        """A finding naming the first problems (invalid JSON or schema violations)."""
        try:
            value = _extract(text)
        except ValueError as exc:
            return [Finding(self.name, 1.0, "invalid_json", ((0, len(text)),), str(exc)[:200])]
        errors = schema_errors(value, self.schema)
        if not errors:
            return []
        return [Finding(self.name, 1.0, "schema_violation", ((0, len(text)),),
                        "; ".join(errors[:5])[:500])]
