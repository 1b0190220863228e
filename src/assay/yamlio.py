"""The one YAML loader: values that remember their line, duplicate keys refused.

PyYAML's ``safe_load`` forgets where values came from and silently keeps the
last of two equal keys. We compose the node graph instead and build plain
values that remember their source line (:class:`LocDict`, :class:`LocList`),
so every reader (guard policies, catalogs, red-team attacks and targets,
AIMS-as-code) can name the file, line and field at fault. :func:`plain` turns
them back into ordinary dicts and lists; :func:`line_map` gives the line of
each path (for errors that come back as a path, like pydantic's ``loc``); :func:`dump_yaml`
writes YAML. No other module imports PyYAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from assay.errors import Invalid

__all__ = [
    "Lines",
    "Loc",
    "LocDict",
    "LocList",
    "dotted",
    "dump_yaml",
    "fail",
    "line_for",
    "line_map",
    "load_yaml",
    "plain",
    "read_yaml",
]

Loc = tuple[str | int, ...]
Lines = dict[Loc, int]


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


def fail(source: Path | str, line: int, field: str, problem: str) -> Invalid:
    """An error naming the file, line and field at fault (returned, for ``raise``)."""
    return Invalid(f"{source}:{line}: field '{field}': {problem}")


class _Constructor(yaml.SafeLoader):
    """Gives access to PyYAML's safe scalar resolution (ints, dates, booleans)."""


def read_yaml(path: Path, *, allow_empty: bool = False) -> Any:
    """Parse the file at ``path`` (see :func:`load_yaml`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise Invalid(f"{path}: cannot read the file ({exc.strerror}); check the path.") from exc
    return load_yaml(text, path, allow_empty=allow_empty)


def load_yaml(
    text: str, source: Path | str, *, allow_empty: bool = False, what: str = "file"
) -> Any:
    """Parse ``text`` into LocDict/LocList/scalars; errors name ``source`` and the line.

    An empty document is None with ``allow_empty``, else an error saying the
    ``what`` is empty.
    """
    loader = _Constructor(text)
    try:
        node = loader.get_single_node()
        if node is None:
            if allow_empty:
                return None
            raise Invalid(f"{source}:1: the {what} is empty; write a YAML mapping.")
        return _build(node, loader, source, ())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        raise Invalid(f"{source}:{line}: invalid YAML: {exc.problem}; fix the syntax.") from exc
    except yaml.YAMLError as exc:
        raise Invalid(f"{source}: invalid YAML: {exc}; fix the syntax.") from exc
    finally:
        loader.dispose()


def _build(node: yaml.Node, loader: _Constructor, source: Path | str, path: Loc) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = LocDict(line)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise fail(source, key_line, str(key), "mapping keys must be strings")
            if key in out:
                first = out.key_lines[key]
                raise fail(source, key_line, dotted((*path, key)),
                           f"duplicate key (first on line {first})")
            out[key] = _build(value_node, loader, source, (*path, key))
            out.key_lines[key] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LocList(line)
        for i, item in enumerate(node.value):
            seq.append(_build(item, loader, source, (*path, i)))
            seq.item_lines.append(item.start_mark.line + 1)
        return seq
    return loader.construct_object(node, deep=True)


def dump_yaml(value: Any) -> str:
    """``value`` as block-style YAML in its own key order (Unicode kept, lines up to 100)."""
    return yaml.safe_dump(plain(value), sort_keys=False, allow_unicode=True, width=100)


def plain(value: Any) -> Any:
    """``value`` with every LocDict/LocList turned into a plain dict/list."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def line_map(value: Any, path: Loc = ()) -> Lines:
    """The line of every path in a loaded value (``("input", 2, "action")`` -> 7)."""
    lines: Lines = {path: getattr(value, "line", 1)}
    if isinstance(value, LocDict):
        for key, item in value.items():
            lines |= line_map(item, (*path, key))
            lines[(*path, key)] = value.key_lines[key]
    elif isinstance(value, LocList):
        for i, item in enumerate(value):
            lines |= line_map(item, (*path, i))
            lines[(*path, i)] = value.item_lines[i]
    return lines


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
