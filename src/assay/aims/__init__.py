"""The AI management system (ISO/IEC 42001): registers, each change recorded as evidence."""

from assay.aims.inventory import (
    LIFECYCLE_STAGES,
    SystemRecord,
    add_system,
    get_system,
    list_systems,
)

__all__ = ["LIFECYCLE_STAGES", "SystemRecord", "add_system", "get_system", "list_systems"]
