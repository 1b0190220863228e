"""JSON helpers shared by the HTTP-based targets: reply paths, templates, env expansion."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from assay.errors import AssayError
from assay.redteam.targets._base import TargetError

_PATH_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[(\d+|-1)\]|\[['\"]([^'\"]+)['\"]\]")


def extract_path(obj: Any, path: str) -> Any:
    """Follow a JSONPath-like path: ``$.choices[0].message.content``, ``data.reply``, ``a.0.b``."""
    current = obj
    body = path[1:] if path.startswith("$") else path
    for match in _PATH_TOKEN.finditer(body):
        key, index, quoted = match.groups()
        if index is not None:
            if not isinstance(current, list):
                raise TargetError(f"reply path {path!r}: expected a list at [{index}]")
            try:
                current = current[int(index)]
            except IndexError:
                raise TargetError(f"reply path {path!r}: index {index} out of range") from None
            continue
        name = quoted if quoted is not None else key
        if isinstance(current, list) and name.lstrip("-").isdigit():
            try:
                current = current[int(name)]
            except IndexError:
                raise TargetError(f"reply path {path!r}: index {name} out of range") from None
        elif isinstance(current, Mapping) and name in current:
            current = current[name]
        else:
            raise TargetError(f"reply path {path!r}: no field {name!r} in the reply")
    return current


_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")


def expand_env(value: str) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise AssayError(f"environment variable {name} is not set (used in target headers)")
        return os.environ[name]

    return _ENV.sub(sub, value)


def render_template(template: Any, values: Mapping[str, Any]) -> Any:
    """Fill ``{{name}}`` placeholders; a string that is exactly one placeholder takes its value."""
    if isinstance(template, str):
        exact = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", template)
        if exact and exact.group(1) in values:
            return values[exact.group(1)]

        def sub(match: re.Match[str]) -> str:
            value = values.get(match.group(1))
            return "" if value is None else value if isinstance(value, str) else json.dumps(value)

        return re.sub(r"\{\{\s*(\w+)\s*\}\}", sub, template)
    if isinstance(template, Mapping):
        return {k: render_template(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render_template(v, values) for v in template]
    return template
