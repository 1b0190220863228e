"""Readiness (the gap engine): how ready is the organisation, per requirement, from live evidence.

For a framework and optionally one AI system, every leaf requirement gets a
status — ``met``, ``partial``, ``stale``, ``gap`` or ``not_applicable`` — and,
unless met, the next concrete action. The rules (:func:`assess`) are pure;
:func:`readiness` gathers the facts from the store and the ledger:

* applicability: ISO/IEC 42001 Annex A controls follow the Statement of
  Applicability (newest approved version, else the draft); EU AI Act
  obligations follow each system's AI Act class (``risk_classes``) and the
  organisation's role for it (``duty_holders``); everything else applies.
* evidence: ledger entries of a type that supports the requirement, or whose
  ``controls`` cite it, fresh within the type's window and proven into the
  signed checkpoint. Direct fresh evidence can make a requirement ``met``;
  expired direct evidence makes it ``stale``.
* crosswalk: fresh evidence for a related requirement counts with the relation
  shown. When the evidenced requirement is ``equivalent`` to or a ``superset``
  of this one it can make it ``met``; ``intersects`` and ``subset`` (and
  evidence citing only a parent clause) give at most ``partial``.
* caps: a control the SoA marks ``planned`` or ``partial``, or one with an
  open nonconformity finding, is at most ``partial``. The SoA never raises a
  status: claims are not evidence.

Overall readiness = 100 × (met + ½ × partial) / applicable requirements
(stale and gap count 0; not-applicable ones are left out).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from assay.aims import audit, soa
from assay.aims.inventory import get_system, list_systems
from assay.aims.readiness_actions import next_action
from assay.aims.readiness_evidence import (
    CheckpointInfo,
    Sighting,
    Verification,
    collect_sightings,
    verify_citations,
)
from assay.catalogs import (
    BUILTIN_FRAMEWORKS,
    EvidenceType,
    Framework,
    Relation,
    RelationType,
    Requirement,
    evidence_types,
    framework,
    relations_for,
)
from assay.errors import AssayError
from assay.ledger import InclusionProof, Ledger
from assay.store import Store

__all__ = [
    "ATTESTATION_FRESHNESS_DAYS",
    "STATUSES",
    "WEIGHTS",
    "Citation",
    "Facts",
    "ItemStatus",
    "Readiness",
    "Status",
    "SystemScope",
    "assess",
    "readiness",
    "readiness_percent",
]

Status = Literal["met", "partial", "stale", "gap", "not_applicable"]
STATUSES: tuple[Status, ...] = ("met", "partial", "stale", "gap", "not_applicable")
WEIGHTS: Mapping[str, float] = {"met": 1.0, "partial": 0.5, "stale": 0.0, "gap": 0.0}
"""Credit per applicable requirement in the overall percentage."""
ATTESTATION_FRESHNESS_DAYS = 365
"""Window for an entry that only cites a requirement in ``controls`` and whose type has none."""

_FULL_CREDIT = frozenset({RelationType.EQUIVALENT, RelationType.SUPERSET})
_NONCONFORMITY = ("major-nonconformity", "minor-nonconformity")
_ISO = "iso42001"
_EU = "eu-ai-act"


@dataclass(frozen=True)
class Citation:
    """A ledger entry cited for a requirement, and how it counts."""

    seq: int
    type: str
    observed_at: datetime
    age_days: float
    freshness_days: int | None
    fresh: bool
    verified: bool
    leaf_hash: str
    supports: str
    """The requirement the entry evidences directly (this one, a parent or a related one)."""
    relation: str | None
    """None for direct evidence; else how ``supports`` relates to this requirement
    (``equivalent``, ``superset``, ``subset``, ``intersects``) or ``parent``."""
    linked_by: Literal["type", "controls"]

    @property
    def credit(self) -> Literal["full", "partial", "none"]:
        """What this citation alone can prove about the requirement."""
        if not (self.fresh and self.verified):
            return "none"
        if self.relation is None or self.relation in _FULL_CREDIT:
            return "full"
        return "partial"

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type,
            "observed_at": self.observed_at.isoformat(),
            "age_days": round(self.age_days, 1),
            "freshness_days": self.freshness_days,
            "fresh": self.fresh,
            "verified": self.verified,
            "leaf_hash": self.leaf_hash,
            "supports": self.supports,
            "relation": self.relation,
            "linked_by": self.linked_by,
        }


@dataclass(frozen=True)
class ItemStatus:
    """One requirement's readiness."""

    ref: str
    id: str
    title: str
    kind: str
    status: Status
    reason: str
    next_action: str | None
    expected_types: tuple[str, ...]
    evidence: tuple[Citation, ...]
    soa_status: str | None = None
    soa_justification: str | None = None
    open_findings: tuple[str, ...] = ()

    @property
    def applicable(self) -> bool:
        return self.status != "not_applicable"

    def as_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "next_action": self.next_action,
            "expected_types": list(self.expected_types),
            "evidence": [c.as_json() for c in self.evidence],
            "soa_status": self.soa_status,
            "soa_justification": self.soa_justification,
            "open_findings": list(self.open_findings),
        }


def readiness_percent(statuses: Sequence[str]) -> float | None:
    """100 × (met + ½ partial) / applicable, one decimal; None when nothing applies."""
    applicable = [s for s in statuses if s != "not_applicable"]
    if not applicable:
        return None
    return round(100 * sum(WEIGHTS[s] for s in applicable) / len(applicable), 1)


@dataclass(frozen=True)
class Readiness:
    """A framework's readiness for the organisation or one AI system."""

    framework: str
    framework_name: str
    framework_version: str
    system: str | None
    generated_at: datetime
    items: tuple[ItemStatus, ...]
    checkpoint: CheckpointInfo | None
    proofs: Mapping[int, InclusionProof] = field(default_factory=dict)
    soa_version: int | None = None
    soa_status: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(i.status == s for i in self.items) for s in STATUSES}

    @property
    def percent(self) -> float | None:
        return readiness_percent([i.status for i in self.items])

    @property
    def open_items(self) -> tuple[ItemStatus, ...]:
        """Applicable requirements that are not met: the gap report."""
        return tuple(i for i in self.items if i.status in ("partial", "stale", "gap"))

    def item(self, ref: str) -> ItemStatus:
        for candidate in self.items:
            if ref in (candidate.ref, candidate.id):
                return candidate
        raise KeyError(ref)

    def as_json(self, *, with_proofs: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "framework": self.framework,
            "framework_name": self.framework_name,
            "framework_version": self.framework_version,
            "system": self.system,
            "generated_at": self.generated_at.isoformat(),
            "percent": self.percent,
            "formula": "100 * (met + 0.5 * partial) / applicable",
            "counts": self.counts,
            "soa": {"version": self.soa_version, "status": self.soa_status},
            "checkpoint": (
                {"tree_size": self.checkpoint.tree_size, "root_hash": self.checkpoint.root_hash}
                if self.checkpoint
                else None
            ),
            "items": [i.as_json() for i in self.items],
        }
        if with_proofs:
            doc["proofs"] = {str(s): p.as_json() for s, p in sorted(self.proofs.items())}
        return doc


@dataclass(frozen=True)
class SystemScope:
    """What the EU AI Act rules need to know about one system."""

    id: str
    ai_act_class: str | None
    org_role: str


@dataclass(frozen=True)
class Facts:
    """Everything :func:`assess` reads, gathered beforehand (so assess is pure)."""

    soa: soa.SoA | None
    systems: tuple[SystemScope, ...]
    sightings: Mapping[str, Mapping[str, Sighting]]
    verification: Verification
    findings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


# ---------------------------------------------------------------- pure rules


def leaves(fw: Framework) -> tuple[Requirement, ...]:
    """Requirements without children: the items readiness assesses."""
    parents = {r.parent for r in fw.requirements if r.parent}
    return tuple(r for r in fw.requirements if r.id not in parents)


def _related(
    fw: Framework, req: Requirement, relations: Callable[[str], list[Relation]]
) -> list[tuple[str, str, bool]]:
    """``(ref, relation, can_be_full)`` for parents and crosswalk neighbours of ``req``."""
    out: list[tuple[str, str, bool]] = []
    ancestors = fw.ancestors(req.id)
    out += [(a.ref, "parent", False) for a in ancestors]
    for own, source in ((True, req), *((False, a) for a in ancestors)):
        for rel in relations(source.ref):
            seen = rel.type.inverse()  # how the related requirement relates to this one
            out.append((rel.target_ref, seen.value, own and seen in _FULL_CREDIT))
    return out


def _citation(
    sighting: Sighting,
    supports: str,
    relation: str | None,
    now: datetime,
    types: Mapping[str, EvidenceType],
    verification: Verification,
) -> Citation:
    known = types.get(sighting.type)
    window = known.freshness_days if known else None
    if not sighting.by_type and window is None:
        window = ATTESTATION_FRESHNESS_DAYS
    age = (now - sighting.observed_at).total_seconds() / 86400
    return Citation(
        seq=sighting.seq,
        type=sighting.type,
        observed_at=sighting.observed_at,
        age_days=max(age, 0.0),
        freshness_days=window,
        fresh=window is None or age <= window,
        verified=verification.verified(sighting.seq),
        leaf_hash=sighting.leaf_hash,
        supports=supports,
        relation=relation,
        linked_by="type" if sighting.by_type else "controls",
    )


def _applicability(
    req: Requirement, facts: Facts
) -> tuple[bool, str, tuple[str, ...], str | None, str | None]:
    """``(applicable, reason, unclassified systems, soa status, soa justification)``."""
    if req.framework == _ISO and req.id.startswith("A."):
        if facts.soa is None:
            return True, "no Statement of Applicability yet (treated as applicable)", (), None, None
        try:
            entry = facts.soa.entry(req.ref)
        except AssayError:  # a control missing from an old SoA version
            return True, f"not in SoA v{facts.soa.version}", (), None, None
        label = f"SoA v{facts.soa.version} ({facts.soa.status})"
        if not entry.applicable:
            return (
                False,
                f"excluded by {label}: {entry.justification}",
                (),
                None,
                entry.justification,
            )
        return True, label, (), entry.implementation_status, entry.justification
    if req.framework != _EU:
        return True, "", (), None, None
    return _eu_applicability(req, facts.systems)


def _eu_applicability(
    req: Requirement, systems: Sequence[SystemScope]
) -> tuple[bool, str, tuple[str, ...], str | None, str | None]:
    if not systems:
        return False, "no AI system in the inventory", (), None, None
    applies, unclassified, why_not = [], [], []
    for system in systems:
        if req.duty_holders and system.org_role not in req.duty_holders:
            why_not.append(f"{system.id}: organisation is {system.org_role}")
        elif system.ai_act_class is None:
            unclassified.append(system.id)
        elif req.risk_classes and system.ai_act_class not in req.risk_classes:
            why_not.append(f"{system.id}: {system.ai_act_class}")
        else:
            applies.append(f"{system.id} ({system.ai_act_class}, {system.org_role})")
    holders = ", ".join(req.duty_holders) or "everyone"
    classes = ", ".join(req.risk_classes) or "every class"
    if not applies and not unclassified:
        return (
            False,
            f"binds {holders} of {classes} systems; " + "; ".join(why_not),
            (),
            None,
            None,
        )
    parts = [f"applies to {', '.join(applies)}"] if applies else []
    if unclassified:
        parts.append(f"unclassified: {', '.join(unclassified)} (treated as applicable)")
    if req.applies_from:
        parts.append(f"applies from {req.applies_from.isoformat()}")
    return True, "; ".join(parts), tuple(unclassified), None, None


def assess(
    fw: Framework,
    facts: Facts,
    *,
    now: datetime,
    system: str | None = None,
    types: Mapping[str, EvidenceType] | None = None,
    relations: Callable[[str], list[Relation]] | None = None,
) -> tuple[ItemStatus, ...]:
    """Every leaf requirement's status from the gathered facts; pure."""
    types = evidence_types() if types is None else types
    if relations is None:
        relations = relations_for if fw.id in BUILTIN_FRAMEWORKS else (lambda _ref: [])
    return tuple(_assess_one(fw, req, facts, now, system, types, relations) for req in leaves(fw))


def _assess_one(
    fw: Framework,
    req: Requirement,
    facts: Facts,
    now: datetime,
    system: str | None,
    types: Mapping[str, EvidenceType],
    relations: Callable[[str], list[Relation]],
) -> ItemStatus:
    expected = tuple(uri for uri, et in types.items() if req.ref in et.supports)
    applicable, scope_note, unclassified, soa_status, soa_why = _applicability(req, facts)
    template = ItemStatus(
        ref=req.ref,
        id=req.id,
        title=req.title,
        kind=req.kind,
        status="not_applicable",
        reason=scope_note,
        next_action=None,
        expected_types=expected,
        evidence=(),
        soa_status=soa_status,
        soa_justification=soa_why,
    )
    if not applicable:
        return template
    v = facts.verification
    direct = [
        _citation(s, req.ref, None, now, types, v)
        for s in facts.sightings.get(req.ref, {}).values()
    ]
    indirect: dict[int, Citation] = {}  # one citation per entry: its best relation
    for ref, relation, can_be_full in _related(fw, req, relations):
        for s in facts.sightings.get(ref, {}).values():
            cited = _citation(s, ref, relation, now, types, v)
            if not can_be_full and cited.relation in _FULL_CREDIT:
                cited = _citation(s, ref, f"{relation} (via parent)", now, types, v)
            known = indirect.get(s.seq)
            if cited.credit != "none" and (known is None or cited.credit == "full"):
                indirect[s.seq] = cited
    seen = {c.seq for c in direct}
    others = [c for seq, c in indirect.items() if seq not in seen]
    citations = sorted([*direct, *others], key=_rank)
    credits = {c.credit for c in citations}
    findings = facts.findings.get(req.ref, ())
    status: Status
    if "full" in credits:
        status = "met"
    elif any(c.verified and not c.fresh for c in direct):
        status = "stale"
    elif "partial" in credits:
        status = "partial"
    else:
        status = "gap"
    notes = [scope_note] if scope_note else []
    if status == "met" and soa_status in ("planned", "partial"):
        status = "partial"
        notes.append(f"SoA says {soa_status}")
    if status == "met" and findings:
        status = "partial"
        notes.append(f"open nonconformity {', '.join(findings)}")
    notes.append(_evidence_note(citations))
    stale = [
        (c.type, c.age_days, c.freshness_days)
        for c in direct
        if c.verified and not c.fresh and status == "stale"
    ]
    unverified = [v.failures[c.seq] for c in direct if not c.verified and c.seq in v.failures]
    action = None
    if status != "met":
        action = next_action(
            ref=req.ref,
            status=status,
            system=system,
            expected_types=expected,
            stale=stale,
            unverified=unverified if status == "gap" else (),
            soa_status=soa_status,
            open_findings=findings,
            unclassified=unclassified,
            has_fresh_evidence=bool(credits & {"full", "partial"}),
        )
    return replace(
        template,
        status=status,
        reason="; ".join(n for n in notes if n),
        next_action=action,
        evidence=tuple(citations),
        open_findings=findings,
    )


def _rank(cited: Citation) -> tuple[bool, int, float]:
    """Direct before related, full credit first, then newest: the first one is the best."""
    order = {"full": 0, "partial": 1, "none": 2}[cited.credit]
    return (cited.relation is not None, order, -cited.observed_at.timestamp())


def _evidence_note(citations: Sequence[Citation]) -> str:
    if not citations:
        return "no evidence in the ledger"
    best = citations[0]
    via = f" via {best.supports} ({best.relation})" if best.relation else ""
    state = "fresh" if best.fresh else "expired"
    window = f"{best.freshness_days} days" if best.freshness_days is not None else "no expiry"
    proof = "" if best.verified else ", not proven"
    return (
        f"{best.type.split('/')[1]} entry {best.seq}{via}, {best.age_days:.0f} days old "
        f"({state}; window {window}{proof})"
    )


# ---------------------------------------------------------------- store reads


def _scope(store: Store, system: str | None) -> tuple[SystemScope, ...]:
    records = [get_system(store, system)] if system else list_systems(store)
    return tuple(SystemScope(r.id, r.ai_act_class, r.profile.org_role) for r in records)


def _open_findings(store: Store, system: str | None) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for finding in audit.findings_for(store):
        if finding.status == "closed" or finding.data.grade not in _NONCONFORMITY:
            continue
        if system is not None and finding.system not in (None, system):
            continue
        for ref in finding.data.controls:
            out.setdefault(ref, []).append(finding.id)
    return {ref: tuple(ids) for ref, ids in out.items()}


def wanted_refs(fw: Framework) -> set[str]:
    """Every requirement whose evidence can count for ``fw``: leaves, parents, crosswalk ends."""
    refs = {r.ref for r in fw.requirements}
    if fw.id in BUILTIN_FRAMEWORKS:
        for req in fw.requirements:
            refs.update(rel.target_ref for rel in relations_for(req.ref))
    return refs


def readiness(
    store: Store,
    ledger: Ledger,
    framework_id: str | Framework,
    *,
    system: str | None = None,
    now: datetime | None = None,
    sign: bool = True,
) -> Readiness:
    """Readiness of a framework (a built-in ID or a loaded custom Framework).

    ``system`` limits evidence to that AI system (plus organisation-wide
    entries) and decides EU AI Act applicability from its class and role;
    without it every active system is in scope. ``sign`` signs a checkpoint
    first so the newest evidence can be proven (nothing else is written).
    """
    fw = framework(framework_id) if isinstance(framework_id, str) else framework_id
    now = now or datetime.now(UTC)
    scope = _scope(store, system)
    statement = soa.current(store, approved_only=True) or soa.current(store)
    types = evidence_types()
    sightings = collect_sightings(store, wanted_refs(fw), types, system=system)
    seqs = {s.seq for per_type in sightings.values() for s in per_type.values()}
    verification = verify_citations(ledger, seqs, sign=sign)
    facts = Facts(statement, scope, sightings, verification, _open_findings(store, system))
    items = assess(fw, facts, now=now, system=system, types=types)
    cited = {c.seq for item in items for c in item.evidence}
    return Readiness(
        framework=fw.id,
        framework_name=fw.name,
        framework_version=fw.version,
        system=system,
        generated_at=now,
        items=items,
        checkpoint=verification.checkpoint,
        proofs={s: p for s, p in verification.proofs.items() if s in cited},
        soa_version=statement.version if statement else None,
        soa_status=statement.status if statement else None,
    )
