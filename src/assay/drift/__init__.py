"""Real-time drift monitoring of guard signals, with alerts as ledger evidence.

The gateway (or guard) builds one :class:`DriftMonitor` per process and calls
``monitor.observe(event)`` once per request; ``assay drift replay`` runs the
same code over recorded events. See docs/drift.md.
"""

from assay.drift.alerts import (
    ALERT_CONTROLS,
    ALERT_TYPE,
    AlertSink,
    DriftAlert,
    LedgerAlertSink,
    LogSink,
    OtelSink,
    WebhookSink,
)
from assay.drift.calibrate import LEVELS, Thresholds
from assay.drift.events import BadEvent, event_time, read_jsonl
from assay.drift.monitor import DriftMonitor, ReplayResult, replay
from assay.drift.reference import Reference, ReferenceStore, WindowSpec, build_reference

__all__ = [
    "ALERT_CONTROLS",
    "ALERT_TYPE",
    "LEVELS",
    "AlertSink",
    "BadEvent",
    "DriftAlert",
    "DriftMonitor",
    "LedgerAlertSink",
    "LogSink",
    "OtelSink",
    "Reference",
    "ReferenceStore",
    "ReplayResult",
    "Thresholds",
    "WebhookSink",
    "WindowSpec",
    "build_reference",
    "event_time",
    "read_jsonl",
    "replay",
]
