"""Readiness (the gap engine): how ready is the organisation, per requirement, from live evidence.

For a framework and optionally one AI system, every leaf requirement gets a
status — ``prohibited``, ``failing``, ``met``, ``partial``, ``stale``, ``gap``
or ``not_applicable`` — and, unless met, the next concrete action. The rules
(:func:`assess`) are pure; :func:`readiness` gathers the facts from the store
and the ledger:

* applicability: ISO/IEC 42001 Annex A controls follow the Statement of
  Applicability (newest approved version, else the draft); a requirement with
  an ``applies_when`` condition (every EU AI Act obligation) applies when the
  condition holds for a system's facts (:mod:`assay.aims.applicability`);
  everything else applies. A prohibition that applies is ``prohibited``: no
  evidence clears it, only reclassifying or retiring the system.
* evidence: ledger entries of a type that supports the requirement, or whose
  ``controls`` cite it, about the system assessed, fresh within the type's
  window and proven into the signed checkpoint. Each entry's outcome comes
  from its own acceptance criteria (:mod:`assay.aims.evidence_outcome`): only
  passing direct evidence can make a requirement ``met``; fresh failing direct
  evidence makes it ``failing``; expired direct evidence makes it ``stale``.
* crosswalk: fresh evidence for a related requirement counts with the relation
  shown. When the evidenced requirement is ``equivalent`` to or a ``superset``
  of this one it can make it ``met``; ``intersects`` and ``subset`` (and
  evidence citing only a parent clause) give at most ``partial``.
* caps: a control the SoA marks ``planned`` or ``partial``, or one with an
  open nonconformity finding, is at most ``partial``. The SoA never raises a
  status: claims are not evidence.

Overall readiness = 100 × (met + ½ × partial) / applicable requirements
(prohibited, failing, stale and gap count 0; not-applicable ones are left out).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from assay.aims import audit, soa
from assay.aims.applicability import SystemScope, scope_of
from assay.aims.evidence_outcome import Judgement, judge
from assay.aims.inventory import get_system, list_systems
from assay.aims.readiness_actions import evidence_command, next_action
from assay.aims.readiness_evidence import (
    CheckpointInfo,
    Sighting,
    Verification,
    collect_sightings,
    verify_citations,
)
from assay.catalogs import (
    BUILTIN_FRAMEWORKS,
    Condition,
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
    "OPEN_STATUSES",
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

Status = Literal["prohibited", "failing", "met", "partial", "stale", "gap", "not_applicable"]
STATUSES: tuple[Status, ...] = (
    "prohibited",
    "failing",
    "met",
    "partial",
    "stale",
    "gap",
    "not_applicable",
)
OPEN_STATUSES: tuple[Status, ...] = ("prohibited", "failing", "partial", "stale", "gap")
"""Applicable and not met: the gap report, blockers first."""
WEIGHTS: Mapping[str, float] = {
    "prohibited": 0.0,
    "failing": 0.0,
    "met": 1.0,
    "partial": 0.5,
    "stale": 0.0,
    "gap": 0.0,
}
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
    outcome: str = "passed"
    """``passed``, ``failed`` or ``informational``, from the type's acceptance criteria."""
    outcome_reason: str = ""
    rejected: str | None = None
    """Why the entry does not count here (wrong subject, register or test family)."""

    @property
    def counts(self) -> bool:
        """Fresh, proven, about the right thing: its outcome decides."""
        return self.fresh and self.verified and self.rejected is None

    @property
    def failing(self) -> bool:
        """Fresh, proven, relevant evidence that failed its acceptance criteria."""
        return self.counts and self.outcome == "failed"

    @property
    def credit(self) -> Literal["full", "partial", "none"]:
        """What this citation alone can prove about the requirement."""
        if not self.counts or self.outcome != "passed":
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
            "outcome": self.outcome,
            "outcome_reason": self.outcome_reason,
            "rejected": self.rejected,
            "counted": self.credit != "none",
        }

    def verdict(self) -> str:
        """One line: counted or not, and why (for ``--explain``)."""
        name = self.type.split("/")[1]
        head = f"entry {self.seq} ({name}, {self.age_days:.0f} days old"
        head += f", via {self.supports} ({self.relation}))" if self.relation else ")"
        if self.rejected:
            return f"{head}: rejected, {self.rejected}"
        if not self.verified:
            return f"{head}: rejected, not proven into the signed checkpoint"
        if not self.fresh:
            return f"{head}: expired (fresh for {self.freshness_days} days)"
        if self.outcome == "failed":
            return f"{head}: FAILED, {self.outcome_reason}"
        if self.outcome == "informational":
            return f"{head}: informational only, {self.outcome_reason}"
        credit = "counted" if self.credit == "full" else "counted as related evidence"
        return f"{head}: {credit}, {self.outcome_reason}"


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
    condition: str | None = None
    """The ``applies_when`` condition decided applicability (None: SoA or always)."""
    condition_trace: tuple[str, ...] = ()
    """Per system: the condition with each atom marked ``[yes]``/``[no]`` for its facts."""

    @property
    def applicable(self) -> bool:
        return self.status != "not_applicable"

    def explain(self) -> list[str]:
        """Why this status: the condition, each entry counted or not, and what would change it."""
        lines = [f"{self.ref}  {self.title}", f"status: {self.status}"]
        if self.condition:
            lines.append(f"applies when: {self.condition}")
            lines += [f"  {trace}" for trace in self.condition_trace]
        elif self.soa_justification is not None or "SoA" in self.reason:
            lines.append("applicability: the Statement of Applicability decides (Annex A control)")
        else:
            lines.append("applicability: always (no condition in the catalog)")
        lines.append(f"why: {self.reason}")
        lines.append("evidence:")
        lines += [f"  {c.verdict()}" for c in self.evidence] or ["  none in the ledger"]
        expected = ", ".join(t.split("/")[1] for t in self.expected_types) or "none (attest)"
        lines.append(f"evidence types that support it: {expected}")
        lines.append(f"what would change it: {self._change_hint()}")
        return lines

    def _change_hint(self) -> str:
        if self.status == "not_applicable":
            if self.condition:
                return (
                    "it applies once the condition holds: the roles (`assay systems update "
                    "--org-role …`) or the classification answers (`assay systems classify …`)"
                )
            return "include it in the Statement of Applicability (`assay soa edit …`)"
        if self.status == "met":
            counted = [c for c in self.evidence if c.credit == "full"]
            windows = [
                c.freshness_days - c.age_days for c in counted if c.freshness_days is not None
            ]
            expiry = f"; the evidence expires in {min(windows):.0f} days" if windows else ""
            return f"a newer failing entry, an open nonconformity or a SoA cap{expiry}"
        return self.next_action or ""

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
            "condition": self.condition,
            "condition_trace": list(self.condition_trace),
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
        order = {s: n for n, s in enumerate(OPEN_STATUSES)}
        found = [i for i in self.items if i.status in order]
        return tuple(
            sorted(found, key=lambda i: order[i.status] if i.status == "prohibited" else 1)
        )

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
            "blockers": [i.ref for i in self.items if i.status == "prohibited"],
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
    system: str | None = None,
    version: str = "",
) -> Citation:
    known = types.get(sighting.type)
    window = known.freshness_days if known else None
    if not sighting.by_type and window is None:
        window = ATTESTATION_FRESHNESS_DAYS
    age = (now - sighting.observed_at).total_seconds() / 86400
    rejected = sighting.rejected
    if rejected is None and system is not None and known is not None and known.about_a_system:
        rejected = _wrong_subject(sighting, known, version)
    verdict = _judgement(sighting)
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
        outcome=verdict.outcome,
        outcome_reason=verdict.reason,
        rejected=rejected,
    )


def _wrong_subject(sighting: Sighting, known: EvidenceType, version: str) -> str | None:
    """Why test, operation or monitoring evidence is not about the system assessed, if so."""
    if sighting.system is None:
        return f"{known.kind} evidence must name the system it is about; this entry names none"
    tested = sighting.subject_version() if known.kind == "test" and version else None
    if tested is not None and tested != version:
        return f"it tested version {tested}; the system in service is version {version}"
    return None


def _judgement(sighting: Sighting) -> Judgement:
    try:
        return judge(sighting.type, sighting.summary())
    except ValueError:  # not JSON: nothing to judge
        return Judgement("informational", "the entry could not be read")


@dataclass(frozen=True)
class _Scope:
    """How applicability was decided for one requirement."""

    applicable: bool
    reason: str
    unclassified: tuple[str, ...] = ()
    soa_status: str | None = None
    soa_justification: str | None = None
    condition: str | None = None
    trace: tuple[str, ...] = ()
    prohibited_for: tuple[str, ...] = ()
    roles_unknown: tuple[str, ...] = ()


def _applicability(fw: Framework, req: Requirement, facts: Facts) -> _Scope:
    if req.framework == _ISO and req.id.startswith("A."):
        if facts.soa is None:
            return _Scope(True, "no Statement of Applicability yet (treated as applicable)")
        try:
            entry = facts.soa.entry(req.ref)
        except AssayError:  # a control missing from an old SoA version
            return _Scope(True, f"not in SoA v{facts.soa.version}")
        label = f"SoA v{facts.soa.version} ({facts.soa.status})"
        if not entry.applicable:
            return _Scope(
                False,
                f"excluded by {label}: {entry.justification}",
                soa_justification=entry.justification,
            )
        return _Scope(
            True,
            label,
            soa_status=entry.implementation_status,
            soa_justification=entry.justification,
        )
    condition = fw.condition(req.id)
    if condition is None:
        return _Scope(True, "")
    return _conditional(req, condition, facts.systems)


def _conditional(req: Requirement, condition: Condition, systems: Sequence[SystemScope]) -> _Scope:
    """Applicability from the catalog's ``applies_when`` condition over each system's facts."""
    text = str(condition)
    if not systems:
        return _Scope(False, "no AI system in the inventory", condition=text)
    applies: list[str] = []
    unclassified: list[str] = []
    why_not: list[str] = []
    trace: list[str] = []
    prohibited: list[str] = []
    roles_unknown: list[str] = []
    applied: list[str] = []
    for system in systems:
        if not system.classified:
            unclassified.append(system.id)
            trace.append(f"{system.id}: unclassified, treated as applicable")
            continue
        facts = system.evaluated_facts()
        marked = condition.text(facts)
        if not system.roles:
            roles_unknown.append(system.id)
            marked += " (roles not recorded: every role assumed)"
        trace.append(f"{system.id}: {marked}")
        if not condition.holds(facts):
            why_not.append(f"{system.id}: {_short(system)}")
        elif req.kind == "prohibition" and system.retired:
            why_not.append(f"{system.id}: retired")
        else:
            applies.append(f"{system.id} ({_short(system)})")
            applied.append(system.id)
            if req.kind == "prohibition":
                prohibited.append(system.id)
    if not applies and not unclassified:
        return _Scope(
            False,
            f"applies when {text}; not for " + "; ".join(why_not),
            condition=text,
            trace=tuple(trace),
        )
    parts = [f"applies to {', '.join(applies)}"] if applies else []
    if unclassified:
        parts.append(f"unclassified: {', '.join(unclassified)} (treated as applicable)")
    guessed = tuple(r for r in roles_unknown if r in applied)
    if guessed:
        parts.append(f"roles not recorded for {', '.join(guessed)}")
    if req.applies_from:
        parts.append(f"applies from {req.applies_from.isoformat()}")
    return _Scope(
        True,
        "; ".join(parts),
        unclassified=tuple(unclassified),
        condition=text,
        trace=tuple(trace),
        prohibited_for=tuple(prohibited),
        roles_unknown=guessed,
    )


def _short(system: SystemScope) -> str:
    roles = ", ".join(system.roles) if system.roles else "roles not recorded"
    return f"{system.ai_act_class}; {roles}"


def assess(
    fw: Framework,
    facts: Facts,
    *,
    now: datetime,
    system: str | None = None,
    types: Mapping[str, EvidenceType] | None = None,
    relations: Callable[[str], list[Relation]] | None = None,
) -> tuple[ItemStatus, ...]:
    """Every leaf requirement's status from the gathered facts; pure. Prohibited ones first."""
    types = evidence_types() if types is None else types
    if relations is None:
        relations = relations_for if fw.id in BUILTIN_FRAMEWORKS else (lambda _ref: [])
    items = [_assess_one(fw, req, facts, now, system, types, relations) for req in leaves(fw)]
    return tuple(sorted(items, key=lambda i: i.status != "prohibited"))


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
    scope = _applicability(fw, req, facts)
    template = ItemStatus(
        ref=req.ref,
        id=req.id,
        title=req.title,
        kind=req.kind,
        status="not_applicable",
        reason=scope.reason,
        next_action=None,
        expected_types=expected,
        evidence=(),
        soa_status=scope.soa_status,
        soa_justification=scope.soa_justification,
        condition=scope.condition,
        condition_trace=scope.trace,
    )
    if not scope.applicable:
        return template
    v = facts.verification
    version = next((s.version for s in facts.systems if s.id == system), "")
    direct = [
        _citation(s, req.ref, None, now, types, v, system, version)
        for s in facts.sightings.get(req.ref, {}).values()
    ]
    indirect: dict[int, Citation] = {}  # one citation per entry: its best relation
    for ref, relation, can_be_full in _related(fw, req, relations):
        for s in facts.sightings.get(ref, {}).values():
            cited = _citation(s, ref, relation, now, types, v, system, version)
            if not can_be_full and cited.relation in _FULL_CREDIT:
                label = f"{relation} (via parent)"
                cited = _citation(s, ref, label, now, types, v, system, version)
            known = indirect.get(s.seq)
            if cited.credit != "none" and (known is None or cited.credit == "full"):
                indirect[s.seq] = cited
    seen = {c.seq for c in direct}
    others = [c for seq, c in indirect.items() if seq not in seen]
    citations = sorted([*direct, *others], key=_rank)
    credits = {c.credit for c in citations}
    findings = facts.findings.get(req.ref, ())
    notes = [scope.reason] if scope.reason else []
    if scope.prohibited_for:
        names = ", ".join(scope.prohibited_for)
        notes.append("a prohibited practice: no evidence or note clears it")
        return replace(
            template,
            status="prohibited",
            reason="; ".join(notes),
            next_action=(
                f"stop placing on the market, putting into service or using {names} for this "
                f"practice; once it is removed, reclassify (`assay systems classify "
                f"{scope.prohibited_for[0]} …`), or retire it "
                f"(`assay systems update {scope.prohibited_for[0]} --stage retirement`)"
            ),
            evidence=tuple(citations),
            open_findings=findings,
        )
    failing = [c for c in direct if c.failing]
    status: Status
    if failing:
        status = "failing"
    elif "full" in credits:
        status = "met"
    elif any(c.verified and not c.fresh and c.rejected is None for c in direct):
        status = "stale"
    elif "partial" in credits:
        status = "partial"
    else:
        status = "gap"
    if status == "met" and scope.soa_status in ("planned", "partial"):
        status = "partial"
        notes.append(f"SoA says {scope.soa_status}")
    if status == "met" and findings:
        status = "partial"
        notes.append(f"open nonconformity {', '.join(findings)}")
    if failing:
        worst = failing[0]
        notes.append(f"{worst.type.split('/')[1]} entry {worst.seq} failed: {worst.outcome_reason}")
    else:
        notes.append(_evidence_note(citations))
    stale = [
        (c.type, c.age_days, c.freshness_days)
        for c in direct
        if c.verified and not c.fresh and status == "stale"
    ]
    unverified = [v.failures[c.seq] for c in direct if not c.verified and c.seq in v.failures]
    action = None
    if status == "failing":
        worst = failing[0]
        action = (
            f"fix what entry {worst.seq} found ({worst.outcome_reason}), then run "
            f"`{evidence_command(worst.type, system, req.ref)}` again"
        )
    elif status != "met":
        action = next_action(
            ref=req.ref,
            status=status,
            system=system,
            expected_types=expected,
            stale=stale,
            unverified=unverified if status == "gap" else (),
            soa_status=scope.soa_status,
            open_findings=findings,
            unclassified=scope.unclassified,
            has_fresh_evidence=bool(credits & {"full", "partial"}),
            roles_unknown=scope.roles_unknown,
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
    """Direct before related, failing first, then full credit, then newest."""
    order = 0 if cited.failing else {"full": 1, "partial": 2, "none": 3}[cited.credit]
    return (cited.relation is not None, order, -cited.observed_at.timestamp())


def _evidence_note(citations: Sequence[Citation]) -> str:
    if not citations:
        return "no evidence in the ledger"
    best = citations[0]
    if best.rejected:
        return f"{best.type.split('/')[1]} entry {best.seq} does not count: {best.rejected}"
    if best.outcome == "informational" and best.fresh and best.verified:
        return f"{best.type.split('/')[1]} entry {best.seq} is informational: {best.outcome_reason}"
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
    return tuple(scope_of(r) for r in records)


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
    sightings = collect_sightings(ledger, wanted_refs(fw), types, system=system)
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
