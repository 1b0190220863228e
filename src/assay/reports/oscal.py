"""OSCAL 1.1 catalog export of Assay's framework catalogs (NIST OSCAL catalog model, JSON).

Top-level requirements that have children become OSCAL groups; everything
below becomes nested controls. OSCAL IDs are tokens (no parentheses), so
``Art.9(2)`` is exported as ``Art.9_2`` and the original ID is kept in a
``label`` property. UUIDs are derived from content (UUIDv5), so exporting the
same catalog twice gives the same document.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time
from typing import Any

from assay.catalogs import Framework, Requirement, framework
from assay.errors import AssayError

__all__ = [
    "OSCAL_VERSION",
    "PROP_NS",
    "catalog_href",
    "catalog_to_oscal",
    "oscal_metadata",
    "oscal_time",
    "oscal_token",
    "oscal_uuid",
    "profile_href",
    "profile_to_oscal",
]

OSCAL_VERSION = "1.1.2"
_NAMESPACE = uuid.UUID("6f1c7c1e-3b7a-5d0e-9a43-8a55a7a1d001")
_PROP_NS = "https://assay.dev/ns/oscal"
_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")
PROP_NS = _PROP_NS


def oscal_uuid(*parts: object) -> str:
    """A UUIDv5 derived from content, so the same export twice gives the same document."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def oscal_time(moment: datetime) -> str:
    """An OSCAL date-time with a timezone (UTC, ``Z``)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def oscal_metadata(
    title: str, version: str, last_modified: datetime, props: dict[str, str] | None = None
) -> dict[str, Any]:
    """The ``metadata`` block every OSCAL model shares, with Assay's props."""
    meta: dict[str, Any] = {
        "title": title,
        "last-modified": oscal_time(last_modified),
        "version": version,
        "oscal-version": OSCAL_VERSION,
    }
    if props:
        meta["props"] = [
            {"name": name, "ns": _PROP_NS, "value": value}
            for name, value in props.items()
            if value.strip()
        ]
    return meta


def oscal_token(requirement_id: str) -> str:
    """An OSCAL token for a requirement ID: ``(x)`` becomes ``_x``; a leading digit gets ``c``."""
    token = requirement_id.replace("(", "_").replace(")", "").replace(" ", "-")
    if not token[:1].isalpha():
        token = f"c{token}"
    if not _TOKEN.match(token):
        raise AssayError(
            f"requirement ID '{requirement_id}' cannot be made an OSCAL token; rename it."
        )
    return token


def catalog_to_oscal(fw: Framework | str, last_modified: datetime | None = None) -> dict[str, Any]:
    """The OSCAL catalog document (``{"catalog": {...}}``) for a framework.

    ``last_modified`` defaults to the catalog's review date (midnight UTC), so the
    output is reproducible; it falls back to now only for undated custom catalogs.
    """
    if isinstance(fw, str):
        fw = framework(fw)
    tokens: dict[str, str] = {}
    for req in fw.requirements:
        token = oscal_token(req.id)
        if token in tokens.values():
            raise AssayError(
                f"two requirement IDs of '{fw.id}' map to OSCAL ID '{token}'; rename one."
            )
        tokens[req.id] = token
    if last_modified is None:
        last_modified = _reviewed(fw)
    source_uuid = str(uuid.uuid5(_NAMESPACE, f"{fw.id}/{fw.version}/source"))
    metadata: dict[str, Any] = {
        "title": fw.name,
        "last-modified": last_modified.isoformat().replace("+00:00", "Z"),
        "version": fw.version,
        "oscal-version": OSCAL_VERSION,
        "props": [{"name": "framework-id", "ns": _PROP_NS, "value": fw.id}],
        "remarks": f"Licence: {fw.licence}" + (f"\n\n{fw.notes}" if fw.notes else ""),
    }
    groups: list[dict[str, Any]] = []
    controls: list[dict[str, Any]] = []
    for req in fw.children(None):
        if fw.children(req.id):
            groups.append(_group(fw, req, tokens, source_uuid))
        else:
            controls.append(_control(fw, req, tokens, source_uuid))
    catalog: dict[str, Any] = {
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{fw.id}/{fw.version}/catalog")),
        "metadata": metadata,
    }
    if groups:
        catalog["groups"] = groups
    if controls:
        catalog["controls"] = controls
    resource: dict[str, Any] = {
        "uuid": source_uuid,
        "title": fw.name,
        "citation": {"text": fw.source},
    }
    if fw.url:
        resource["rlinks"] = [{"href": fw.url}]
    catalog["back-matter"] = {"resources": [resource]}
    return {"catalog": catalog}


def _reviewed(fw: Framework) -> datetime:
    """A catalog's review date at midnight UTC (now for an undated custom catalog)."""
    return datetime.combine(fw.reviewed, time(), tzinfo=UTC) if fw.reviewed else datetime.now(UTC)


def profile_href(framework_id: str) -> str:
    """Where the framework's OSCAL profile sits beside the other exports."""
    return f"oscal-profile-{framework_id}.json"


def catalog_href(framework_id: str) -> str:
    """Where the framework's OSCAL catalog sits beside the other exports."""
    return f"oscal-catalog-{framework_id}.json"


def profile_to_oscal(fw: Framework | str) -> dict[str, Any]:
    """The OSCAL profile that selects every requirement of a framework's catalog, unchanged.

    An SSP's ``import-profile`` must name a profile that resolves to a catalog
    (OSCAL 1.1 SSP model; NIST's profile-resolution spec): compliance-trestle
    resolves it when it imports the SSP. Assay does not tailor frameworks, so
    the profile imports the catalog export beside it with ``include-all`` and
    merges it as is; its href is relative, so the documents travel as a folder
    (an audit pack's ``reports/``).
    """
    if isinstance(fw, str):
        fw = framework(fw)
    metadata = oscal_metadata(
        f"{fw.name}: every requirement", fw.version, _reviewed(fw), {"framework-id": fw.id}
    )
    metadata["remarks"] = "No tailoring: every requirement of the catalog is in scope."
    return {
        "profile": {
            "uuid": str(uuid.uuid5(_NAMESPACE, f"{fw.id}/{fw.version}/profile")),
            "metadata": metadata,
            "imports": [{"href": catalog_href(fw.id), "include-all": {}}],
            "merge": {"as-is": True},
        }
    }


def _props(req: Requirement) -> list[dict[str, Any]]:
    props: list[dict[str, Any]] = [
        {"name": "label", "value": req.id},
        {"name": "kind", "ns": _PROP_NS, "value": req.kind},
    ]
    props += [{"name": "duty-holder", "ns": _PROP_NS, "value": v} for v in req.duty_holders]
    props += [{"name": "risk-class", "ns": _PROP_NS, "value": v} for v in req.risk_classes]
    if req.applies_from:
        props.append(
            {"name": "applies-from", "ns": _PROP_NS, "value": req.applies_from.isoformat()}
        )
    if req.citation:
        props.append({"name": "citation", "ns": _PROP_NS, "value": req.citation})
    return props


def _parts(req: Requirement, token: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [
        {"id": f"{token}_smt", "name": "statement", "prose": req.description}
    ]
    if req.evidence_expectations:
        parts.append(
            {
                "id": f"{token}_obj",
                "name": "assessment-objective",
                "parts": [
                    {"id": f"{token}_obj.{i}", "name": "assessment-objective", "prose": text}
                    for i, text in enumerate(req.evidence_expectations, start=1)
                ],
            }
        )
    if req.notes:
        parts.append({"id": f"{token}_gdn", "name": "guidance", "prose": req.notes})
    return parts


def _control(
    fw: Framework, req: Requirement, tokens: dict[str, str], source: str
) -> dict[str, Any]:
    token = tokens[req.id]
    control: dict[str, Any] = {
        "id": token,
        "class": req.kind,
        "title": req.title,
        "props": _props(req),
        "links": [{"href": f"#{source}", "rel": "reference"}],
        "parts": _parts(req, token),
    }
    children = [_control(fw, child, tokens, source) for child in fw.children(req.id)]
    if children:
        control["controls"] = children
    return control


def _group(fw: Framework, req: Requirement, tokens: dict[str, str], source: str) -> dict[str, Any]:
    token = tokens[req.id]
    return {
        "id": token,
        "class": req.kind,
        "title": req.title,
        "props": _props(req),
        "parts": _parts(req, token),
        "controls": [_control(fw, child, tokens, source) for child in fw.children(req.id)],
    }
