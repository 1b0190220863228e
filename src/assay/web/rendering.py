"""What every dashboard page module shares: role dependencies, the workspace, rendering.

Page modules declare their permission with one of the annotated principals
below (each wraps :func:`assay.web.security.require`) and render a template
with :func:`render`, which adds the principal and the permission names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from assay.accounts import Permission, Principal
from assay.web.security import require
from assay.workspace import Workspace

__all__ = [
    "NOTICES",
    "Admin",
    "AimsWriter",
    "AuditWriter",
    "Engineer",
    "Reader",
    "Verifier",
    "public_context",
    "public_message",
    "render",
    "templates",
    "when",
    "workspace",
]

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def when(value: str | datetime | None) -> Markup:
    """A timestamp as ``<time>``: to the second in UTC as served, the exact stored value on
    hover; ``static/dashboard.js`` rewrites the text in the viewer's local time."""
    if value is None or value == "":
        return Markup("—")
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        exact = moment.isoformat()
    else:
        exact = value
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return escape(value)  # not a timestamp: shown as it is
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    shown = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    attribute = escape(exact)
    return Markup(  # noqa: S704 - both values are escaped above
        f'<time class="when" datetime="{attribute}" title="{attribute}">{escape(shown)}</time>'
    )


templates.env.filters["when"] = when

Reader = Annotated[Principal, Depends(require(Permission.READ))]
Verifier = Annotated[Principal, Depends(require(Permission.VERIFY_EXPORT))]
AimsWriter = Annotated[Principal, Depends(require(Permission.AIMS_WRITE))]
AuditWriter = Annotated[Principal, Depends(require(Permission.AUDIT_WRITE))]
Engineer = Annotated[Principal, Depends(require(Permission.ENGINEERING))]
Admin = Annotated[Principal, Depends(require(Permission.ADMIN))]

NOTICES: dict[str, str] = {
    "generated": "The Statement of Applicability was generated from the risk register.",
    "unchanged": "Nothing changed since the last version: no new version was made.",
    "edited": "The control was updated; the SoA is now a draft awaiting approval.",
    "approved": "The Statement of Applicability was approved.",
    "signed-off": "The impact assessment was signed off.",
    "finding": "The finding was recorded.",
    "advanced": "The corrective action was updated.",
    "prepared": "The management review pack was prepared.",
    "signed": "A checkpoint was signed over the whole ledger: every entry can now be proven.",
    "adopted": "The risk templates were adopted into the register.",
    "treated": "The risk treatment was recorded.",
    "accepted": "The residual risk was accepted.",
    "planned": "The audit was planned.",
    "completed": "The audit was completed and recorded as evidence.",
    "decided": "The decision was recorded.",
    "policy-added": "The policy was added as a draft.",
    "policy-approved": "The policy revision was approved.",
    "role-added": "The RACI line was added.",
    "objective-set": "The objective was set.",
    "system-updated": "The AI system's record was updated.",
    "held": "The management review was recorded as held; its decisions are final.",
    "capa-opened": "The corrective action was opened; record its steps below.",
    "answered": "The answers were saved; the assessment is a draft until it is signed off.",
    "recorded": "The evidence was recorded in the ledger; it counts for readiness once a "
    "checkpoint covers it.",
}
"""Fixed success messages, chosen by a ``?notice=`` key (never reflected text)."""


def workspace(request: Request) -> Workspace:
    """The workspace the app serves."""
    ws: Workspace = request.app.state.workspace
    return ws


def public_message(request: Request, message: str) -> str:
    """``message`` with the workspace's location replaced: never shown to clients."""
    root = workspace(request).root
    for path in sorted({str(root), str(Path(root).resolve())}, key=len, reverse=True):
        message = message.replace(path, "<workspace>")
    return message


def public_context(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    """The template context with its error texts (``error``, ``message``) made public."""
    return {
        key: public_message(request, value)
        if key in ("error", "message") and isinstance(value, str)
        else value
        for key, value in context.items()
    }


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` for ``principal`` (None on the login and error pages before
    anyone is known); ``?notice=KEY`` shows a fixed success message."""
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return templates.TemplateResponse(
        request,
        template,
        {
            "principal": principal,
            "Permission": Permission,
            "notice": notice,
            **public_context(request, context),
        },
        status_code=status_code,
    )
