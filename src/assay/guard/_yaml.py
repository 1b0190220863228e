"""YAML reading that remembers where each value came from.

A policy error must name the line at fault, but ``yaml.safe_load`` forgets
source positions. We compose PyYAML's node graph instead and record the line
of every key and item under its path (``("input", 2, "action")``), so a
pydantic error ``loc`` maps straight back to a line.
"""

from __future__ import annotations

from typing import Any

import yaml

from assay.errors import AssayError

__all__ = ["Lines", "Loc", "dotted", "line_for", "read_yaml_text"]

Loc = tuple[str | int, ...]
Lines = dict[Loc, int]


class _Loader(yaml.SafeLoader):
    """Safe scalar resolution (ints, floats, booleans) without arbitrary objects."""


def read_yaml_text(text: str, source: str) -> tuple[Any, Lines]:
    """Parse ``text`` into plain values and a path -> line (1-based) map."""
    loader = _Loader(text)
    lines: Lines = {}
    try:
        node = loader.get_single_node()
        if node is None:
            raise AssayError(f"{source}:1: the policy is empty; write a YAML mapping "
                             "(see `assay guard policy show-default`).")
        return _build(node, loader, (), lines, source), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise AssayError(f"{source}:{line}: invalid YAML: {exc.problem}; fix the syntax.") from exc
    except yaml.YAMLError as exc:
        raise AssayError(f"{source}: invalid YAML: {exc}; fix the syntax.") from exc
    finally:
        loader.dispose()


def _build(node: yaml.Node, loader: _Loader, path: Loc, lines: Lines, source: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise AssayError(f"{source}:{key_line}: {key!r}: keys must be strings.")
            if key in out:
                raise AssayError(f"{source}:{key_line}: {dotted((*path, key))}: duplicate key; "
                                 "keep one.")
            out[key] = _build(value_node, loader, (*path, key), lines, source)
            lines[(*path, key)] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loader, (*path, i), lines, source)
                for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def line_for(lines: Lines, loc: Loc) -> int:
    """The line of ``loc`` or of its nearest recorded ancestor."""
    for n in range(len(loc), -1, -1):
        line = lines.get(tuple(loc[:n]))
        if line is not None:
            return line
    return 1


def dotted(loc: Loc) -> str:
    """``("input", 2, "action")`` -> ``input[2].action``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"
