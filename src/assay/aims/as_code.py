"""AIMS as code: export the declarative registers to YAML and apply a YAML file back.

The file holds what people decide (settings, systems and their AI Act
answers, policies, roles, concern channels, risks, impact assessments,
objectives, SoA overrides), never workflow state (approvals, acceptances,
sign-offs, measurements), which only the commands that enforce four-eyes can
set. :func:`plan` is a pure diff; :func:`apply` runs it through the normal
register functions, so every change is evidence. Applying the same file twice
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from assay.aims import _records as records
from assay.aims import impact, objectives, policy, risk, roles, soa
from assay.aims.classification import Answers, classify_system
from assay.aims.inventory import (
    CORE_FIELDS,
    SystemProfile,
    add_system,
    list_systems,
    update_system,
)
from assay.aims.settings import all_settings, set_setting
from assay.errors import AssayError
from assay.ledger import Ledger
from assay.store import Store
from assay.yamlio import plain, read_yaml

__all__ = ["FORMAT_VERSION", "Change", "apply", "export", "load", "plan", "render_changes"]

FORMAT_VERSION = 1
Updater = Callable[[Store, Ledger, str, Mapping[str, Any], str], Any]
Creator = Callable[[Store, Ledger, str, str | None, Mapping[str, Any], str], Any]


@dataclass(frozen=True)
class _Section:
    key: str
    spec: records.Spec[Any]
    managed: frozenset[str]
    create: Creator
    update: Updater


def _generic_update(spec: records.Spec[Any]) -> Updater:
    def run(store: Store, ledger: Ledger, rid: str, changes: Mapping[str, Any], actor: str) -> Any:
        data = records.merged(spec, records.get(store, spec, rid), changes)
        return records.update(store, ledger, spec, rid, actor=actor, data=data)

    return run


def _generic_create(spec: records.Spec[Any], status: str) -> Creator:
    def run(
        store: Store,
        ledger: Ledger,
        rid: str,
        system: str | None,
        values: Mapping[str, Any],
        actor: str,
    ) -> Any:
        data = records.validate(spec, rid, values)
        return records.create(
            store, ledger, spec, data, actor=actor, status=status, system=system, record_id=rid
        )

    return run


_SECTIONS: tuple[_Section, ...] = (
    _Section(
        "policies",
        policy.SPEC,
        frozenset({"revision", "approved_by", "approved_at"}),
        lambda s, lg, rid, _sys, v, a: policy.add_policy(s, lg, v, actor=a, policy_id=rid),
        lambda s, lg, rid, c, a: policy.update_policy(s, lg, rid, c, actor=a),
    ),
    _Section(
        "roles",
        roles.SPEC,
        frozenset(),
        lambda s, lg, rid, sys, v, a: roles.add_role(s, lg, v, actor=a, system=sys, role_id=rid),
        lambda s, lg, rid, c, a: roles.update_role(s, lg, rid, c, actor=a),
    ),
    _Section(
        "concern_channels",
        roles.CHANNEL_SPEC,
        frozenset(),
        _generic_create(roles.CHANNEL_SPEC, "active"),
        _generic_update(roles.CHANNEL_SPEC),
    ),
    _Section(
        "risks",
        risk.SPEC,
        frozenset({"acceptance"}),
        lambda s, lg, rid, sys, v, a: risk.add_risk(
            s, lg, system=str(sys), fields=v, actor=a, risk_id=rid
        ),
        lambda s, lg, rid, c, a: risk.update_risk(s, lg, rid, c, actor=a),
    ),
    _Section(
        "impact_assessments",
        impact.SPEC,
        frozenset({"signoff"}),
        lambda s, lg, rid, sys, v, a: impact.add_assessment(
            s, lg, system=str(sys), fields=v, actor=a, assessment_id=rid
        ),
        lambda s, lg, rid, c, a: impact.update_assessment(s, lg, rid, c, actor=a),
    ),
    _Section(
        "objectives",
        objectives.SPEC,
        frozenset({"measurements", "last_seq"}),
        lambda s, lg, rid, sys, v, a: objectives.add_objective(
            s, lg, v, actor=a, system=sys, objective_id=rid
        ),
        _generic_update(objectives.SPEC),
    ),
)


@dataclass(frozen=True)
class Change:
    """One record to create or update, with the fields that differ (old, new)."""

    section: str
    id: str
    action: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    system: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def _code_fields(model: BaseModel, managed: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in model.model_dump(mode="json").items() if k not in managed}


def export(store: Store) -> dict[str, Any]:
    """The declarative AIMS as a plain dict (``dump_yaml`` it)."""
    doc: dict[str, Any] = {"version": FORMAT_VERSION, "settings": all_settings(store)}
    systems = []
    for s in list_systems(store):
        item: dict[str, Any] = {"id": s.id, **{k: getattr(s, k) for k in CORE_FIELDS}}
        item.update(s.profile.model_dump(mode="json"))
        if s.ai_act_classification:
            item["ai_act"] = s.ai_act_classification.get("answers", {})
        systems.append(item)
    doc["systems"] = systems
    for section in _SECTIONS:
        doc[section.key] = [
            {
                "id": r.id,
                **({"system": r.system} if r.system else {}),
                **_code_fields(r.data, section.managed),
            }
            for r in records.list_records(store, section.spec)
        ]
    current = soa.current(store)
    doc["soa"] = {
        e.control: {
            "applicable": e.applicable,
            "justification": e.justification,
            "implementation_status": e.implementation_status,
        }
        for e in (current.entries if current else ())
        if e.edited
    }
    return doc


def load(path: Path) -> dict[str, Any]:
    """Read an AIMS file; errors name the file."""
    doc = plain(read_yaml(path, allow_empty=True))
    if not isinstance(doc, dict) or doc.get("version") != FORMAT_VERSION:
        raise AssayError(f"{path}: expected a mapping with 'version: {FORMAT_VERSION}' at the top")
    known = {"version", "settings", "systems", "soa", *(s.key for s in _SECTIONS)}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise AssayError(
            f"{path}: unknown section(s) {', '.join(unknown)}; sections: {', '.join(sorted(known))}"
        )
    return doc


def _normalise(section: _Section, item: Mapping[str, Any]) -> dict[str, Any]:
    rid = str(item.get("id", ""))
    values = {k: v for k, v in item.items() if k not in ("id", "system")}
    managed = sorted(set(values) & section.managed)
    if managed:
        raise AssayError(
            f"{section.spec.label} {rid}: field(s) {', '.join(managed)} are workflow state "
            "and cannot be set from a file"
        )
    return _code_fields(records.validate(section.spec, rid, values), section.managed)


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (old.get(k), v) for k, v in new.items() if old.get(k) != v}


def _system_values(item: Mapping[str, Any]) -> dict[str, Any]:
    rid = str(item.get("id", ""))
    values = {k: v for k, v in item.items() if k not in ("id", "ai_act")}
    profile_keys = set(SystemProfile.model_fields) | {"org_role"}  # the one-role spelling of old
    unknown = sorted(set(values) - set(CORE_FIELDS) - profile_keys)
    if unknown:
        raise AssayError(f"AI system {rid}: unknown field(s) {', '.join(unknown)}")
    try:
        profile = SystemProfile.model_validate(
            {k: v for k, v in values.items() if k in profile_keys}
        )
        answers = Answers.model_validate(item.get("ai_act") or {})
    except ValidationError as exc:
        raise AssayError(
            f"AI system {rid}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
        ) from exc
    core = {k: values.get(k, "development" if k == "lifecycle_stage" else "") for k in CORE_FIELDS}
    out = {**core, **profile.model_dump(mode="json")}
    if "ai_act" in item:
        out["ai_act"] = answers.model_dump(mode="json")
    return out


def plan(current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Change]:
    """What applying ``desired`` over ``current`` would change (both in export form); pure."""
    changes: list[Change] = []
    settings_now = current.get("settings", {})
    for key, value in (desired.get("settings") or {}).items():
        if settings_now.get(key) != value:
            changes.append(
                Change(
                    "settings",
                    key,
                    "update",
                    {key: (settings_now.get(key), value)},
                    values={"value": value},
                )
            )
    systems_now = {s["id"]: s for s in current.get("systems", [])}
    for item in desired.get("systems") or []:
        values = _system_values(item)
        before = systems_now.get(item.get("id"))
        if before is None:
            changes.append(
                Change("systems", item["id"], "create", _diff({}, values), values=values)
            )
        elif diff := _diff(before, values):
            changes.append(Change("systems", item["id"], "update", diff, values=values))
    for section in _SECTIONS:
        now = {r["id"]: r for r in current.get(section.key, [])}
        for item in desired.get(section.key) or []:
            values = _normalise(section, item)
            system = item.get("system")
            before = now.get(str(item.get("id")))
            if before is None:
                changes.append(
                    Change(
                        section.key, str(item["id"]), "create", _diff({}, values), system, values
                    )
                )
            elif diff := _diff({k: before.get(k) for k in values}, values):
                changes.append(Change(section.key, str(item["id"]), "update", diff, system, values))
    soa_now = current.get("soa", {})
    for control, entry in (desired.get("soa") or {}).items():
        if diff := _diff(soa_now.get(control, {}), dict(entry)):
            changes.append(Change("soa", control, "update", diff, values=dict(entry)))
    return changes


def render_changes(changes: list[Change]) -> str:
    """A readable diff: ``+`` creates, ``~`` updates, one line per changed field."""
    if not changes:
        return "No changes: the workspace already matches the file."
    lines = []
    for change in changes:
        lines.append(f"{'+' if change.action == 'create' else '~'} {change.section} {change.id}")
        for name, (old, new) in change.fields.items():
            lines.append(
                f"    {name}: {old!r} -> {new!r}"
                if change.action == "update"
                else f"    {name}: {new!r}"
            )
    return "\n".join(lines)


def apply(store: Store, ledger: Ledger, desired: Mapping[str, Any], *, actor: str) -> list[Change]:
    """Bring the workspace in line with ``desired``; returns what was changed."""
    changes = plan(export(store), desired)
    by_key = {s.key: s for s in _SECTIONS}
    for change in changes:
        if change.section == "settings":
            set_setting(store, ledger, change.id, change.values["value"], actor=actor)
        elif change.section == "systems":
            _apply_system(store, ledger, change, actor)
        elif change.section == "soa":
            if soa.current(store) is None:
                soa.generate(store, ledger, actor=actor)
            soa.edit(store, ledger, change.id, actor=actor, **change.values)
        else:
            section = by_key[change.section]
            if change.action == "create":
                section.create(store, ledger, change.id, change.system, change.values, actor)
            else:
                section.update(
                    store, ledger, change.id, {k: change.values[k] for k in change.fields}, actor
                )
    return changes


def _apply_system(store: Store, ledger: Ledger, change: Change, actor: str) -> None:
    values = dict(change.values)
    answers = values.pop("ai_act", None)
    if change.action == "create":
        core = {k: values.pop(k) for k in CORE_FIELDS}
        add_system(
            store,
            ledger,
            system_id=change.id,
            name=core["name"],
            owner=core["owner"],
            purpose=core["purpose"],
            lifecycle_stage=core["lifecycle_stage"],
            profile=values,
            actor=actor,
        )
    else:
        fields = {k: values[k] for k in change.fields if k != "ai_act"}
        if fields:
            update_system(store, ledger, change.id, fields, actor=actor)
    if answers is not None and (change.action == "create" or "ai_act" in change.fields):
        classify_system(store, ledger, change.id, answers, actor=actor)
