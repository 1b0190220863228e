"""The next concrete action for a requirement that is not met: which command produces what.

Pure text building, one entry per evidence type, so a gap report tells the
reader exactly what to run (``assay scan --target … --system S``) and why
(what is missing, or how old the evidence is against its freshness window).
"""

from __future__ import annotations

from collections.abc import Sequence

from assay.ledger.evidence import (
    AIMS_CHANGE,
    CAPA,
    CHECKPOINT_WITNESS,
    DRIFT_ALERT,
    ERASURE,
    EVAL_REPORT,
    GUARD_DECISION,
    IMPACT_ASSESSMENT,
    INCIDENT,
    INTERNAL_AUDIT,
    MANAGEMENT_REVIEW,
    REDTEAM_RUN,
    RISK_ASSESSMENT,
    SOA,
)

__all__ = ["evidence_command", "next_action"]

_COMMANDS: dict[str, str] = {
    REDTEAM_RUN: "assay scan --target <target> --system {system}",
    GUARD_DECISION: "assay gateway --policy default (traffic for {system})",
    DRIFT_ALERT: "assay drift reference set … then monitor {system}",
    AIMS_CHANGE: "assay systems update {system} (or any AIMS register change)",
    EVAL_REPORT: (
        "assay ledger append --type assay.dev/eval-report/v1 --system {system} "
        """--summary '{{"passed": true, "criteria": "…"}}' report.json"""
    ),
    ERASURE: "assay ledger erase N --reason … (when erasure is requested)",
    CHECKPOINT_WITNESS: "assay ledger witness … then assay ledger cosign",
    RISK_ASSESSMENT: "assay risks treat … then assay risks accept R-…",
    IMPACT_ASSESSMENT: "assay impact new --system {system} … then impact sign-off",
    SOA: "assay soa generate, then assay soa approve (a second person)",
    INTERNAL_AUDIT: "assay audits plan … then assay audits complete AUD-…",
    MANAGEMENT_REVIEW: "assay review prepare … then assay review hold MR-…",
    CAPA: "assay capa open … through assay capa close CAPA-…",
    INCIDENT: (
        "assay ledger append --type assay.dev/incident/v1 --system {system} incident.json"
    ),
}

_ATTEST = (
    "assay ledger append --type assay.dev/note/v1 --system {system} --control {ref} evidence.json"
)


def evidence_command(evidence_type: str, system: str | None, ref: str = "") -> str:
    """The command that produces evidence of this type (for a system, if given)."""
    template = _COMMANDS.get(evidence_type, _ATTEST)
    return template.format(system=system or "<system>", ref=ref)


def next_action(
    *,
    ref: str,
    status: str,
    system: str | None,
    expected_types: Sequence[str],
    stale: Sequence[tuple[str, float, int | None]] = (),
    unverified: Sequence[str] = (),
    soa_status: str | None = None,
    open_findings: Sequence[str] = (),
    unclassified: Sequence[str] = (),
    has_fresh_evidence: bool = False,
    roles_unknown: Sequence[str] = (),
) -> str:
    """One imperative sentence: what to run next, and why.

    ``stale`` lists ``(type, age_days, freshness_days)`` of expired evidence.
    """
    if unclassified:
        names = ", ".join(unclassified)
        return (
            f"classify {names} under the EU AI Act (`assay systems classify {unclassified[0]} …`) "
            "so the obligations that apply can be decided"
        )
    if roles_unknown:
        return (
            f"record the organisation's EU AI Act roles for {', '.join(roles_unknown)} "
            f"(`assay systems update {roles_unknown[0]} --org-role provider --org-role deployer`, "
            "as they are) so only the duties of those roles apply"
        )
    if open_findings:
        return (
            f"close nonconformity {', '.join(open_findings)} through a corrective action "
            "(`assay capa open --source finding --ref …`)"
        )
    if unverified:
        return f"{unverified[0]}; then rerun this report"
    if stale:
        evidence_type, age, window = stale[0]
        name = evidence_type.split("/")[1]
        return (
            f"run `{evidence_command(evidence_type, system, ref)}` "
            f"({name} evidence is {age:.0f} days old; fresh for {window} days)"
        )
    if soa_status in ("planned", "partial") and has_fresh_evidence:
        control = ref.split(":", 1)[1]
        return (
            f"finish implementing {control}, then record it: "
            f"`assay soa edit {control} --status implemented` and `assay soa approve`"
        )
    if has_fresh_evidence:
        preferred = expected_types[0] if expected_types else ""
        if preferred:
            return (
                f"produce direct evidence: `{evidence_command(preferred, system, ref)}` "
                "(only related requirements are evidenced now)"
            )
        attest = _ATTEST.format(system=system or "<system>", ref=ref)
        return f"produce direct evidence: `{attest}` (only related requirements are evidenced now)"
    if expected_types:
        return f"run `{evidence_command(expected_types[0], system, ref)}` (no evidence yet)"
    return (
        f"record evidence citing {ref}: `{_ATTEST.format(system=system or '<system>', ref=ref)}` "
        "(no automated evidence type supports it)"
    )
