"""YAML reading that keeps line numbers, so every load error names file, line and field.

PyYAML's ``safe_load`` forgets where values came from; we compose the node
graph instead and build plain Python values that remember their source line.
Duplicate mapping keys (which PyYAML silently accepts) are refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from assay.errors import AssayError

__all__ = ["LocDict", "LocList", "fail", "read_yaml"]


class LocDict(dict[str, Any]):
    """A mapping that knows its own line and the line of each key (1-based)."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        """Line of ``key`` if present, else the line of the mapping itself."""
        return self.key_lines.get(key, self.line)


class LocList(list[Any]):
    """A sequence that knows its own line and the line of each item (1-based)."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


def fail(path: Path | str, line: int, field: str, problem: str) -> AssayError:
    """An error naming the file, line and field at fault (returned, for ``raise``)."""
    return AssayError(f"{path}:{line}: field '{field}': {problem}")


class _Constructor(yaml.SafeLoader):
    """Gives access to PyYAML's safe scalar resolution (ints, dates, booleans)."""


def read_yaml(path: Path) -> Any:
    """Parse ``path`` into LocDict/LocList/scalars; syntax errors become AssayError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AssayError(f"{path}: cannot read the file ({exc.strerror}); check the path.") from exc
    loader = _Constructor(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise AssayError(f"{path}:1: the file is empty; write a YAML mapping.")
        return _build(node, loader, path)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise AssayError(f"{path}:{line}: invalid YAML: {exc.problem}; fix the syntax.") from exc
    finally:
        loader.dispose()


def _build(node: yaml.Node, loader: _Constructor, path: Path) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = LocDict(line)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise fail(path, key_line, str(key), "mapping keys must be strings")
            if key in out:
                raise fail(
                    path, key_line, key, f"duplicate key (first on line {out.key_lines[key]})"
                )
            out[key] = _build(value_node, loader, path)
            out.key_lines[key] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LocList(line)
        for item in node.value:
            seq.append(_build(item, loader, path))
            seq.item_lines.append(item.start_mark.line + 1)
        return seq
    return loader.construct_object(node, deep=True)
