"""Register workflows as forms: adopt and treat risks, accept them (four-eyes), classify a
system under the EU AI Act, start and answer an impact assessment or FRIA, plan and complete
an audit, draw the auditor's sample, record management-review decisions, and keep the AI
policies and the RACI roles (issue #22 item 1).

Every route calls the same service the CLI calls (``assay.aims``); nothing is decided
here. A refused change re-renders the form with the user's values and the service's
message beside the field it names (:mod:`assay.web.forms`); success redirects to the
register's page with a fixed notice. Permissions are the REST API's: AIMS writers for
the registers, audit writers for audits and samples; CSRF is checked by the
permission dependency on every POST.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assay.accounts import Principal
from assay.aims import (
    audit,
    classification,
    impact,
    objectives,
    policy,
    review,
    risk,
    roles,
)
from assay.aims.audit_sample import draw_sample
from assay.aims.inventory import get_system, list_systems
from assay.errors import AssayError
from assay.web.forms import Field, show
from assay.web.forms import Form as Page
from assay.web.rendering import AimsWriter, AuditWriter, Reader, Verifier, render, workspace

__all__ = ["next_form", "router"]

router = APIRouter(include_in_schema=False)

Text = Annotated[str, Form(max_length=5000)]
Short = Annotated[str, Form(max_length=200)]
Many = Annotated[list[str] | None, Form()]


def _systems(request: Request) -> tuple[tuple[str, str], ...]:
    return tuple((s.id, f"{s.id} — {s.name}") for s in list_systems(workspace(request).store))


def _options(table: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (key, value[1] if isinstance(value, tuple) else str(value)) for key, value in table.items()
    )


# -- risks ---------------------------------------------------------------------------------


def _adopt_form(request: Request) -> Page:
    return Page(
        "Adopt risk templates",
        "/risks/adopt",
        (
            Field("system", "AI system", "select", _systems(request), required=True),
            Field("templates", "Templates (none ticked: all not yet adopted)", "multi",
                  tuple((t.id, f"{t.title} ({t.category})") for t in risk.TEMPLATES)),
        ),
        "Adopt",
        "Common LLM risks to start the register from; adopted ones are skipped.",
        ("/risks", "Risks"),
    )


@router.get("/risks/adopt")
def risks_adopt_page(request: Request, principal: AimsWriter) -> HTMLResponse:
    return show(request, principal, _adopt_form(request))


@router.post("/risks/adopt")
def risks_adopt(
    request: Request, principal: AimsWriter, system: Short = "", templates: Many = None
) -> Response:
    ws = workspace(request)
    try:
        risk.adopt_templates(ws.store, ws.ledger, system=system, template_ids=templates or (),
                             actor=principal.actor)
    except AssayError as exc:
        values = {"system": system, "templates": templates or []}
        return show(request, principal, _adopt_form(request), values, str(exc))
    return RedirectResponse(f"/risks?system={system}&notice=adopted", status_code=303)


def _treat_form(risk_id: str) -> Page:
    levels = tuple((str(n), str(n)) for n in range(1, 6))
    return Page(
        f"Treat risk {risk_id}",
        f"/risks/{risk_id}/treat",
        (
            Field("treatment", "Treatment", "select", tuple((t, t) for t in risk.TREATMENTS),
                  required=True),
            Field("controls", "Controls (space-separated, e.g. iso42001:A.6.2.4)",
                  help="Kept from the template when left empty."),
            Field("residual_likelihood", "Residual likelihood", "select", levels),
            Field("residual_impact", "Residual impact", "select", levels),
            Field("plan", "Treatment plan", "textarea"),
            Field("owner", "Owner"),
            Field("due", "Due", "date"),
        ),
        "Record treatment",
        back=("/risks", "Risks"),
    )


@router.get("/risks/{risk_id}/treat")
def risk_treat_page(request: Request, risk_id: str, principal: AimsWriter) -> HTMLResponse:
    current = risk.get_risk(workspace(request).store, risk_id).data
    values = {
        "treatment": current.treatment or "mitigate",
        "controls": " ".join(current.controls),
        "residual_likelihood": str(current.residual_likelihood or ""),
        "residual_impact": str(current.residual_impact or ""),
        "plan": current.treatment_plan or "",
        "owner": current.owner or "",
    }
    return show(request, principal, _treat_form(risk_id), values, current=current)


@router.post("/risks/{risk_id}/treat")
def risk_treat(
    request: Request,
    risk_id: str,
    principal: AimsWriter,
    treatment: Short = "",
    controls: Text = "",
    residual_likelihood: Short = "",
    residual_impact: Short = "",
    plan: Text = "",
    owner: Short = "",
    due: Short = "",
) -> Response:
    ws = workspace(request)
    values = {"treatment": treatment, "controls": controls, "residual_likelihood":
              residual_likelihood, "residual_impact": residual_impact, "plan": plan,
              "owner": owner, "due": due}
    try:
        risk.treat_risk(
            ws.store, ws.ledger, risk_id, treatment=treatment, controls=controls.split(),
            residual_likelihood=_level(residual_likelihood, "residual_likelihood"),
            residual_impact=_level(residual_impact, "residual_impact"),
            plan=plan, owner=owner or None, due=_date(due, "due"), actor=principal.actor,
        )
    except AssayError as exc:
        return show(request, principal, _treat_form(risk_id), values, str(exc))
    return RedirectResponse("/risks?notice=treated", status_code=303)


def _accept_form(risk_id: str) -> Page:
    return Page(
        f"Accept the residual risk of {risk_id}",
        f"/risks/{risk_id}/accept",
        (Field("note", "Why the residual risk is acceptable", "textarea", required=True),),
        "Accept residual risk",
        "A named approver other than the person who treated it (four-eyes, where the "
        "register requires it); recorded as risk-assessment evidence.",
        ("/risks", "Risks"),
    )


@router.get("/risks/{risk_id}/accept")
def risk_accept_page(request: Request, risk_id: str, principal: AimsWriter) -> HTMLResponse:
    risk.get_risk(workspace(request).store, risk_id)  # 404 for an unknown risk
    return show(request, principal, _accept_form(risk_id))


@router.post("/risks/{risk_id}/accept")
def risk_accept(
    request: Request, risk_id: str, principal: AimsWriter, note: Text = ""
) -> Response:
    ws = workspace(request)
    try:
        _accept_form(risk_id).check_required({"note": note})
        risk.accept_risk(ws.store, ws.ledger, risk_id, actor=principal.actor, note=note)
    except AssayError as exc:
        return show(request, principal, _accept_form(risk_id), {"note": note}, str(exc))
    return RedirectResponse("/risks?notice=accepted", status_code=303)


# -- AI systems: edit the inventory record (4.3, A.4, A.7.5, A.9.4) ---------------------------

_LISTED = ("suppliers", "customers", "surfaces")


def _system_form(system_id: str) -> Page:
    from assay.aims.inventory import LIFECYCLE_STAGES, ORG_ROLES

    return Page(
        f"Edit {system_id}",
        f"/systems/{system_id}/edit",
        (
            Field("name", "Name", required=True),
            Field("owner", "Owner", required=True),
            Field("purpose", "Purpose", "textarea"),
            Field("lifecycle_stage", "Life cycle stage", "select",
                  tuple((stage, stage) for stage in LIFECYCLE_STAGES)),
            Field("version", "Version in service",
                  help="Tests recorded against another version do not prove this one."),
            Field("org_roles", "Your organisation's EU AI Act roles for it", "multi",
                  tuple((role, role) for role in ORG_ROLES)),
            Field("intended_use", "Intended use", "textarea"),
            Field("foreseeable_misuse", "Reasonably foreseeable misuse", "textarea"),
            Field("suppliers", "Suppliers (one per line)", "textarea"),
            Field("customers", "Customers (one per line)", "textarea"),
            Field("surfaces", "Deployment surfaces (one per line)", "textarea"),
        ),
        "Save",
        "Models and datasets with their provenance are edited with the CLI's systems update.",
        (f"/systems/{system_id}", system_id),
    )


@router.get("/systems/{system_id}/edit")
def system_edit_page(request: Request, system_id: str, principal: AimsWriter) -> HTMLResponse:
    record = get_system(workspace(request).store, system_id)
    profile = record.profile
    values: dict[str, object] = {
        "name": record.name, "owner": record.owner, "purpose": record.purpose,
        "lifecycle_stage": record.lifecycle_stage, "version": profile.version,
        "org_roles": list(profile.org_roles), "intended_use": profile.intended_use,
        "foreseeable_misuse": profile.foreseeable_misuse,
        **{name: "\n".join(getattr(profile, name)) for name in _LISTED},
    }
    return show(request, principal, _system_form(system_id), values)


@router.post("/systems/{system_id}/edit")
def system_edit(
    request: Request,
    system_id: str,
    principal: AimsWriter,
    name: Short = "",
    owner: Short = "",
    purpose: Text = "",
    lifecycle_stage: Short = "",
    version: Short = "",
    org_roles: Many = None,
    intended_use: Text = "",
    foreseeable_misuse: Text = "",
    suppliers: Text = "",
    customers: Text = "",
    surfaces: Text = "",
) -> Response:
    from assay.aims.inventory import update_system

    listed = {"suppliers": suppliers, "customers": customers, "surfaces": surfaces}
    changes: dict[str, Any] = {
        "name": name, "owner": owner, "purpose": purpose, "lifecycle_stage": lifecycle_stage,
        "version": version, "org_roles": org_roles or [], "intended_use": intended_use,
        "foreseeable_misuse": foreseeable_misuse,
        **{k: _lines(v) for k, v in listed.items()},
    }
    ws = workspace(request)
    try:
        update_system(ws.store, ws.ledger, system_id, changes, actor=principal.actor)
    except AssayError as exc:
        values = {**changes, **listed, "org_roles": org_roles or []}
        return show(request, principal, _system_form(system_id), values, str(exc))
    return RedirectResponse(f"/systems/{system_id}?notice=system-updated", status_code=303)


# -- EU AI Act classification --------------------------------------------------------------


def _classify_form(system_id: str) -> Page:
    return Page(
        f"Classify {system_id} under the EU AI Act",
        f"/systems/{system_id}/classify",
        (
            Field("outside_scope", "Outside the Regulation (Art. 2)?", "select",
                  (("", "no"), *_options(classification.OUTSIDE_SCOPE))),
            Field("prohibited", "Prohibited practices (Art. 5)", "multi",
                  _options(classification.PROHIBITED_PRACTICES)),
            Field("annex_i_safety_component",
                  "A safety component of a product under Annex I law (Art. 6(1))", "checkbox"),
            Field("annex_iii", "Annex III uses (Art. 6(2))", "multi",
                  _options(classification.ANNEX_III_POINTS)),
            Field("carve_outs", "Annex III carve-outs that apply", "multi",
                  _options(classification.CARVE_OUTS)),
            Field("exceptions", "Art. 6(3) derogation claimed", "multi",
                  _options(classification.ART6_3_EXCEPTIONS)),
            Field("profiling", "The system profiles natural persons", "checkbox"),
            Field("transparency", "Art. 50 cases", "multi",
                  _options(classification.TRANSPARENCY_CASES)),
            Field("public_body", "Deployed by a public body or for public services", "checkbox"),
            Field("workplace", "Used at the workplace by an employer", "checkbox"),
        ),
        "Classify",
        "The answers decide the class step by step (Art. 2, 5, 6, 50); the class, the "
        "answers and the reasoning are recorded as evidence.",
        (f"/systems/{system_id}", system_id),
    )


@router.get("/systems/{system_id}/classify")
def classify_page(request: Request, system_id: str, principal: AimsWriter) -> HTMLResponse:
    get_system(workspace(request).store, system_id)  # 404 for an unknown system
    return show(request, principal, _classify_form(system_id))


@router.post("/systems/{system_id}/classify")
def classify(
    request: Request,
    system_id: str,
    principal: AimsWriter,
    outside_scope: Short = "",
    prohibited: Many = None,
    annex_i_safety_component: Short = "",
    annex_iii: Many = None,
    carve_outs: Many = None,
    exceptions: Many = None,
    profiling: Short = "",
    transparency: Many = None,
    public_body: Short = "",
    workplace: Short = "",
) -> Response:
    answers: dict[str, Any] = {
        "outside_scope": outside_scope or None,
        "prohibited": prohibited or [],
        "annex_i_safety_component": annex_i_safety_component == "yes",
        "annex_iii": annex_iii or [],
        "carve_outs": carve_outs or [],
        "exceptions": exceptions or [],
        "profiling": profiling == "yes",
        "transparency": transparency or [],
        "public_body": public_body == "yes",
        "workplace": workplace == "yes",
    }
    ws = workspace(request)
    form = _classify_form(system_id)
    try:
        _, result = classification.classify_system(
            ws.store, ws.ledger, system_id, answers, actor=principal.actor
        )
    except AssayError as exc:
        return show(request, principal, form, answers, str(exc))
    return show(request, principal, form, answers, result=result)


# -- audits --------------------------------------------------------------------------------


def _plan_form(request: Request) -> Page:
    return Page(
        "Plan an internal audit",
        "/audits/plan",
        (
            Field("title", "Title", required=True),
            Field("auditor", "Auditor", required=True,
                  help="Someone who neither owns nor holds a RACI role for the systems in scope."),
            Field("systems", "Systems in scope", "multi", _systems(request)),
            Field("criteria", "Criteria (space-separated, e.g. iso42001:8.2 iso42001:A.6.2.4)"),
            Field("scope", "Scope", "textarea"),
            Field("planned", "Planned for", "date"),
            Field("independence_statement", "Independence statement", "textarea",
                  help="Needed only when the auditor is not independent: the safeguard."),
        ),
        "Plan audit",
        back=("/audits", "Audits"),
    )


@router.get("/audits/plan")
def audit_plan_page(request: Request, principal: AuditWriter) -> HTMLResponse:
    return show(request, principal, _plan_form(request))


@router.post("/audits/plan")
def audit_plan(
    request: Request,
    principal: AuditWriter,
    title: Short = "",
    auditor: Short = "",
    systems: Many = None,
    criteria: Text = "",
    scope: Text = "",
    planned: Short = "",
    independence_statement: Text = "",
) -> Response:
    ws = workspace(request)
    values = {"title": title, "auditor": auditor, "systems": systems or [], "criteria": criteria,
              "scope": scope, "planned": planned, "independence_statement": independence_statement}
    fields: dict[str, Any] = {
        "title": title, "auditor": auditor, "systems": systems or [], "criteria": criteria.split(),
        "scope": scope,
    }
    try:
        when = _date(planned, "planned")
        if when is not None:
            fields["planned"] = when.isoformat()
        made = audit.plan_audit(ws.store, ws.ledger, fields, actor=principal.actor,
                                independence_statement=independence_statement)
    except AssayError as exc:
        return show(request, principal, _plan_form(request), values, _independence(exc))
    return RedirectResponse(f"/audits/{made.id}?notice=planned", status_code=303)


def _complete_form(audit_id: str) -> Page:
    return Page(
        f"Complete audit {audit_id}",
        f"/audits/{audit_id}/complete",
        (Field("conclusion", "Conclusion", "textarea", required=True),),
        "Complete audit",
        "Records internal-audit evidence with the findings counted by grade.",
        (f"/audits/{audit_id}", audit_id),
    )


@router.get("/audits/{audit_id}/complete")
def audit_complete_page(request: Request, audit_id: str, principal: AuditWriter) -> HTMLResponse:
    return show(request, principal, _complete_form(audit_id))


@router.post("/audits/{audit_id}/complete")
def audit_complete(
    request: Request, audit_id: str, principal: AuditWriter, conclusion: Text = ""
) -> Response:
    ws = workspace(request)
    try:
        _complete_form(audit_id).check_required({"conclusion": conclusion})
        audit.complete_audit(ws.store, ws.ledger, audit_id, conclusion=conclusion,
                             actor=principal.actor)
    except AssayError as exc:
        return show(request, principal, _complete_form(audit_id), {"conclusion": conclusion},
                     str(exc))
    return RedirectResponse(f"/audits/{audit_id}?notice=completed", status_code=303)


def _sample_form(request: Request) -> Page:
    from assay.catalogs import frameworks

    return Page(
        "Draw an audit sample",
        "/audits/sample",
        (
            Field("framework", "Framework", "select",
                  tuple((f.id, f.name) for f in frameworks().values()), required=True),
            Field("system", "AI system", "select", (("", "the whole organisation"),
                                                    *_systems(request))),
            Field("seed", "Seed", help="Leave empty for a random seed; it is recorded either way."),
            Field("requirements", "Requirements to draw", "number"),
            Field("entries", "Evidence entries to draw", "number"),
        ),
        "Draw sample",
        "Members are ranked by SHA-256(seed:member) and the lowest drawn, so anyone can "
        "recompute the sample from the seed; every draw is recorded in the ledger.",
        ("/audits", "Audits"),
    )


@router.get("/audits/sample")
def audit_sample_page(request: Request, principal: AuditWriter) -> HTMLResponse:
    return show(request, principal, _sample_form(request),
                 {"framework": "iso42001", "requirements": "10", "entries": "10"})


@router.post("/audits/sample")
def audit_sample(
    request: Request,
    principal: AuditWriter,
    framework: Short = "",
    system: Short = "",
    seed: Short = "",
    requirements: Short = "10",
    entries: Short = "10",
) -> Response:
    ws = workspace(request)
    values = {"framework": framework, "system": system, "seed": seed,
              "requirements": requirements, "entries": entries}
    form = _sample_form(request)
    try:
        drawn = draw_sample(
            ws.store, ws.ledger, framework, actor=principal.actor, system=system or None,
            seed=seed or None, requirements=_count(requirements, "requirements"),
            entries=_count(entries, "entries"),
        )
    except AssayError as exc:
        return show(request, principal, form, values, str(exc))
    open_audits = [a for a in audit.list_audits(ws.store) if a.status != "completed"]
    return show(request, principal, form, {**values, "seed": drawn.seed}, sample=drawn,
                 open_audits=open_audits)


def _capa_form(audit_id: str, finding_id: str) -> Page:
    return Page(
        f"Open a corrective action for finding {finding_id}",
        f"/audits/{audit_id}/findings/{finding_id}/capa",
        (
            Field("title", "Title", required=True),
            Field("description", "What went wrong", "textarea"),
        ),
        "Open corrective action",
        "ISO/IEC 42001 10.2: contain, find the root cause, act, check the action worked, "
        "close; each step is recorded on the corrective action's page.",
        (f"/audits/{audit_id}", audit_id),
    )


@router.get("/audits/{audit_id}/findings/{finding_id}/capa")
def capa_open_page(
    request: Request, audit_id: str, finding_id: str, principal: AimsWriter
) -> HTMLResponse:
    return show(request, principal, _capa_form(audit_id, finding_id))


@router.post("/audits/{audit_id}/findings/{finding_id}/capa")
def capa_open(
    request: Request, audit_id: str, finding_id: str, principal: AimsWriter,
    title: Short = "", description: Text = "",
) -> Response:
    from assay.aims import capa

    ws = workspace(request)
    try:
        _capa_form(audit_id, finding_id).check_required({"title": title})
        if finding_id not in {f.id for f in audit.findings_for(ws.store, audit_id)}:
            raise AssayError(f"audit {audit_id} has no finding {finding_id}")
        made = capa.open_capa(ws.store, ws.ledger, title=title, source="finding",
                              source_ref=finding_id, description=description,
                              actor=principal.actor)
    except AssayError as exc:
        values = {"title": title, "description": description}
        return show(request, principal, _capa_form(audit_id, finding_id), values, str(exc))
    return RedirectResponse(f"/capa/{made.id}?notice=capa-opened", status_code=303)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/audits/sample/{seq}/worksheet.xlsx")
def audit_sample_worksheet(request: Request, seq: int, principal: Verifier) -> Response:
    """The drawn requirements and entries with their inclusion proofs, as a worksheet."""
    from assay.reports import audit_sample_workbook

    ws = workspace(request)
    data = audit_sample_workbook(ws.store, ws.ledger, seq)
    return Response(data, media_type=XLSX, headers={
        "content-disposition": f'attachment; filename="audit-sample-{seq}.xlsx"'})


# -- management review ---------------------------------------------------------------------


def _decide_form(review_id: str) -> Page:
    return Page(
        f"Record a decision of review {review_id}",
        f"/reviews/{review_id}/decide",
        (
            Field("text", "Decision", "textarea", required=True),
            Field("kind", "Kind", "select",
                  (("note", "note"), ("capa", "capa: open a corrective action"))),
            Field("owner", "Owner"),
            Field("due", "Due", "date"),
        ),
        "Record decision",
        "A decision of kind capa opens a corrective action (ISO/IEC 42001 9.3.3); objectives "
        "are set on the objectives page.",
        (f"/reviews/{review_id}", review_id),
    )


@router.get("/reviews/{review_id}/decide")
def review_decide_page(request: Request, review_id: str, principal: AimsWriter) -> HTMLResponse:
    review.get_review(workspace(request).store, review_id)  # 404 for an unknown review
    return show(request, principal, _decide_form(review_id), {"kind": "note"})


@router.post("/reviews/{review_id}/decide")
def review_decide(
    request: Request,
    review_id: str,
    principal: AimsWriter,
    text: Text = "",
    kind: Short = "note",
    owner: Short = "",
    due: Short = "",
) -> Response:
    ws = workspace(request)
    values = {"text": text, "kind": kind, "owner": owner, "due": due}
    try:
        if kind not in ("note", "capa"):
            raise AssayError("field 'kind' must be note or capa")
        _decide_form(review_id).check_required(values)
        review.decide(ws.store, ws.ledger, review_id, text=text, kind=kind, owner=owner,
                      due=_date(due, "due"), actor=principal.actor)
    except AssayError as exc:
        return show(request, principal, _decide_form(review_id), values, str(exc))
    return RedirectResponse(f"/reviews/{review_id}?notice=decided", status_code=303)


def _hold_form(review_id: str) -> Page:
    return Page(
        f"Record that review {review_id} was held",
        f"/reviews/{review_id}/hold",
        (
            Field("chair", "Chair", required=True),
            Field("attendees", "Attendees (comma-separated)", required=True),
            Field("minutes", "Minutes", "textarea"),
        ),
        "Record the meeting",
        "Top management reviewed the AI management system (ISO/IEC 42001 9.3): recorded as "
        "management-review evidence; its decisions become final.",
        (f"/reviews/{review_id}", review_id),
    )


@router.get("/reviews/{review_id}/hold")
def review_hold_page(request: Request, review_id: str, principal: AimsWriter) -> HTMLResponse:
    review.get_review(workspace(request).store, review_id)  # 404 for an unknown review
    return show(request, principal, _hold_form(review_id))


@router.post("/reviews/{review_id}/hold")
def review_hold(
    request: Request, review_id: str, principal: AimsWriter, chair: Short = "",
    attendees: Text = "", minutes: Text = "",
) -> Response:
    ws = workspace(request)
    values = {"chair": chair, "attendees": attendees, "minutes": minutes}
    try:
        _hold_form(review_id).check_required({**values, "attendees": _names(attendees)})
        review.hold(ws.store, ws.ledger, review_id, chair=chair.strip(),
                    attendees=tuple(_names(attendees)), minutes=minutes, actor=principal.actor)
    except AssayError as exc:
        return show(request, principal, _hold_form(review_id), values, str(exc))
    return RedirectResponse(f"/reviews/{review_id}?notice=held", status_code=303)


# -- value parsing -------------------------------------------------------------------------


def _names(text: str) -> list[str]:
    """A comma-separated list of names, blanks dropped."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _lines(text: str) -> list[str]:
    """A one-per-line list, blanks dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _level(value: str, name: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 5:
        raise AssayError(f"field '{name}' must be a level from 1 to 5")
    return int(value)


def _count(value: str, name: str) -> int:
    if not value.strip().isdigit():
        raise AssayError(f"field '{name}' must be a whole number from 0 to 500")
    return int(value)


def _date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AssayError(f"field '{name}' must be a date (YYYY-MM-DD)") from None


def _independence(exc: AssayError) -> str:
    """The service names the CLI flag; the form's field has another name."""
    return str(exc).replace("--independence-statement", "an independence statement")


# -- impact assessments (ISO/IEC 42001 6.1.4, 8.4; EU AI Act Art. 27 FRIA) ------------------


def _impact_new_form(request: Request) -> Page:
    return Page(
        "Start an impact assessment",
        "/impact/new",
        (
            Field("system", "AI system", "select", _systems(request), required=True),
            Field("title", "Title", required=True),
            Field("fria", "A fundamental rights impact assessment (EU AI Act Art. 27)",
                  "checkbox"),
        ),
        "Start assessment",
        back=("/impact", "Impact"),
    )


@router.get("/impact/new")
def impact_new_page(request: Request, principal: AimsWriter) -> HTMLResponse:
    return show(request, principal, _impact_new_form(request))


@router.post("/impact/new")
def impact_new(
    request: Request, principal: AimsWriter, system: Short = "", title: Short = "",
    fria: Short = "",
) -> Response:
    ws = workspace(request)
    values = {"system": system, "title": title, "fria": fria}
    try:
        get_system(ws.store, system)
        made = impact.add_assessment(ws.store, ws.ledger, system=system,
                                     fields={"title": title, "fria": fria == "yes"},
                                     actor=principal.actor)
    except AssayError as exc:
        return show(request, principal, _impact_new_form(request), values, str(exc))
    return RedirectResponse(f"/impact/{made.id}/answers", status_code=303)


_LISTS = ("affected_individuals", "affected_groups", "societal_impacts", "mitigations")


def _impact_answers_form(assessment_id: str) -> Page:
    levels = (("", "not rated"), *((level, level) for level in impact.LEVELS))
    questions = tuple(
        Field(f"q_{q.id}", q.text + ("" if q.required else " (optional)"), "textarea")
        for q in impact.QUESTIONS
    )
    return Page(
        f"Answer impact assessment {assessment_id}",
        f"/impact/{assessment_id}/answers",
        (
            *questions,
            Field("affected_individuals", "Affected individuals (one per line)", "textarea"),
            Field("affected_groups", "Affected groups (one per line)", "textarea"),
            Field("societal_impacts", "Societal impacts (one per line)", "textarea"),
            Field("severity", "Severity", "select", levels),
            Field("likelihood", "Likelihood", "select", levels),
            Field("mitigations", "Mitigations (one per line)", "textarea"),
        ),
        "Save answers",
        "Saving returns a signed-off assessment to draft; sign off on the assessment's page "
        "once every required question is answered.",
        (f"/impact/{assessment_id}", assessment_id),
    )


@router.get("/impact/{assessment_id}/answers")
def impact_answers_page(
    request: Request, assessment_id: str, principal: AimsWriter
) -> HTMLResponse:
    data = impact.get_assessment(workspace(request).store, assessment_id).data
    values: dict[str, object] = {f"q_{k}": v for k, v in data.answers.items()}
    values.update({name: "\n".join(getattr(data, name)) for name in _LISTS})
    values.update({"severity": data.severity or "", "likelihood": data.likelihood or ""})
    return show(request, principal, _impact_answers_form(assessment_id), values)


@router.post("/impact/{assessment_id}/answers")
async def impact_answers(
    request: Request, assessment_id: str, principal: AimsWriter
) -> Response:
    submitted = await request.form()
    values = {key: str(value)[:5000] for key, value in submitted.items() if key != "csrf_token"}
    answers = {
        q.id: values[f"q_{q.id}"].strip()
        for q in impact.QUESTIONS
        if values.get(f"q_{q.id}", "").strip()
    }
    changes: dict[str, Any] = {
        "answers": answers,
        **{name: _lines(values.get(name, "")) for name in _LISTS},
        "severity": values.get("severity") or None,
        "likelihood": values.get("likelihood") or None,
    }
    ws = workspace(request)
    try:
        await run_in_threadpool(impact.update_assessment, ws.store, ws.ledger, assessment_id,
                                changes, actor=principal.actor)
    except AssayError as exc:
        return show(request, principal, _impact_answers_form(assessment_id), values, str(exc))
    return RedirectResponse(f"/impact/{assessment_id}?notice=answered", status_code=303)


# -- AI policies (5.2, A.2) and roles (5.3, A.3.2) --------------------------------------------


def _list(
    request: Request, principal: Principal, title: str, columns: tuple[str, ...],
    rows: list[dict[str, Any]], add: tuple[str, str], empty: str, error: str | None = None,
    intro: str = "",
) -> HTMLResponse:
    return render(
        request, "register_list.html", principal, 400 if error else 200, title=title,
        columns=columns, rows=rows, add=add, empty=empty, error=error, intro=intro,
        actions=any(row["actions"] for row in rows),
    )


def _policies_page(
    request: Request, principal: Principal, error: str | None = None
) -> HTMLResponse:
    rows = [
        {
            "cells": (p.id, p.data.title, p.data.revision, p.status, p.data.owner or "—",
                      p.data.approved_by or "—", p.data.review_due or "—"),
            "actions": [] if p.status == "approved" else [("Approve", f"/policies/{p.id}/approve")],
        }
        for p in policy.list_policies(workspace(request).store)
    ]
    return _list(request, principal, "AI policies",
                 ("ID", "Title", "Revision", "Status", "Owner", "Approved by", "Review due"),
                 rows, ("/policies/new", "Add a policy"),
                 "No AI policy yet: add one (ISO/IEC 42001 5.2 asks for it).", error,
                 "Approving needs another person than the last editor while four-eyes is on.")


@router.get("/policies")
def policies_page(request: Request, principal: Reader) -> HTMLResponse:
    return _policies_page(request, principal)


def _policy_form() -> Page:
    return Page(
        "Add an AI policy",
        "/policies/new",
        (
            Field("title", "Title", required=True),
            Field("body", "Text (or a summary)", "textarea"),
            Field("document", "Authoritative document (URL or reference)"),
            Field("owner", "Owner"),
            Field("review_due", "Review due", "date"),
            Field("aligned_with", "Aligned with (space-separated requirement references)"),
        ),
        "Add policy",
        back=("/policies", "AI policies"),
    )


@router.get("/policies/new")
def policy_new_page(request: Request, principal: AimsWriter) -> HTMLResponse:
    return show(request, principal, _policy_form())


@router.post("/policies/new")
def policy_new(
    request: Request, principal: AimsWriter, title: Short = "", body: Text = "",
    document: Short = "", owner: Short = "", review_due: Short = "", aligned_with: Text = "",
) -> Response:
    ws = workspace(request)
    values = {"title": title, "body": body, "document": document, "owner": owner,
              "review_due": review_due, "aligned_with": aligned_with}
    try:
        due = _date(review_due, "review_due")
        policy.add_policy(
            ws.store, ws.ledger,
            {"title": title, "body": body, "document": document, "owner": owner,
             "review_due": due, "aligned_with": aligned_with.split()},
            actor=principal.actor,
        )
    except AssayError as exc:
        return show(request, principal, _policy_form(), values, str(exc))
    return RedirectResponse("/policies?notice=policy-added", status_code=303)


@router.post("/policies/{policy_id}/approve")
def policy_approve(request: Request, policy_id: str, principal: AimsWriter) -> Response:
    ws = workspace(request)
    try:
        policy.approve_policy(ws.store, ws.ledger, policy_id, actor=principal.actor)
    except AssayError as exc:
        return _policies_page(request, principal, str(exc))
    return RedirectResponse("/policies?notice=policy-approved", status_code=303)


@router.get("/roles")
def roles_page(request: Request, principal: Reader) -> HTMLResponse:
    rows = [
        {
            "cells": (r.id, r.system or "AIMS-wide", r.data.activity, r.data.control or "—",
                      ", ".join(r.data.responsible), r.data.accountable,
                      ", ".join(r.data.consulted) or "—", ", ".join(r.data.informed) or "—"),
            "actions": [],
        }
        for r in roles.list_roles(workspace(request).store)
    ]
    return _list(request, principal, "Roles and responsibilities (RACI)",
                 ("ID", "System", "Activity", "Control", "Responsible", "Accountable",
                  "Consulted", "Informed"),
                 rows, ("/roles/new", "Add a RACI line"),
                 "No roles recorded yet (ISO/IEC 42001 5.3 and A.3.2 ask for them).")


def _role_form(request: Request) -> Page:
    return Page(
        "Add a RACI line",
        "/roles/new",
        (
            Field("activity", "Activity", required=True),
            Field("system", "AI system", "select", (("", "AIMS-wide"), *_systems(request))),
            Field("control", "Control (e.g. iso42001:A.6.2.4)"),
            Field("responsible", "Responsible (comma-separated)", required=True),
            Field("accountable", "Accountable", required=True),
            Field("consulted", "Consulted (comma-separated)"),
            Field("informed", "Informed (comma-separated)"),
        ),
        "Add RACI line",
        back=("/roles", "Roles"),
    )


@router.get("/roles/new")
def role_new_page(request: Request, principal: AimsWriter) -> HTMLResponse:
    return show(request, principal, _role_form(request))


@router.post("/roles/new")
def role_new(
    request: Request, principal: AimsWriter, activity: Short = "", system: Short = "",
    control: Short = "", responsible: Short = "", accountable: Short = "",
    consulted: Short = "", informed: Short = "",
) -> Response:
    ws = workspace(request)
    values = {"activity": activity, "system": system, "control": control,
              "responsible": responsible, "accountable": accountable, "consulted": consulted,
              "informed": informed}

    try:
        if system:
            get_system(ws.store, system)
        roles.add_role(
            ws.store, ws.ledger,
            {"activity": activity, "control": control or None,
             "responsible": _names(responsible), "accountable": accountable,
             "consulted": _names(consulted), "informed": _names(informed)},
            actor=principal.actor, system=system or None,
        )
    except AssayError as exc:
        return show(request, principal, _role_form(request), values, str(exc))
    return RedirectResponse("/roles?notice=role-added", status_code=303)


# -- objectives (6.2, A.6.1.2, A.9.3) ------------------------------------------------------


def _objective_form(request: Request) -> Page:
    from assay.ledger.evidence import EVIDENCE_TYPES
    from assay.redteam import FAMILIES

    return Page(
        "Set an objective",
        "/objectives/new",
        (
            Field("title", "Title", required=True),
            Field("system", "AI system", "select", (("", "AIMS-wide"), *_systems(request))),
            Field("target_op", "Target", "select", tuple((o, o) for o in ("<", "<=", ">", ">="))),
            Field("target", "Target value", "number", required=True),
            Field("unit", "Unit (e.g. %)"),
            Field("evidence_type", "Measured from evidence of type", "select",
                  (("", "manual measurements"), *((t, t) for t in sorted(EVIDENCE_TYPES)))),
            Field("families", "Red-team families (pooled attack success rate)", "multi",
                  tuple((f, fam.title) for f, fam in FAMILIES.items())),
            Field("numerator", "Or a summary field (e.g. groups.jailbreak.succeeded)"),
            Field("denominator", "Divided by the summary field"),
            Field("scale", "Scale (100 for a percentage)", "number"),
            Field("owner", "Owner"),
            Field("due", "Due", "date"),
        ),
        "Set objective",
        "An objective measured from evidence picks up new entries of its type by itself.",
        ("/objectives", "Objectives"),
    )


@router.get("/objectives/new")
def objective_new_page(request: Request, principal: AimsWriter) -> HTMLResponse:
    return show(request, principal, _objective_form(request), {"scale": "1", "target_op": "<"})


@router.post("/objectives/new")
def objective_new(
    request: Request,
    principal: AimsWriter,
    title: Short = "",
    system: Short = "",
    target_op: Short = "<",
    target: Short = "",
    unit: Short = "",
    evidence_type: Short = "",
    families: Many = None,
    numerator: Short = "",
    denominator: Short = "",
    scale: Short = "1",
    owner: Short = "",
    due: Short = "",
) -> Response:
    ws = workspace(request)
    values = {"title": title, "system": system, "target_op": target_op, "target": target,
              "unit": unit, "evidence_type": evidence_type, "families": families or [],
              "numerator": numerator, "denominator": denominator, "scale": scale,
              "owner": owner, "due": due}
    metric: dict[str, Any] = {"source": "evidence" if evidence_type else "manual"}
    if evidence_type:
        metric.update(evidence_type=evidence_type, numerator=numerator or None,
                      denominator=denominator or None, families=families or [])
    try:
        metric["scale"] = _number(scale or "1", "scale")
        fields = {"title": title, "metric": metric, "target_op": target_op,
                  "target": _number(target, "target"), "unit": unit, "owner": owner}
        when = _date(due, "due")
        if when is not None:
            fields["due"] = when.isoformat()
        if system:
            get_system(ws.store, system)
        objectives.add_objective(ws.store, ws.ledger, fields, actor=principal.actor,
                                 system=system or None)
    except AssayError as exc:
        return show(request, principal, _objective_form(request), values, str(exc))
    return RedirectResponse("/objectives?notice=objective-set", status_code=303)


def _number(value: str, name: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise AssayError(f"field '{name}' must be a number") from None


# -- a gap's next action as the form that closes it --------------------------------------------

_NEXT_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"assay systems classify ([a-z0-9][a-z0-9-]{0,63})"), "/systems/{0}/classify"),
    (re.compile(r"assay risks (?:adopt|treat|accept)"), "/risks"),
    (re.compile(r"assay impact new"), "/impact/new"),
    (re.compile(r"assay soa (?:generate|edit|approve)"), "/soa"),
    (re.compile(r"assay audits (?:plan|complete)"), "/audits/plan"),
    (re.compile(r"assay review (?:prepare|hold|decide)"), "/reviews"),
    (re.compile(r"assay objectives add"), "/objectives/new"),
    (re.compile(r"assay policies (?:add|approve)"), "/policies"),
    (re.compile(r"assay roles add"), "/roles/new"),
)


def next_form(next_action: str | None) -> str | None:
    """The dashboard page whose form does what a gap's next action says (a CLI command)."""
    for pattern, target in _NEXT_FORMS:
        found = pattern.search(next_action or "")
        if found:
            return target.format(*found.groups())
    return None
