"""OSCAL 1.1 system documents for one AI system: a system security plan and a component definition.

Both describe how the system implements a framework's requirements as the
readiness engine sees them: control IDs are the tokens of the matching OSCAL
catalog export (``oscal-catalog-<framework>.json``, written next to them in an
audit pack with ``oscal-profile-<framework>.json``, the profile the SSP
imports), the implementation state follows the SoA and the evidence, and each
requirement carries Assay's readiness status as a property.
"""

from __future__ import annotations

from typing import Any

from assay.aims.inventory import SystemRecord
from assay.aims.readiness import ItemStatus, Readiness
from assay.reports.oscal import (
    PROP_NS,
    catalog_href,
    oscal_metadata,
    oscal_token,
    oscal_uuid,
    profile_href,
)

__all__ = ["component_definition", "implementation_state", "ssp"]

_LIFECYCLE_STATE = {
    "inception": "under-development",
    "design": "under-development",
    "development": "under-development",
    "verification": "under-development",
    "deployment": "under-major-modification",
    "operation": "operational",
    "retirement": "disposition",
}


def implementation_state(item: ItemStatus) -> str:
    """OSCAL implementation-status state for a requirement's readiness."""
    if item.status == "not_applicable":
        return "not-applicable"
    if item.status == "met":
        return "implemented"
    if item.status == "partial" or item.soa_status in ("partial", "implemented"):
        return "partial"
    return "planned"


def _props(item: ItemStatus) -> list[dict[str, Any]]:
    props = [
        {"name": "label", "value": item.id},
        {"name": "readiness-status", "ns": PROP_NS, "value": item.status},
    ]
    if item.soa_status:
        props.append({"name": "soa-implementation-status", "ns": PROP_NS, "value": item.soa_status})
    props += [
        {"name": "evidence-seq", "ns": PROP_NS, "value": str(c.seq)}
        for c in item.evidence
        if c.fresh and c.verified
    ]
    return props


def _describe(item: ItemStatus) -> str:
    text = f"Readiness: {item.status}. {item.reason or ''}".strip()
    if item.soa_justification:
        text += f"\n\nSoA justification: {item.soa_justification}"
    return text


def component_definition(readiness: Readiness, system: SystemRecord) -> dict[str, Any]:
    """An OSCAL component definition: the AI system as a component implementing the framework."""
    key = (readiness.framework, system.id, readiness.generated_at.isoformat())
    implemented = [
        {
            "uuid": oscal_uuid("compdef-req", *key, item.ref),
            "control-id": oscal_token(item.id),
            "description": _describe(item),
            "props": _props(item),
        }
        for item in readiness.items
    ]
    component = {
        "uuid": oscal_uuid("component", system.id),
        "type": "software",
        "title": system.name,
        "description": system.purpose or f"AI system {system.id}",
        "props": _system_props(system),
        "control-implementations": [
            {
                "uuid": oscal_uuid("compdef-impl", *key),
                "source": catalog_href(readiness.framework),
                "description": (
                    f"How {system.id} meets {readiness.framework_name}, from Assay readiness "
                    f"at {readiness.generated_at.isoformat()}."
                ),
                "implemented-requirements": implemented,
            }
        ],
    }
    return {
        "component-definition": {
            "uuid": oscal_uuid("compdef", *key),
            "metadata": oscal_metadata(
                f"{system.name}: {readiness.framework_name} component definition",
                readiness.generated_at.strftime("%Y-%m-%d"),
                readiness.generated_at,
                {"framework-id": readiness.framework, "system-id": system.id},
            ),
            "components": [component],
        }
    }


def _system_props(system: SystemRecord) -> list[dict[str, Any]]:
    values = {
        "system-id": system.id,
        "owner": system.owner,
        "lifecycle-stage": system.lifecycle_stage,
        "eu-ai-act-class": system.ai_act_class or "unclassified",
        "eu-ai-act-role": ", ".join(system.profile.org_roles) or "not recorded",
    }
    return [
        {"name": name, "ns": PROP_NS, "value": value}
        for name, value in values.items()
        if value.strip()
    ]


def ssp(readiness: Readiness, system: SystemRecord) -> dict[str, Any]:
    """An OSCAL system security plan for one AI system against one framework."""
    key = (readiness.framework, system.id, readiness.generated_at.isoformat())
    component_uuid = oscal_uuid("ssp-component", system.id)
    catalog_resource = oscal_uuid("ssp-catalog", readiness.framework)
    implemented = [
        {
            "uuid": oscal_uuid("ssp-req", *key, item.ref),
            "control-id": oscal_token(item.id),
            "props": _props(item),
            "by-components": [
                {
                    "component-uuid": component_uuid,
                    "uuid": oscal_uuid("ssp-by", *key, item.ref),
                    "description": _describe(item),
                    "implementation-status": {"state": implementation_state(item)},
                }
            ],
        }
        for item in readiness.items
    ]
    purpose = system.purpose or f"AI system {system.id}"
    intended = system.profile.intended_use
    return {
        "system-security-plan": {
            "uuid": oscal_uuid("ssp", *key),
            "metadata": oscal_metadata(
                f"{system.name}: {readiness.framework_name} system plan",
                readiness.generated_at.strftime("%Y-%m-%d"),
                readiness.generated_at,
                {"framework-id": readiness.framework, "system-id": system.id},
            ),
            "import-profile": {
                "href": profile_href(readiness.framework),
                "remarks": "The profile selects every requirement of the catalog, untailored.",
            },
            "system-characteristics": {
                "system-ids": [
                    {"identifier-type": "https://assay.dev/ns/oscal/system-id", "id": system.id}
                ],
                "system-name": system.name,
                "system-name-short": system.id,
                "description": purpose + (f"\n\nIntended use: {intended}" if intended else ""),
                "props": _system_props(system),
                "system-information": {
                    "information-types": [
                        {
                            "uuid": oscal_uuid("info-type", system.id),
                            "title": "AI system inputs, outputs and evidence",
                            "description": (
                                "Prompts and responses handled by the system and the evidence "
                                "about it kept in Assay's ledger."
                            ),
                        }
                    ]
                },
                "status": {"state": _LIFECYCLE_STATE.get(system.lifecycle_stage, "other")},
                "authorization-boundary": {
                    "description": (
                        f"The AI system {system.id} as registered in the Assay inventory, "
                        "with its models, datasets and deployment surfaces."
                    )
                },
            },
            "system-implementation": {
                "users": [
                    {
                        "uuid": oscal_uuid("owner", system.id, system.owner),
                        "title": system.owner or "owner",
                        "description": "System owner recorded in the AI system inventory.",
                    }
                ],
                "components": [
                    {
                        "uuid": component_uuid,
                        "type": "this-system",
                        "title": system.name,
                        "description": purpose,
                        "status": {"state": "operational"},
                    }
                ],
            },
            "control-implementation": {
                "description": (
                    f"Readiness of {system.id} against {readiness.framework_name}: "
                    f"{_percent(readiness)}."
                ),
                "implemented-requirements": implemented,
            },
            "back-matter": {
                "resources": [
                    {
                        "uuid": catalog_resource,
                        "title": f"{readiness.framework_name} (OSCAL catalog)",
                        "rlinks": [{"href": catalog_href(readiness.framework)}],
                    },
                    {
                        "uuid": oscal_uuid("ssp-profile", readiness.framework),
                        "title": f"{readiness.framework_name} (OSCAL profile, every requirement)",
                        "rlinks": [{"href": profile_href(readiness.framework)}],
                    },
                ]
            },
        }
    }


def _percent(readiness: Readiness) -> str:
    value = readiness.percent
    return "no applicable requirement" if value is None else f"{value}% ready"
