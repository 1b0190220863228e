"""Record evidence from the browser: an attestation, an evaluation report or an incident,
as a statement and, optionally, a file, with the controls and the system it is about.

The same service as ``assay ledger append`` and ``POST /api/v1/ledger/entries``
(:func:`assay.aims.references.append_checked`): cited controls must be known
requirements and the system a registered one, refused before anything is written.
The form checks each field through that service's :func:`check_references` first,
so an error is shown beside the field it is about. Needs the role that edits the
AIMS, as the REST API does.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assay import catalogs
from assay.aims import list_systems
from assay.aims.readiness import ItemStatus
from assay.aims.references import append_checked, check_references
from assay.errors import AssayError
from assay.ledger import Evidence, Subject
from assay.ledger.evidence import EVAL_REPORT, INCIDENT, NOTE
from assay.web.forms import Field, show
from assay.web.forms import Form as Page
from assay.web.rendering import AimsWriter, workspace
from assay.workspace import Workspace

__all__ = ["ATTESTATION_TYPES", "MAX_UPLOAD", "attest_link", "router"]

router = APIRouter(include_in_schema=False)

ATTESTATION_TYPES: dict[str, str] = {
    NOTE: "Attestation or note",
    EVAL_REPORT: "Evaluation report",
    INCIDENT: "Incident report",
}
"""The types a person records by hand (the ones a gap's next action asks to append)."""
MAX_UPLOAD = 10 * 1024 * 1024
"""Largest file accepted as a payload (10 MiB)."""
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]{0,62}/[a-z0-9][a-z0-9.+-]{0,126}")
_SPLIT = re.compile(r"[\s,]+")


def attest_link(item: ItemStatus, system: str | None) -> str | None:
    """The form that closes ``item``'s gap, prefilled, when its next action is a record a
    person makes (``assay ledger append …``); None for actions of other registers."""
    if not item.next_action or "assay ledger append" not in item.next_action:
        return None
    preferred = item.expected_types[0] if item.expected_types else NOTE
    kind = preferred if preferred in ATTESTATION_TYPES else NOTE
    query = {"control": item.ref, "type": kind} | ({"system": system} if system else {})
    return "/evidence/new?" + urlencode(query)


def _page(request: Request, system: str) -> Page:
    systems = [(s.id, f"{s.id} — {s.name}") for s in list_systems(workspace(request).store)]
    if system and system not in {value for value, _ in systems}:
        systems.append((system, system))  # keep an unknown value visible beside its error
    return Page(
        "Record evidence",
        "/evidence/new",
        (
            Field("type", "Kind of evidence", "select",
                  tuple((uri, f"{label} ({uri})") for uri, label in ATTESTATION_TYPES.items())),
            Field("title", "Title", required=True, max_length=200),
            Field("statement", "Statement (stored in the entry itself and readable by every "
                  "user: no personal data)", "textarea"),
            Field("controls", "Controls it is evidence for (requirement references separated "
                  "by spaces, e.g. iso42001:A.6.2.4)", max_length=2000),
            Field("system", "AI system", "select",
                  (("", "organisation-wide (no system)"), *systems)),
            Field("outcome", "Result (evaluation reports: what readiness counts)", "radio",
                  (("", "none stated"), ("passed", "passed its acceptance criteria"),
                   ("failed", "failed them"))),
            Field("file", "File (optional, at most 10 MiB: kept as the entry's payload under a "
                  "salted digest, erasable, shown only to the roles that export audit packs)",
                  "file"),
        ),
        "Record in the ledger",
        "An attestation, an evaluation report or an incident report, written to the ledger "
        "with you as the actor, as the CLI's ledger append does. The ledger is append-only: "
        "the controls and the system are checked before anything is written.",
        ("/evidence", "Evidence"),
    )


@router.get("/evidence/new")
def attest_form(
    request: Request,
    principal: AimsWriter,
    control: Annotated[list[str] | None, Query(max_length=50)] = None,
    system: Annotated[str, Query(max_length=64)] = "",
    type: Annotated[str, Query(max_length=200)] = NOTE,
) -> HTMLResponse:
    values = {"type": type, "system": system, "controls": " ".join(control or []), "title": ""}
    return show(request, principal, _page(request, system), values)


def _field_errors(ws: Workspace, values: dict[str, Any], controls: list[str]) -> dict[str, str]:
    """Each field checked on its own by the service's reference check."""
    errors: dict[str, str] = {}
    if values["type"] not in ATTESTATION_TYPES:
        errors["type"] = "choose one of the listed kinds of evidence"
    known = {s.id for s in list_systems(ws.store, include_archived=True)}
    custom = catalogs.load_custom_frameworks(ws.root / "frameworks")
    problems = []
    for control in controls:
        try:
            check_references(
                Evidence(NOTE, "check", controls=(control,)), systems=known, frameworks=custom
            )
        except AssayError as exc:
            problems.append(exc.message)
    if problems:
        errors["controls"] = "; ".join(problems)
    if values["system"]:
        try:
            check_references(
                Evidence(NOTE, "check", subject=Subject(values["system"])), systems=known
            )
        except AssayError as exc:
            errors["system"] = exc.message
    return errors


def _payload(upload: UploadFile | None) -> tuple[bytes | None, str, str | None]:
    """The uploaded file's content and media type, or an error for the file field."""
    if upload is None or not upload.filename:
        return None, "", None
    content = upload.file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        return None, "", f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MiB"
    if not content:
        return None, "", "the file is empty"
    media = (upload.content_type or "").lower()
    return content, media if _MEDIA_TYPE.fullmatch(media) else "application/octet-stream", None


@router.post("/evidence/new")
def attest(
    request: Request,
    principal: AimsWriter,
    type: Annotated[str, Form(max_length=200)],
    title: Annotated[str, Form(max_length=200)],
    statement: Annotated[str, Form(max_length=5000)] = "",
    controls: Annotated[str, Form(max_length=2000)] = "",
    system: Annotated[str, Form(max_length=64)] = "",
    outcome: Annotated[str, Form(max_length=10)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Record the evidence, or show the form again with each problem beside its field."""
    ws = workspace(request)
    refs = [c for c in _SPLIT.split(controls) if c]
    values = {
        "type": type,
        "title": title,
        "statement": statement,
        "controls": controls,
        "system": system,
        "outcome": outcome,
    }
    page = _page(request, system)
    errors = page.missing(values) | _field_errors(ws, values, refs)
    payload, media, file_error = _payload(file)
    if file_error:
        errors["file"] = file_error
    if errors:
        return show(request, principal, page, values, errors)
    summary: dict[str, Any] = {"title": title.strip()}
    if statement.strip():
        summary["statement"] = statement.strip()
    if outcome in ("passed", "failed"):
        summary["passed"] = outcome == "passed"
    evidence = Evidence(
        type=type,
        actor=principal.actor,
        summary=summary,
        subject=Subject(system) if system else None,
        controls=tuple(refs),
        payload=payload,
        payload_media_type=media or "application/json",
    )
    custom = catalogs.load_custom_frameworks(ws.root / "frameworks")
    seq, _ = append_checked(ws.store, ws.ledger, evidence, frameworks=custom)
    return RedirectResponse(f"/evidence/{seq}?notice=recorded", status_code=303)
