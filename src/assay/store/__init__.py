"""The shared store layer: SQLAlchemy models, sessions and migrations."""

from assay.store.db import Store, redact_url
from assay.store.models import (
    AimsRecordRow,
    AimsRecordVersion,
    AimsSetting,
    AISystem,
    Base,
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerEntry,
    LedgerNode,
    PayloadSalt,
    SpilledItem,
)

__all__ = [
    "AISystem",
    "AimsRecordRow",
    "AimsRecordVersion",
    "AimsSetting",
    "Base",
    "LedgerCheckpoint",
    "LedgerCosignature",
    "LedgerEntry",
    "LedgerNode",
    "PayloadSalt",
    "SpilledItem",
    "Store",
    "redact_url",
]
