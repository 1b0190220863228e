"""Classify an AI system under the EU AI Act in the browser: the questionnaire of
``assay systems classify`` as a form, over the same service
(:func:`assay.aims.classification.classify_system`), which records the class, the
answers and the rationale as evidence. Needs the role that edits the AIMS.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assay.aims import classification, get_system
from assay.aims.readiness import ItemStatus
from assay.errors import AssayError
from assay.web.auth import Principal
from assay.web.rendering import AimsWriter, render, workspace

__all__ = ["FLAGS", "QUESTIONS", "classify_link", "router"]

router = APIRouter(include_in_schema=False)

#: The questionnaire's multiple-choice questions: field, legend, choices (key: label).
QUESTIONS: tuple[tuple[str, str, dict[str, str]], ...] = (
    (
        "prohibited",
        "Art. 5: does it carry out a prohibited practice?",
        {k: f"{d} ({ref})" for k, (ref, d) in classification.PROHIBITED_PRACTICES.items()},
    ),
    (
        "annex_iii",
        "Annex III: is it used in one of these high-risk areas or for one of these purposes?",
        {
            **classification.ANNEX_III_AREAS,
            **{k: f"{p}: {d}" for k, (p, d) in classification.ANNEX_III_POINTS.items()},
        },
    ),
    (
        "carve_outs",
        "Annex III exclusions: is it only one of these?",
        {k: f"{d} (removes {p})" for k, (p, d) in classification.CARVE_OUTS.items()},
    ),
    (
        "exceptions",
        "Art. 6(3): does the provider claim one of these derogations?",
        dict(classification.ART6_3_EXCEPTIONS),
    ),
    (
        "transparency",
        "Art. 50: transparency cases",
        {k: f"{d} ({ref})" for k, (ref, d) in classification.TRANSPARENCY_CASES.items()},
    ),
)
#: Yes/no questions: field, label.
FLAGS: tuple[tuple[str, str], ...] = (
    ("annex_i_safety_component", "It is a safety component of a product under Annex I (Art. 6(1))"),
    ("profiling", "It profiles natural persons (this defeats an Art. 6(3) claim)"),
    ("public_body", "The deployer is a public body or a private entity providing public services"),
    ("workplace", "It is used at the workplace by an employer"),
)


_ACTION = re.compile(r"`assay systems classify ([^\s`]+) ")


def classify_link(item: ItemStatus) -> str | None:
    """The questionnaire of the system a gap's next action asks to classify, if it does."""
    found = _ACTION.search(item.next_action or "")
    return f"/systems/{quote(found.group(1))}/classify" if found else None


def _form(
    request: Request, principal: Principal, system_id: str, error: str | None = None
) -> HTMLResponse:
    record = get_system(workspace(request).store, system_id)
    previous = (record.ai_act_classification or {}).get("answers") or {}
    return render(
        request,
        "classify.html",
        principal,
        400 if error else 200,
        system=record,
        answers=previous,
        questions=QUESTIONS,
        flags=FLAGS,
        outside=classification.OUTSIDE_SCOPE,
        error=error,
    )


@router.get("/systems/{system_id}/classify")
def classify_form(request: Request, system_id: str, principal: AimsWriter) -> HTMLResponse:
    return _form(request, principal, system_id)


@router.post("/systems/{system_id}/classify")
async def classify(request: Request, system_id: str, principal: AimsWriter) -> Response:
    """Lists come as repeated checkboxes; the service validates every key. The form is
    read here, the service runs off the event loop."""
    form = await request.form()
    answers: dict[str, object] = {
        field: [str(v) for v in form.getlist(field)][:50] for field, _, _ in QUESTIONS
    }
    answers |= {field: form.get(field) == "yes" for field, _ in FLAGS}
    answers["outside_scope"] = str(form.get("outside_scope") or "") or None
    return await run_in_threadpool(_classify, request, principal, system_id, answers)


def _classify(
    request: Request, principal: Principal, system_id: str, answers: dict[str, object]
) -> Response:
    ws = workspace(request)
    try:
        classification.classify_system(
            ws.store, ws.ledger, system_id, answers, actor=principal.actor
        )
    except AssayError as exc:
        return _form(request, principal, system_id, exc.message)
    return RedirectResponse(f"/systems/{system_id}?notice=classified", status_code=303)
