"""Management review (ISO/IEC 42001 9.3): an automatic input pack, decisions, minutes.

:func:`prepare` assembles the inputs clause 9.3.2 lists, by its own items
(:data:`PACK_SECTIONS`): a) status of actions from earlier reviews; b) changes
in external and internal issues (the systems in scope and what changed about
them); c) changes in the needs and expectations of interested parties (what
Assay records of them, and a reminder to bring the rest); d) AIMS performance
with trends in 1) nonconformities and corrective actions, 2) monitoring and
measurement results (evidence and objectives), 3) audit results; e)
opportunities for continual improvement. Risk treatment status and evidence
coverage per framework come as supporting information. Decisions can open corrective actions or set
objectives in the same transaction; holding the review is recorded as
``assay.dev/management-review/v1``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.aims import _records as records
from assay.aims.audit import findings_for, list_audits
from assay.aims.capa import SPEC as CAPA_SPEC
from assay.aims.capa import list_capas, plan_open_capa
from assay.aims.inventory import list_systems
from assay.aims.objectives import SPEC as OBJECTIVE_SPEC
from assay.aims.objectives import evaluate, list_objectives, plan_add_objective
from assay.aims.risk import list_risks, rating, scale
from assay.catalogs import evidence_types, frameworks
from assay.errors import Conflict, Invalid
from assay.ledger import Ledger
from assay.ledger.evidence import (
    AIMS_CHANGE,
    DRIFT_ALERT,
    EVAL_REPORT,
    GUARD_DECISION,
    INCIDENT,
    MANAGEMENT_REVIEW,
    REDTEAM_RUN,
    format_time,
)
from assay.store import Store

__all__ = [
    "MONITORING_TYPES",
    "PACK_SECTIONS",
    "SPEC",
    "Review",
    "ReviewDecision",
    "assemble_pack",
    "decide",
    "get_review",
    "hold",
    "list_reviews",
    "prepare",
    "render_pack",
]

MONITORING_TYPES = (
    DRIFT_ALERT,
    GUARD_DECISION,
    REDTEAM_RUN,
    EVAL_REPORT,
    INCIDENT,
)


class ReviewDecision(BaseModel):
    """A decision or action from the meeting, with what it created."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    text: str = Field(min_length=1)
    kind: Literal["note", "capa", "objective"] = "note"
    ref: str | None = None
    owner: str = ""
    due: date | None = None


class Review(BaseModel):
    """One management review."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str = Field(min_length=1)
    chair: str = ""
    attendees: tuple[str, ...] = ()
    pack: dict[str, Any] = Field(default_factory=dict)
    prepared_at: datetime | None = None
    decisions: tuple[ReviewDecision, ...] = ()
    held_at: datetime | None = None
    minutes: str = ""


SPEC = records.Spec(
    register="review",
    model=Review,
    prefix="MR",
    label="management review",
    controls=("iso42001:9.3.1", "iso42001:9.3.2", "iso42001:9.3.3"),
    approval_type=MANAGEMENT_REVIEW,
    figures=lambda r: {"decisions": len(r.decisions), "attendees": len(r.attendees)},
)


def get_review(store: Store, review_id: str) -> records.Record[Review]:
    return records.get(store, SPEC, review_id)


def list_reviews(store: Store) -> list[records.Record[Review]]:
    return records.list_records(store, SPEC)


def _previous_actions(store: Store, reviews: list[records.Record[Review]]) -> list[dict[str, Any]]:
    out = []
    for review in reviews:
        for d in review.data.decisions:
            status = "recorded"
            if d.kind == "capa" and d.ref:
                status = records.get(store, CAPA_SPEC, d.ref).status
            elif d.kind == "objective" and d.ref:
                status = records.get(store, OBJECTIVE_SPEC, d.ref).status
            out.append(
                {
                    "review": review.id,
                    "decision": d.id,
                    "kind": d.kind,
                    "ref": d.ref,
                    "text": d.text,
                    "status": status,
                }
            )
    return out


def _aims_changes(ledger: Ledger, since: str | None) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for stored in ledger.entries(AIMS_CHANGE, since=since):
        summary = stored.decoded().get("summary") or {}
        counts[f"{summary.get('register')}:{summary.get('action')}"] += 1
    return dict(sorted(counts.items()))


def _coverage(ledger: Ledger, now: datetime) -> dict[str, dict[str, Any]]:
    """Share of each framework's requirements backed by fresh evidence of a supporting type."""
    supported: set[str] = set()
    for type_uri, latest in ledger.latest_by_type().items():
        known = evidence_types().get(type_uri)
        if known is None:
            continue
        seen = datetime.fromisoformat(latest.replace("Z", "+00:00"))
        if known.is_fresh((now - seen).total_seconds() / 86400):
            supported.update(known.supports)
    out = {}
    for fid, fw in frameworks().items():
        refs = {r.ref for r in fw.requirements}
        hit = len(refs & supported)
        out[fid] = {
            "requirements": len(refs),
            "with_evidence": hit,
            "coverage_pct": round(100 * hit / len(refs), 1) if refs else 0.0,
        }
    return out


PACK_SECTIONS: dict[str, str] = {
    "a_previous_actions": "a) Status of actions from previous management reviews",
    "b_issues": "b) Changes in external and internal issues relevant to the AIMS",
    "c_interested_parties": "c) Changes in needs and expectations of interested parties",
    "d_nonconformities": "d) AIMS performance, trends in 1) nonconformities and corrective actions",
    "d_monitoring": "d) AIMS performance, trends in 2) monitoring and measurement results",
    "d_audits": "d) AIMS performance, trends in 3) audit results",
    "e_opportunities": "e) Opportunities for continual improvement",
    "risks": "Supporting information: risk assessment and treatment status",
    "readiness": "Supporting information: evidence coverage per framework",
}
"""The pack's sections in clause 9.3.2 order, with their titles."""


def _system_changes(ledger: Ledger, since: str | None) -> dict[str, int]:
    """What changed about the AI systems in scope since the last review (internal issues)."""
    counts = _aims_changes(ledger, since)
    return {key.split(":", 1)[1]: n for key, n in counts.items() if key.startswith("ai-system:")}


def assemble_pack(store: Store, ledger: Ledger, *, now: datetime | None = None) -> dict[str, Any]:
    """The clause 9.3.2 inputs, from the registers and the ledger."""
    now = now or datetime.now(UTC)
    held = [r for r in list_reviews(store) if r.data.held_at is not None]
    last = max((r.data.held_at for r in held if r.data.held_at), default=None)
    since = format_time(last) if last else None
    risk_scale = scale(store)
    risks = list_risks(store)
    bands: Counter[str] = Counter()
    for r in risks:
        likelihood = r.data.residual_likelihood or r.data.likelihood
        impact = r.data.residual_impact or r.data.impact
        bands[rating(risk_scale, likelihood, impact)[1]] += 1
    capas = list_capas(store)
    today = now.date()
    overdue = sum(
        1
        for c in capas
        for a in c.data.actions
        if a.done_at is None and a.due is not None and a.due < today
    )
    audits = []
    for audit in list_audits(store):
        grades = Counter(f.data.grade for f in findings_for(store, audit.id))
        audits.append(
            {
                "id": audit.id,
                "title": audit.data.title,
                "status": audit.status,
                "independent": audit.data.independence.independent,
                "findings": dict(sorted(grades.items())),
            }
        )
    objectives = []
    for o in list_objectives(store):
        state, trend = evaluate(o.data)
        latest = o.data.measurements[-1].value if o.data.measurements else None
        objectives.append(
            {
                "id": o.id,
                "title": o.data.title,
                "status": state,
                "trend": trend,
                "latest": latest,
                "target": f"{o.data.target_op} {o.data.target:g}",
            }
        )
    counts = ledger.count_by_type(since)
    changes = _aims_changes(ledger, since)
    return {
        "period": {"since": since, "until": format_time(now)},
        "a_previous_actions": _previous_actions(store, held),
        "b_issues": {
            "systems": [
                {
                    "id": s.id,
                    "lifecycle_stage": s.lifecycle_stage,
                    "ai_act_class": s.ai_act_class,
                    "roles": list(s.profile.org_roles),
                }
                for s in list_systems(store)
            ],
            "system_changes": _system_changes(ledger, since),
            "policy_changes": {
                k.split(":", 1)[1]: n for k, n in changes.items() if k.startswith("policy:")
            },
        },
        "c_interested_parties": {
            "impact_assessment_changes": sum(
                n for k, n in changes.items() if k.startswith("impact:")
            ),
            "concern_channel_changes": sum(
                n for k, n in changes.items() if k.startswith("concern-channel:")
            ),
            "to_bring": (
                "needs and expectations of customers, regulators and staff are not recorded "
                "in Assay: bring them to the review and record what changes as decisions"
            ),
        },
        "d_nonconformities": {
            "by_status": dict(sorted(Counter(c.status for c in capas).items())),
            "overdue_actions": overdue,
            "open_findings": sum(1 for f in findings_for(store) if f.status == "open"),
        },
        "d_monitoring": {
            "evidence": {t: counts.get(t, 0) for t in MONITORING_TYPES},
            "objectives": objectives,
        },
        "d_audits": audits,
        "e_opportunities": [
            {"finding": f.id, "audit": f.data.audit}
            for f in findings_for(store)
            if f.data.grade == "opportunity"
        ],
        "risks": {
            "by_status": dict(sorted(Counter(r.status for r in risks).items())),
            "by_current_band": dict(sorted(bands.items())),
            "untreated": [r.id for r in risks if r.status == "identified"],
        },
        "readiness": _coverage(ledger, now),
    }


def prepare(
    store: Store, ledger: Ledger, *, title: str, actor: str, review_id: str | None = None
) -> records.Record[Review]:
    """Assemble the pack into a new review, or refresh the pack of one not yet held."""
    pack = assemble_pack(store, ledger)
    now = datetime.now(UTC)
    if review_id is None:
        rid = records.next_id(store, SPEC)
        review = records.validate(SPEC, rid, {"title": title, "pack": pack, "prepared_at": now})
        return records.create(
            store, ledger, SPEC, review, actor=actor, status="prepared", record_id=rid
        )
    current = get_review(store, review_id)
    if current.status == "held":
        raise Conflict(f"management review {review_id} was already held; prepare a new one")
    review = current.data.model_copy(update={"pack": pack, "prepared_at": now})
    return records.update(
        store, ledger, SPEC, review_id, actor=actor, action="prepare", data=review
    )


def decide(
    store: Store,
    ledger: Ledger,
    review_id: str,
    *,
    text: str,
    kind: str = "note",
    owner: str = "",
    due: date | None = None,
    objective: Mapping[str, Any] | None = None,
    actor: str,
) -> records.Record[Review]:
    """Record a decision; ``capa`` opens a corrective action, ``objective`` sets one."""
    current = get_review(store, review_id)
    if current.status == "held":
        raise Conflict(f"management review {review_id} was already held; decisions are final")
    changes: list[records.Planned[Any]] = []
    ref = None
    if kind == "capa":
        changes = plan_open_capa(
            store, title=text, source="review", source_ref=review_id, actor=actor
        )
        ref = changes[0].record.id
    elif kind == "objective":
        if not objective:
            raise Invalid(
                f"management review {review_id}: an objective decision needs "
                "--target-op and --target"
            )
        planned = plan_add_objective(
            store, {"title": text, "owner": owner, **objective}, actor=actor
        )
        changes = [planned]
        ref = planned.record.id
    decision = {
        "id": f"D{len(current.data.decisions) + 1}",
        "text": text,
        "kind": kind,
        "ref": ref,
        "owner": owner,
        "due": due.isoformat() if due else None,
    }
    decisions = [d.model_dump(mode="json") for d in current.data.decisions] + [decision]
    review = records.merged(SPEC, current, {"decisions": decisions})
    changes.append(records.plan_update(SPEC, current, actor=actor, action="decide", data=review))
    records.commit(ledger, changes)
    return changes[-1].record


def hold(
    store: Store,
    ledger: Ledger,
    review_id: str,
    *,
    chair: str,
    attendees: tuple[str, ...],
    minutes: str = "",
    actor: str,
) -> records.Record[Review]:
    """Record that the review was held: management-review evidence for readiness."""
    current = get_review(store, review_id)
    if current.status == "held":
        raise Conflict(f"management review {review_id} was already held")
    if not chair or not attendees:
        raise Invalid(f"management review {review_id}: record the --chair and the --attendee(s)")
    review = current.data.model_copy(
        update={
            "chair": chair,
            "attendees": attendees,
            "minutes": minutes,
            "held_at": datetime.now(UTC),
        }
    )
    return records.update(
        store,
        ledger,
        SPEC,
        review_id,
        actor=actor,
        action="approve",
        data=review,
        status="held",
        evidence_type=SPEC.approval_type,
        figures={"inputs": sorted(current.data.pack)},
    )


def render_pack(record: records.Record[Review]) -> str:
    """The review pack as Markdown, one section per clause 9.3.2 input."""
    pack = record.data.pack
    lines = [f"# Management review {record.id}: {record.data.title}", ""]
    period = pack.get("period", {})
    lines.append(f"Period: {period.get('since') or 'start'} to {period.get('until')}")
    for key, title in PACK_SECTIONS.items():
        lines += ["", f"## {title}", ""]
        value = pack.get(key)
        lines.extend(_bullets(value) or ["- nothing to report"])
    if record.data.decisions:
        lines += ["", "## Decisions", ""]
        lines += [
            f"- {d.id} ({d.kind}{', ' + d.ref if d.ref else ''}): {d.text}"
            for d in record.data.decisions
        ]
    return "\n".join(lines) + "\n"


def _bullets(value: Any, indent: str = "") -> list[str]:
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                out.append(f"{indent}- {k}:")
                out.extend(_bullets(v, indent + "  "))
            else:
                out.append(f"{indent}- {k}: {v}")
        return out
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict):
                out.append(f"{indent}- " + ", ".join(f"{k}={v}" for k, v in item.items()))
            else:
                out.append(f"{indent}- {item}")
        return out
    return [] if value is None else [f"{indent}- {value}"]
