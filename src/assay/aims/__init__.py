"""The AI management system (ISO/IEC 42001): registers, each change recorded as evidence.

One small module per register: ``inventory`` and ``classification`` (AI
systems and their EU AI Act class), ``policy``, ``roles``, ``risk``,
``impact``, ``soa``, ``objectives``, ``audit``, ``capa``, ``review``, and
``as_code`` (export/apply YAML). ``settings`` holds the four-eyes rule per
register and the risk scale. Import the modules for their full API; the
names below are the ones other packages use most.
"""

from assay.aims import (
    as_code,
    audit,
    capa,
    classification,
    impact,
    objectives,
    policy,
    review,
    risk,
    roles,
    settings,
    soa,
)
from assay.aims._records import Record, Version
from assay.aims.inventory import (
    LIFECYCLE_STAGES,
    ORG_ROLES,
    SystemRecord,
    add_system,
    ai_act_class,
    archive_system,
    get_system,
    list_systems,
    update_system,
)

__all__ = [
    "LIFECYCLE_STAGES",
    "ORG_ROLES",
    "Record",
    "SystemRecord",
    "Version",
    "add_system",
    "ai_act_class",
    "archive_system",
    "as_code",
    "audit",
    "capa",
    "classification",
    "get_system",
    "impact",
    "list_systems",
    "objectives",
    "policy",
    "review",
    "risk",
    "roles",
    "settings",
    "soa",
    "update_system",
]
