"""REST API, /api/v1: JSON over the same functions the CLI uses.

Every route depends on :func:`assay.web.security.require`; write routes record
the caller as the actor of the evidence they produce.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from assay import catalogs
from assay.accounts import Permission, Principal
from assay.aims import add_system, get_system, list_systems
from assay.aims.references import append_checked
from assay.ledger import Evidence, Subject
from assay.ledger.evidence import NOTE
from assay.ledger.pack import export_pack
from assay.web import queries
from assay.web.security import require
from assay.workspace import Workspace

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["api"])

Reader = Annotated[Principal, Depends(require(Permission.READ))]
Verifier = Annotated[Principal, Depends(require(Permission.VERIFY_EXPORT))]
AimsWriter = Annotated[Principal, Depends(require(Permission.AIMS_WRITE))]


def _ws(request: Request) -> Workspace:
    workspace: Workspace = request.app.state.workspace
    return workspace


class Me(BaseModel):
    username: str
    role: str
    permissions: list[str]


class EvidenceIn(BaseModel):
    type: str = Field(min_length=1, max_length=200, examples=[NOTE])
    system: str | None = Field(default=None, max_length=64, examples=["support-bot"])
    controls: list[str] = Field(default_factory=list, max_length=50)
    summary: dict[str, Any] = Field(default_factory=dict)
    payload: dict[str, Any] | None = None


class SystemIn(BaseModel):
    id: str = Field(min_length=1, max_length=64, examples=["support-bot"])
    name: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=200)
    purpose: str = Field(default="", max_length=5000)
    lifecycle_stage: str = "development"
    org_roles: list[str] = Field(
        default_factory=list, max_length=7, examples=[["provider", "deployer"]]
    )


@router.get("/openapi.json", include_in_schema=False)
def openapi(request: Request, _: Reader) -> JSONResponse:
    """The OpenAPI description of this API."""
    return JSONResponse(request.app.openapi())


@router.get("/me", response_model=Me)
def me(principal: Reader) -> Me:
    """Who the caller is and what they may do."""
    return Me(
        username=principal.username,
        role=principal.role,
        permissions=sorted(p.value for p in principal.permissions),
    )


@router.get("/systems")
def systems(request: Request, _: Reader) -> list[dict[str, Any]]:
    """Registered AI systems."""
    return [s.as_json() for s in list_systems(_ws(request).store)]


@router.get("/systems/{system_id}")
def system(request: Request, system_id: str, _: Reader) -> dict[str, Any]:
    """One AI system."""
    return get_system(_ws(request).store, system_id).as_json()


@router.post("/systems", status_code=201)
def create_system(request: Request, body: SystemIn, principal: AimsWriter) -> dict[str, Any]:
    """Register an AI system (recorded in the ledger with the caller as actor)."""
    ws = _ws(request)
    record = add_system(
        ws.store,
        ws.ledger,
        system_id=body.id,
        name=body.name,
        owner=body.owner,
        purpose=body.purpose,
        lifecycle_stage=body.lifecycle_stage,
        profile={"org_roles": body.org_roles} if body.org_roles else None,
        actor=principal.actor,
    )
    return record.as_json()


@router.get("/ledger/entries")
def entries(
    request: Request,
    _: Reader,
    type: Annotated[str | None, Query(max_length=200)] = None,
    system: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Evidence entries, newest first, filtered by type and system."""
    page = queries.evidence_page(_ws(request), type, system, offset, limit)
    return {"total": page.total, "entries": page.entries}


@router.post("/ledger/entries", status_code=201)
def append_entry(request: Request, body: EvidenceIn, principal: AimsWriter) -> dict[str, Any]:
    """Append one entry (an attestation, an evaluation report…); unknown controls and systems are
    refused before anything is written."""
    ws = _ws(request)
    evidence = Evidence(
        type=body.type,
        actor=principal.actor,
        subject=Subject(body.system) if body.system else None,
        controls=tuple(body.controls),
        summary=body.summary,
        payload=None if body.payload is None else json.dumps(body.payload).encode("utf-8"),
    )
    custom = catalogs.load_custom_frameworks(ws.root / "frameworks")
    seq, leaf = append_checked(ws.store, ws.ledger, evidence, frameworks=custom)
    return {"seq": seq, "leaf_hash": leaf}


@router.get("/ledger/entries/{seq}")
def entry(
    request: Request, seq: Annotated[int, PathParam(ge=0, le=2**62)], _: Reader
) -> dict[str, Any]:
    """One entry, its inclusion proof and whether it verifies against the latest checkpoint."""
    return queries.entry_detail(_ws(request), seq)


@router.get("/ledger/checkpoint")
def checkpoint(request: Request, _: Reader) -> dict[str, Any]:
    """The latest signed checkpoint and the log's public key."""
    ws = _ws(request)
    return {
        "checkpoint": ws.ledger.latest_checkpoint(),
        "public_key": str(ws.ledger.signer.verifier),
    }


@router.post("/ledger/verify")
def verify(request: Request, _: Verifier) -> dict[str, Any]:
    """Recompute every leaf, node and checkpoint of the ledger."""
    report = _ws(request).ledger.verify()
    return {
        "ok": report.ok,
        "entries": report.entries,
        "checkpoints": report.checkpoints,
        "unsigned_tail": report.unsigned_tail,
        "problems": report.problems,
    }


@router.post("/packs", response_class=FileResponse)
def pack(
    request: Request,
    principal: Verifier,
    system: Annotated[str | None, Query(max_length=64)] = None,
) -> FileResponse:
    """Export an audit pack (zip) that verifies offline with the public key."""
    ws = _ws(request)
    if system is not None:
        get_system(ws.store, system)
    directory = Path(tempfile.mkdtemp(prefix="assay-pack-"))
    out = directory / "assay-audit-pack.zip"
    export_pack(ws.ledger, out, system=system)
    return FileResponse(
        out,
        media_type="application/zip",
        filename=out.name,
        background=BackgroundTask(_remove, directory),
    )


def _remove(directory: Path) -> None:
    for child in directory.iterdir():
        child.unlink()
    directory.rmdir()


@router.get("/frameworks")
def frameworks(_: Reader) -> list[dict[str, Any]]:
    """The built-in compliance frameworks."""
    return [
        {"id": fw.id, "name": fw.name, "version": fw.version, "requirements": len(fw.requirements)}
        for fw in catalogs.frameworks().values()
    ]


@router.get("/requirements/{ref}")
def requirement(request: Request, ref: str, _: Reader) -> dict[str, Any]:
    """A requirement, its crosswalk relations and the evidence that supports it."""
    return queries.requirement_detail(_ws(request), ref)
