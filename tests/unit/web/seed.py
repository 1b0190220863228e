"""Fill a workspace with one pass of the whole AIMS loop, through the capability APIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assay.aims import audit, capa, classification, impact, objectives, review, risk, soa
from assay.drift import ALERT_TYPE
from assay.ledger import Evidence, Subject
from assay.ledger.evidence import REDTEAM_RUN
from assay.workspace import Workspace

GUARD = "assay.dev/guard-decision/v1"


def seed_aims(ws: Workspace, system: str = "bot") -> None:
    """Risks, a classification, an impact assessment, an SoA draft, objectives, audit, CAPA."""
    store, ledger = ws.store, ws.ledger
    classification.classify_system(
        store, ledger, system, {"transparency": ["interacts-with-people"]}, actor="setup"
    )
    adopted = risk.adopt_templates(store, ledger, system=system, actor="setup")
    risk.treat_risk(
        store,
        ledger,
        adopted[0].id,
        treatment="mitigate",
        residual_likelihood=2,
        residual_impact=2,
        actor="setup",
    )
    impact.add_assessment(
        store,
        ledger,
        system=system,
        fields={
            "title": "Support bot FRIA",
            "fria": True,
            "answers": {q.id: f"Answer to {q.id}" for q in impact.QUESTIONS},
            "affected_individuals": ["customers"],
            "severity": "medium",
            "likelihood": "low",
        },
        actor="setup",
    )
    impact.add_assessment(
        store, ledger, system=system, fields={"title": "Incomplete"}, actor="setup"
    )
    soa.generate(store, ledger, actor="compliance@web")
    objectives.add_objective(
        store,
        ledger,
        {"title": "Block rate below 10%", "target_op": "<", "target": 10, "unit": "%"},
        actor="setup",
        system=system,
    )
    for value in (14.0, 12.0, 9.0):
        objectives.record_measurement(store, ledger, "OBJ-001", value, actor="setup")
    audit.plan_audit(
        store, ledger, {"title": "Risk process", "auditor": "internal-audit"}, actor="setup"
    )
    audit.add_finding(
        store, ledger, "AUD-001", grade="minor-nonconformity", description="Gap", actor="setup"
    )
    capa.open_capa(
        store, ledger, title="Fix the gap", source="finding", source_ref="F-001", actor="setup"
    )
    review.prepare(store, ledger, title="Q1 review", actor="setup")


def seed_activity(ws: Workspace, system: str = "bot") -> None:
    """Guard decisions over three days and one drift alert."""
    now = datetime.now(UTC)
    entries = []
    for i in range(60):
        action = "block" if i % 5 == 0 else "redact" if i % 7 == 0 else "allow"
        findings = [{"validator": "injection", "score": 0.9, "label": "injection"}]
        entries.append(
            Evidence(
                type=GUARD,
                actor="gateway:test",
                subject=Subject(system),
                summary={
                    "direction": "input",
                    "decision": action,
                    "guard_ms": 1.0 + i % 10,
                    "findings": findings if action != "allow" else [],
                },
                observed_at=now - timedelta(hours=i),
            )
        )
    for hours, level, psi in ((20, "warn", 0.14), (9, "warn", 0.17), (1, "alert", 0.31)):
        psi_figures = {"value": psi, "level": level, "warn": 0.1, "alert": 0.25, "critical": 0.5}
        signal = {"signal": "blocked", "kind": "numeric", "level": level}
        entries.append(
            Evidence(
                type=ALERT_TYPE,
                actor="drift-monitor",
                subject=Subject(system),
                summary={
                    "level": level,
                    "reference": f"{system}@v1",
                    "window": {"events": 2000},
                    "signals": [{**signal, "statistics": {"psi": psi_figures}}],
                },
                controls=("iso42001:A.6.2.6",),
                observed_at=now - timedelta(hours=hours),
            )
        )
    ws.ledger.append(entries)


def seed_runs(ws: Workspace, system: str = "bot") -> None:
    """Three recorded red-team runs a day apart; the last is a jailbreak regression."""
    now = datetime.now(UTC)
    figures = (
        {"jailbreak": (0.10, 0.04, 0.23), "prompt_injection": (0.30, 0.18, 0.45)},
        {"jailbreak": (0.12, 0.05, 0.25), "prompt_injection": (0.22, 0.12, 0.37)},
        {"jailbreak": (0.42, 0.28, 0.57), "prompt_injection": (0.20, 0.11, 0.34)},
    )
    ws.ledger.append(
        [
            Evidence(
                type=REDTEAM_RUN,
                actor="engineer@web",
                subject=Subject(system),
                summary={
                    "run_id": f"rt-seed-{i}",
                    "status": "complete",
                    "target": "staging-chatbot",
                    "attempts": 80,
                    "succeeded": round(40 * sum(asr for asr, _, _ in runs.values())),
                    "asr": sum(asr for asr, _, _ in runs.values()) / len(runs),
                    "families": {
                        name: {"asr": asr, "ci95": [low, high], "n": 40}
                        for name, (asr, low, high) in runs.items()
                    },
                },
                observed_at=now - timedelta(days=3 - i),
            )
            for i, runs in enumerate(figures)
        ]
    )
