"""Structured logs: one line per request, as text or JSON, never content or keys.

Request lines go to the ``assay.access`` logger with their fields in
``extra={"fields": {...}}``; :class:`JsonFormatter` writes every record as one JSON
object (``ts``, ``level``, ``logger``, ``message`` and the fields), :class:`TextFormatter`
appends the fields as ``key=value``. ``configure_logging`` installs one of them on the
root logger (the servers call it at start).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ACCESS_LOGGER",
    "LOG_FORMATS",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "request_id",
]

LOG_FORMATS = ("text", "json")
ACCESS_LOGGER = "assay.access"
#: A caller's request id is kept when it is this harmless; otherwise a new one is made.
_GOOD_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id(offered: str | None = None) -> str:
    """The caller's ``x-request-id`` when it is short and plain, else a new random one."""
    if offered and _GOOD_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return dict(fields) if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_fields(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """``time level logger message key=value …``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        return f"{base} {extra}" if extra else base


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Send the ``assay`` loggers (request lines included) to stderr in ``log_format``."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger = logging.getLogger("assay")
    for old in list(logger.handlers):
        if getattr(old, "_assay_ops", False):
            logger.removeHandler(old)
    handler._assay_ops = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)  # records still propagate: the root logger has no handler here
