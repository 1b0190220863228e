"""Load and validate catalog, crosswalk and evidence-type files (once, then cached).

Every file goes through the same checks, built-in or a user's custom framework:
missing required field, wrong type, unknown field, duplicate ID, unknown ID
(a parent, a crosswalk end, an evidence mapping) and parent cycles are refused
with an :class:`~assay.errors.AssayError` naming file, line and field.
"""

from __future__ import annotations

import difflib
import functools
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from assay.catalogs.conditions import Condition, ConditionError, parse
from assay.catalogs.model import (
    FRAMEWORK_ID_PATTERN,
    ID_PATTERN,
    ApplicationDate,
    EvidenceType,
    Framework,
    Relation,
    RelationType,
    Requirement,
    parse_ref,
)
from assay.errors import AssayError, NotFound
from assay.yamlio import LocDict, LocList, fail, read_yaml

__all__ = [
    "BUILTIN_FRAMEWORKS",
    "DATA_DIR",
    "Catalogs",
    "builtin",
    "import_framework",
    "load_crosswalk_file",
    "load_custom_frameworks",
    "load_evidence_types_file",
    "load_framework_file",
    "resolve",
]

DATA_DIR = Path(__file__).parent / "data"
BUILTIN_FRAMEWORKS = ("iso42001", "nist-ai-rmf", "eu-ai-act", "fca", "sec")

_FRAMEWORK_REQUIRED = ("framework", "name", "version", "source", "licence", "requirements")
_FRAMEWORK_OPTIONAL = ("url", "id_format", "reviewed", "notes", "application_dates", "vocabularies")
_REQ_REQUIRED = ("id", "title", "description", "evidence_expectations")
_REQ_OPTIONAL = (
    "parent",
    "kind",
    "citation",
    "duty_holders",
    "risk_classes",
    "applies_from",
    "notes",
    "applies_when",
)
_EVIDENCE_TYPE = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*\.[a-z]+/[a-z0-9]+(?:-[a-z0-9]+)*/v[0-9]+")


@dataclass(frozen=True)
class Catalogs:
    """Everything the package ships: frameworks, crosswalk relations, evidence types."""

    frameworks: Mapping[str, Framework]
    relations: tuple[Relation, ...]
    evidence_types: Mapping[str, EvidenceType]


# ---------------------------------------------------------------- field helpers


class _Fields:
    """Typed access to one YAML mapping, raising errors that name file, line and field."""

    def __init__(self, path: Path, node: Any, where: str, line: int) -> None:
        if not isinstance(node, LocDict):
            raise fail(path, line, where or "(top level)", "expected a mapping of fields")
        self.path, self.node, self.where = path, node, where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def line(self, key: str | None = None) -> int:
        return self.node.line if key is None else self.node.line_of(key)

    def error(self, key: str, problem: str) -> AssayError:
        return fail(self.path, self.line(key), self.name(key), problem)

    def only(self, required: Iterable[str], optional: Iterable[str]) -> None:
        required = tuple(required)
        allowed = set(required) | set(optional)
        for key in self.node:
            if key not in allowed:
                raise self.error(
                    key, f"unknown field; allowed fields are {', '.join(sorted(allowed))}"
                )
        for key in required:
            if key not in self.node:
                raise fail(
                    self.path, self.line(), self.name(key), "required field is missing; add it"
                )

    def text(self, key: str, *, optional: bool = False) -> str | None:
        value = self.node.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            hint = ' (quote numbers such as "4.1")' if isinstance(value, int | float) else ""
            raise self.error(key, f"must be a non-empty string{hint}")
        return value.strip()

    def req_text(self, key: str) -> str:
        value = self.text(key)
        assert value is not None
        return value

    def texts(self, key: str, *, allow_empty: bool = True) -> tuple[str, ...]:
        value = self.node.get(key, LocList(self.line(key)))
        if not isinstance(value, list):
            raise self.error(key, "must be a list of strings")
        out: list[str] = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                raise self.error(key, "every item must be a non-empty string")
            out.append(item.strip())
        if not out and not allow_empty:
            raise self.error(key, "must list at least one item")
        return tuple(out)

    def day(self, key: str, *, optional: bool = True) -> date | None:
        value = self.node.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, date):
            raise self.error(key, "must be a date written YYYY-MM-DD")
        return value

    def items(self, key: str) -> list[tuple[Any, int, str]]:
        value = self.node.get(key)
        if not isinstance(value, LocList):
            raise self.error(key, "must be a list")
        return [
            (item, value.item_lines[i], f"{self.name(key)}[{i}]") for i, item in enumerate(value)
        ]


# ---------------------------------------------------------------- frameworks


def load_framework_file(path: Path) -> Framework:
    """Read and fully validate one framework catalog file."""
    path = Path(path)
    top = _Fields(path, read_yaml(path), "", 1)
    top.only(_FRAMEWORK_REQUIRED, _FRAMEWORK_OPTIONAL)
    framework_id = top.req_text("framework")
    if not FRAMEWORK_ID_PATTERN.fullmatch(framework_id):
        raise top.error("framework", "must be lower-case words joined by '-', e.g. my-policy")
    vocab = _vocabularies(top)
    facts = _facts(top)
    dates = (
        tuple(
            _application_date(path, item, line, where)
            for item, line, where in top.items("application_dates")
        )
        if "application_dates" in top.node
        else ()
    )

    requirements: list[Requirement] = []
    first_line: dict[str, int] = {}
    parent_lines: dict[str, tuple[int, str]] = {}
    entries = top.items("requirements")
    if not entries:
        raise top.error("requirements", "must list at least one requirement")
    for item, line, where in entries:
        req = _Fields(path, item, where, line)
        req.only(_REQ_REQUIRED, _REQ_OPTIONAL)
        rid = req.req_text("id")
        if not ID_PATTERN.fullmatch(rid):
            raise req.error("id", f"'{rid}' is not a valid ID; use letters, digits and . - ( )")
        if rid in first_line:
            raise req.error("id", f"duplicate ID '{rid}' (first defined on line {first_line[rid]})")
        first_line[rid] = req.line("id")
        parent = req.text("parent", optional=True)
        if parent is not None:
            parent_lines[rid] = (req.line("parent"), req.name("parent"))
        duty = req.texts("duty_holders")
        risk = req.texts("risk_classes")
        for key, values in (("duty_holders", duty), ("risk_classes", risk)):
            allowed = vocab.get(key)
            for value in values:
                if allowed is not None and value not in allowed:
                    raise req.error(key, f"'{value}' is not one of {', '.join(allowed)}")
        condition = _condition(req, facts)
        requirements.append(
            Requirement(
                framework=framework_id,
                id=rid,
                title=req.req_text("title"),
                description=req.req_text("description"),
                parent=parent,
                evidence_expectations=req.texts("evidence_expectations"),
                kind=req.text("kind", optional=True) or "requirement",
                citation=req.text("citation", optional=True),
                duty_holders=duty,
                risk_classes=risk,
                applies_from=req.day("applies_from"),
                notes=req.text("notes", optional=True),
                applies_when=condition,
            )
        )

    parents = {r.id: r.parent for r in requirements}
    for rid, parent in parents.items():
        if parent is None:
            continue
        line, field_name = parent_lines[rid]
        if parent not in parents:
            raise fail(path, line, field_name, f"unknown ID '{parent}'{_suggest(parent, parents)}")
        seen = {rid}
        current: str | None = parent
        while current is not None:
            if current in seen:
                raise fail(
                    path,
                    line,
                    field_name,
                    f"parent cycle through '{rid}' and '{parent}'; break the loop",
                )
            seen.add(current)
            current = parents[current]

    return Framework(
        id=framework_id,
        name=top.req_text("name"),
        version=_version(top),
        source=top.req_text("source"),
        licence=top.req_text("licence"),
        requirements=tuple(requirements),
        path=path,
        url=top.text("url", optional=True),
        id_format=top.text("id_format", optional=True),
        reviewed=top.day("reviewed"),
        notes=top.text("notes", optional=True),
        application_dates=dates,
    )


def _version(top: _Fields) -> str:
    value = top.node.get("version")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return top.req_text("version")


def _vocabularies(top: _Fields) -> dict[str, tuple[str, ...]]:
    if "vocabularies" not in top.node:
        return {}
    vocab = _Fields(top.path, top.node["vocabularies"], "vocabularies", top.line("vocabularies"))
    vocab.only((), ("duty_holders", "risk_classes", "facts"))
    return {key: vocab.texts(key, allow_empty=False) for key in vocab.node if key != "facts"}


def _facts(top: _Fields) -> dict[str, tuple[str, ...]]:
    """``vocabularies.facts``: the fact names a condition may use, each with its values."""
    vocabularies = top.node.get("vocabularies")
    if not isinstance(vocabularies, LocDict) or "facts" not in vocabularies:
        return {}
    where = "vocabularies.facts"
    facts = _Fields(top.path, vocabularies["facts"], where, vocabularies.line_of("facts"))
    out: dict[str, tuple[str, ...]] = {}
    for name in facts.node:
        values = facts.node[name]
        if not isinstance(values, list) or not values:
            raise facts.error(name, "must list at least one value")
        out[str(name)] = tuple(str(v) for v in values)
    return out


def _condition(req: _Fields, facts: Mapping[str, tuple[str, ...]]) -> Condition | None:
    text = req.text("applies_when", optional=True)
    if text is None:
        return None
    if not facts:
        raise req.error("applies_when", "declare the facts it uses under vocabularies.facts")
    try:
        return parse(text, facts)
    except ConditionError as exc:
        raise req.error("applies_when", str(exc)) from None


def _application_date(path: Path, node: Any, line: int, where: str) -> ApplicationDate:
    item = _Fields(path, node, where, line)
    item.only(("date", "applies_to", "status", "source"), ())
    day = item.day("date", optional=False)
    assert day is not None
    return ApplicationDate(
        day, item.req_text("applies_to"), item.req_text("status"), item.req_text("source")
    )


def _suggest(wanted: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(wanted, list(known), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else "; check the ID against the catalog"


# ---------------------------------------------------------------- references


def _lookup(ref: str, frameworks: Mapping[str, Framework]) -> Requirement:
    framework_id, requirement_id = parse_ref(ref)
    fw = frameworks.get(framework_id)
    if fw is None:
        raise NotFound(
            f"unknown framework '{framework_id}' in '{ref}'; "
            f"known frameworks: {', '.join(sorted(frameworks))}."
        )
    requirement = fw.get(requirement_id)
    if requirement is None:
        hint = _suggest(requirement_id, (r.id for r in fw.requirements))
        raise NotFound(
            f"unknown requirement '{requirement_id}' in framework '{framework_id}'{hint}"
        )
    return requirement


def _checked_ref(
    path: Path, fields: _Fields, key: str, value: str, frameworks: Mapping[str, Framework]
) -> str:
    try:
        return _lookup(value, frameworks).ref
    except AssayError as exc:
        raise fields.error(key, str(exc).rstrip(".")) from None


# ---------------------------------------------------------------- crosswalk


def load_crosswalk_file(path: Path, frameworks: Mapping[str, Framework]) -> tuple[Relation, ...]:
    """Read and validate a crosswalk: both ends must resolve; no self-links or duplicates."""
    path = Path(path)
    top = _Fields(path, read_yaml(path), "", 1)
    top.only(("sources", "relations"), ("notes",))
    sources = _Fields(path, top.node["sources"], "sources", top.line("sources"))
    for key in sources.node:
        entry = _Fields(path, sources.node[key], f"sources.{key}", sources.line(key))
        entry.only(("title",), ("url", "notes"))
        entry.req_text("title")
    relations: list[Relation] = []
    seen: dict[frozenset[str], int] = {}
    for item, line, where in top.items("relations"):
        rel = _Fields(path, item, where, line)
        rel.only(("from", "to", "type", "rationale", "source"), ())
        src = _checked_ref(path, rel, "from", rel.req_text("from"), frameworks)
        dst = _checked_ref(path, rel, "to", rel.req_text("to"), frameworks)
        if src.partition(":")[0] == dst.partition(":")[0]:
            raise rel.error("to", "a crosswalk relation must link two different frameworks")
        pair = frozenset((src, dst))
        if pair in seen:
            raise rel.error(
                "to", f"duplicate relation {src} <-> {dst} (first on line {seen[pair]})"
            )
        seen[pair] = rel.line("from")
        kind = rel.req_text("type")
        try:
            relation_type = RelationType(kind)
        except ValueError:
            allowed = ", ".join(t.value for t in RelationType)
            raise rel.error("type", f"'{kind}' is not one of {allowed}") from None
        source = rel.req_text("source")
        if source not in sources.node:
            raise rel.error("source", f"unknown source '{source}'; declare it under 'sources'")
        relations.append(Relation(src, dst, relation_type, rel.req_text("rationale"), source))
    return tuple(relations)


# ---------------------------------------------------------------- evidence types


def load_evidence_types_file(
    path: Path, frameworks: Mapping[str, Framework]
) -> dict[str, EvidenceType]:
    """Read and validate the evidence-type mapping: URIs, freshness and supported requirements."""
    path = Path(path)
    top = _Fields(path, read_yaml(path), "", 1)
    top.only(("types",), ("notes",))
    out: dict[str, EvidenceType] = {}
    lines: dict[str, int] = {}
    for item, line, where in top.items("types"):
        entry = _Fields(path, item, where, line)
        entry.only(
            ("type", "title", "description", "supports", "freshness_days", "produced_by"),
            ("kind", "by_register", "test_families"),
        )
        uri = entry.req_text("type")
        if not _EVIDENCE_TYPE.fullmatch(uri):
            raise entry.error(
                "type", f"'{uri}' is not a versioned type URI like assay.dev/redteam-run/v1"
            )
        if uri in out:
            raise entry.error("type", f"duplicate type '{uri}' (first on line {lines[uri]})")
        lines[uri] = entry.line("type")
        freshness = entry.node.get("freshness_days")
        if freshness is not None and (
            not isinstance(freshness, int) or isinstance(freshness, bool) or freshness <= 0
        ):
            raise entry.error(
                "freshness_days", "must be a positive whole number of days, or null for never"
            )
        supports = tuple(
            _checked_ref(path, entry, "supports", ref, frameworks)
            for ref in entry.texts("supports")
        )
        if len(set(supports)) != len(supports):
            raise entry.error("supports", "lists the same requirement twice")
        kind = entry.text("kind", optional=True) or "record"
        if kind not in _EVIDENCE_KINDS:
            raise entry.error("kind", f"'{kind}' is not one of {', '.join(_EVIDENCE_KINDS)}")
        by_register = (
            _ref_map(path, entry, "by_register", supports, frameworks)
            if "by_register" in entry.node
            else None
        )
        families = (
            _ref_map(path, entry, "test_families", supports, frameworks, keys_are_refs=True)
            if "test_families" in entry.node
            else {}
        )
        out[uri] = EvidenceType(
            type=uri,
            title=entry.req_text("title"),
            description=entry.req_text("description"),
            supports=supports,
            freshness_days=freshness,
            produced_by=entry.req_text("produced_by"),
            kind=kind,
            by_register=by_register,
            test_families=families,
        )
    return out


_EVIDENCE_KINDS = ("test", "operation", "monitoring", "process", "attestation", "record")


def _ref_map(
    path: Path,
    entry: _Fields,
    key: str,
    supports: tuple[str, ...],
    frameworks: Mapping[str, Framework],
    *,
    keys_are_refs: bool = False,
) -> dict[str, tuple[str, ...]]:
    """``by_register`` (register → refs) or ``test_families`` (ref → families), checked."""
    node = _Fields(path, entry.node[key], entry.name(key), entry.line(key))
    out: dict[str, tuple[str, ...]] = {}
    for name in node.node:
        values = node.texts(name)
        if keys_are_refs:
            ref = _checked_ref(path, node, name, str(name), frameworks)
            if ref not in supports:
                raise node.error(name, f"{ref} is not in this type's supports list")
            out[ref] = values
            continue
        refs = tuple(_checked_ref(path, node, name, v, frameworks) for v in values)
        outside = [r for r in refs if r not in supports]
        if outside:
            raise node.error(name, f"{', '.join(outside)} not in this type's supports list")
        out[str(name)] = refs
    return out


# ---------------------------------------------------------------- the built-in bundle


@functools.cache
def builtin() -> Catalogs:
    """The catalogs shipped in ``catalogs/data``, validated once per process."""
    frameworks: dict[str, Framework] = {}
    for framework_id in BUILTIN_FRAMEWORKS:
        path = DATA_DIR / f"{framework_id}.yaml"
        fw = load_framework_file(path)
        if fw.id != framework_id:
            raise AssayError(
                f"{path}:1: field 'framework': expected '{framework_id}', found '{fw.id}'."
            )
        frameworks[framework_id] = fw
    relations = load_crosswalk_file(DATA_DIR / "crosswalk.yaml", frameworks)
    evidence = load_evidence_types_file(DATA_DIR / "evidence-types.yaml", frameworks)
    return Catalogs(frameworks=frameworks, relations=relations, evidence_types=evidence)


def resolve(ref: str, extra: Mapping[str, Framework] | None = None) -> Requirement:
    """The requirement a reference names; ``extra`` adds custom frameworks to search."""
    frameworks: Mapping[str, Framework] = builtin().frameworks
    if extra:
        frameworks = {**frameworks, **extra}
    return _lookup(ref, frameworks)


# ---------------------------------------------------------------- custom frameworks


def import_framework(path: Path, dest_dir: Path) -> Framework:
    """Validate a user's framework file and copy it to ``dest_dir/<framework>.yaml``.

    The workspace decides ``dest_dir`` (``<workspace>/frameworks``); a custom
    framework may not reuse a built-in framework ID.
    """
    fw = load_framework_file(Path(path))
    if fw.id in BUILTIN_FRAMEWORKS:
        raise AssayError(
            f"{path}:1: field 'framework': '{fw.id}' is a built-in framework; "
            "choose another framework ID."
        )
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / f"{fw.id}.yaml"
    if Path(path).resolve() != target.resolve():
        shutil.copyfile(path, target)
    return load_framework_file(target)


def load_custom_frameworks(directory: Path) -> dict[str, Framework]:
    """Every ``*.yaml`` framework in ``directory`` (validated); empty if it does not exist."""
    out: dict[str, Framework] = {}
    if not directory.is_dir():
        return out
    for path in sorted(directory.glob("*.yaml")):
        fw = load_framework_file(path)
        if fw.id in BUILTIN_FRAMEWORKS or fw.id in out:
            raise AssayError(
                f"{path}:1: field 'framework': '{fw.id}' is already defined; rename the framework."
            )
        out[fw.id] = fw
    return out
