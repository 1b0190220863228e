"""AI objectives (ISO/IEC 42001 6.2, A.6.1.2, A.9.3): measurable, with status and trend.

An evidence-fed objective reads a figure from the ``summary`` of ledger
entries of one type (for example ``succeeded / attempts × 100`` from
``assay.dev/redteam-run/v1``); :func:`refresh` appends a measurement for every
new entry. Manual objectives take measurements from people. Status compares
the latest value with the target; trend compares it with the one before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assay.aims import _records as records
from assay.errors import Conflict
from assay.ledger import EVIDENCE_TYPES, Ledger
from assay.store import Store

__all__ = [
    "MAX_MEASUREMENTS",
    "SPEC",
    "Measurement",
    "Metric",
    "Objective",
    "add_objective",
    "evaluate",
    "get_objective",
    "list_objectives",
    "plan_add_objective",
    "record_measurement",
    "refresh",
    "value_from_summary",
]

MAX_MEASUREMENTS = 200
"""Measurements kept per objective (the oldest are dropped; the ledger keeps them all)."""


class Metric(BaseModel):
    """Where the numbers come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: Literal["evidence", "manual"] = "manual"
    evidence_type: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    scale: float = 1.0
    families: tuple[str, ...] = ()
    """Red-team families: the value is their pooled ASR (Σ asr·n / Σ n), not a summary field."""

    @model_validator(mode="after")
    def _complete(self) -> Metric:
        if self.source == "evidence":
            if self.evidence_type not in EVIDENCE_TYPES:
                raise ValueError(
                    f"evidence_type {self.evidence_type!r} is not one of: "
                    + ", ".join(sorted(EVIDENCE_TYPES))
                )
            if not self.numerator and not self.families:
                raise ValueError(
                    "an evidence metric needs a numerator (a summary field) or families"
                )
        return self


class Measurement(BaseModel):
    """One observed value."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at: datetime
    value: float
    source: str
    by: str


class Objective(BaseModel):
    """A measurable objective with a target."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    metric: Metric = Field(default_factory=Metric)
    target_op: Literal["<", "<=", ">", ">="]
    target: float
    unit: str = ""
    owner: str = ""
    due: date | None = None
    measurements: tuple[Measurement, ...] = ()
    last_seq: int = -1


def _figures(objective: Objective) -> Mapping[str, Any]:
    status, trend = evaluate(objective)
    latest = objective.measurements[-1].value if objective.measurements else None
    return {"state": status, "trend": trend, "latest": latest, "target": objective.target}


SPEC = records.Spec(
    register="objective",
    model=Objective,
    prefix="OBJ",
    label="objective",
    controls=("iso42001:6.2", "iso42001:A.6.1.2", "iso42001:A.9.3"),
    figures=_figures,
)


def _field(summary: Mapping[str, Any], path: str) -> Any:
    """A summary field by name, or by dotted path into nested objects (``groups.jailbreak.asr``)."""
    if path in summary:
        return summary[path]
    value: Any = summary
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _pooled_asr(families: tuple[str, ...], summary: Mapping[str, Any]) -> float | None:
    """Attack success over a set of red-team families, weighted by attempts assessed."""
    figures = summary.get("families")
    if not isinstance(figures, Mapping):
        return None
    succeeded = assessed = 0.0
    for name in families:
        family = figures.get(name)
        if not isinstance(family, Mapping):
            continue
        asr, n = family.get("asr"), family.get("n")
        if isinstance(asr, int | float) and isinstance(n, int) and n > 0:
            succeeded += float(asr) * n
            assessed += n
    return succeeded / assessed if assessed else None


def value_from_summary(metric: Metric, summary: Mapping[str, Any]) -> float | None:
    """The metric's value in one entry's summary (None when the fields are absent); pure."""
    if metric.families:
        pooled = _pooled_asr(metric.families, summary)
        return None if pooled is None else round(pooled * metric.scale, 6)
    num = _field(summary, metric.numerator or "")
    if not isinstance(num, int | float) or isinstance(num, bool):
        return None
    value = float(num)
    if metric.denominator:
        den = _field(summary, metric.denominator)
        if not isinstance(den, int | float) or isinstance(den, bool) or den == 0:
            return None
        value /= float(den)
    return round(value * metric.scale, 6)


def _meets(op: str, value: float, target: float) -> bool:
    return {
        "<": value < target,
        "<=": value <= target,
        ">": value > target,
        ">=": value >= target,
    }[op]


def evaluate(objective: Objective) -> tuple[str, str]:
    """(status, trend): on-track/off-track/no-data and improving/worsening/stable/unknown; pure."""
    if not objective.measurements:
        return "no-data", "unknown"
    latest = objective.measurements[-1].value
    status = "on-track" if _meets(objective.target_op, latest, objective.target) else "off-track"
    if len(objective.measurements) < 2:
        return status, "unknown"
    previous = objective.measurements[-2].value
    if latest == previous:
        return status, "stable"
    lower_is_better = objective.target_op in ("<", "<=")
    return status, "improving" if (latest < previous) == lower_is_better else "worsening"


def get_objective(store: Store, objective_id: str) -> records.Record[Objective]:
    return records.get(store, SPEC, objective_id)


def list_objectives(store: Store, *, system: str | None = None) -> list[records.Record[Objective]]:
    return records.list_records(store, SPEC, system=system)


def plan_add_objective(
    store: Store,
    fields: Mapping[str, Any],
    *,
    actor: str,
    system: str | None = None,
    objective_id: str | None = None,
) -> records.Planned[Objective]:
    """Plan a new objective (for callers committing it with other changes)."""
    rid = objective_id or records.next_id(store, SPEC)
    objective = records.validate(SPEC, rid, {**fields, "measurements": (), "last_seq": -1})
    return records.plan_create(
        store, SPEC, objective, actor=actor, status="no-data", system=system, record_id=rid
    )


def add_objective(
    store: Store,
    ledger: Ledger,
    fields: Mapping[str, Any],
    *,
    actor: str,
    system: str | None = None,
    objective_id: str | None = None,
) -> records.Record[Objective]:
    """Set an objective; evidence-fed ones pick up existing evidence at once."""
    planned = plan_add_objective(
        store, fields, actor=actor, system=system, objective_id=objective_id
    )
    records.commit(ledger, [planned])
    if planned.record.data.metric.source == "evidence":
        refresh(store, ledger, actor=actor, only=[planned.record.id])
        return get_objective(store, planned.record.id)
    return planned.record


def _with(objective: Objective, new: Sequence[Measurement], last_seq: int) -> Objective:
    kept = (*objective.measurements, *new)[-MAX_MEASUREMENTS:]
    return objective.model_copy(update={"measurements": kept, "last_seq": last_seq})


def record_measurement(
    store: Store, ledger: Ledger, objective_id: str, value: float, *, actor: str
) -> records.Record[Objective]:
    """Add a manual measurement."""
    current = get_objective(store, objective_id)
    if current.data.metric.source != "manual":
        raise Conflict(
            f"objective {objective_id} is fed from {current.data.metric.evidence_type} "
            "evidence, not measured by hand",
            hint="run `assay objectives refresh` instead",
        )
    point = Measurement(at=datetime.now(UTC), value=value, source="manual", by=actor)
    updated = _with(current.data, [point], current.data.last_seq)
    return records.update(
        store,
        ledger,
        SPEC,
        objective_id,
        actor=actor,
        action="measure",
        data=updated,
        status=evaluate(updated)[0],
    )


def _new_points(ledger: Ledger, record: records.Record[Objective]) -> tuple[list[Measurement], int]:
    metric = record.data.metric
    points: list[Measurement] = []
    last = record.data.last_seq
    if metric.evidence_type is None:
        return points, last
    for stored in ledger.entries(metric.evidence_type, system=record.system, after=last):
        seq = last = stored.seq
        entry = stored.decoded()
        value = value_from_summary(metric, entry.get("summary") or {})
        if value is not None:
            at = datetime.fromisoformat(entry["observed_at"].replace("Z", "+00:00"))
            points.append(
                Measurement(at=at, value=value, source=f"ledger:{seq}", by=entry["actor"])
            )
    return points, last


def refresh(
    store: Store, ledger: Ledger, *, actor: str, only: Sequence[str] = ()
) -> list[records.Record[Objective]]:
    """Feed evidence-based objectives from entries they have not seen; returns the changed."""
    planned = []
    for record in list_objectives(store):
        if record.data.metric.source != "evidence" or (only and record.id not in only):
            continue
        points, last = _new_points(ledger, record)
        if last == record.data.last_seq:
            continue
        updated = _with(record.data, points, last)
        planned.append(
            records.plan_update(
                SPEC,
                record,
                actor=actor,
                action="measure",
                data=updated,
                status=evaluate(updated)[0],
            )
        )
    if planned:
        records.commit(ledger, planned)
    return [p.record for p in planned]
