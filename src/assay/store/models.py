"""SQLAlchemy 2 table models: the one schema shared by SQLite and PostgreSQL.

Ledger tables are append-only: rows are inserted, never updated (the only
mutable ledger state is a payload salt, which erasure nulls out).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
]


class Base(DeclarativeBase):
    """Declarative base of every Assay table."""


class AISystem(Base):
    """An AI system under governance: the subject of evidence (ISO 42001 clause 4.3)."""

    __tablename__ = "ai_systems"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text, default="")
    lifecycle_stage: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Added by migration 0002 (the full inventory record and the EU AI Act class).
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    ai_act_class: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ai_act_classification: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class LedgerEntry(Base):
    """One leaf of the evidence log: the canonical JSON bytes and their leaf hash."""

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    type: Mapped[str] = mapped_column(String(200), index=True)
    system: Mapped[str | None] = mapped_column(String(64), index=True)
    observed_at: Mapped[str] = mapped_column(String(40), index=True)
    appended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerNode(Base):
    """Hash of a complete subtree (level >= 1) so proofs need O(log n) reads."""

    __tablename__ = "ledger_nodes"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpoint(Base):
    """A signed C2SP checkpoint note over the first ``tree_size`` entries."""

    __tablename__ = "ledger_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LedgerCosignature(Base):
    """A witness cosignature line (C2SP tlog-cosignature) on a checkpoint."""

    __tablename__ = "ledger_cosignatures"
    __table_args__ = (Index("ix_cosig_checkpoint_key", "tree_size", "key_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("ledger_checkpoints.tree_size", ondelete="RESTRICT")
    )
    witness: Mapped[str] = mapped_column(String(200))
    key_id: Mapped[str] = mapped_column(String(8))
    line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PayloadSalt(Base):
    """Per-payload salt; erasure deletes the salt and blob, never the entry."""

    __tablename__ = "payload_salts"

    salt_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SpilledItem(Base):
    """A spilled evidence item already replayed: makes spill replay idempotent (migration 0006).

    The id is written beside the item in the spill file and inserted in the same
    transaction as the entry, so a replay cut short by a crash never appends twice.
    """

    __tablename__ = "ledger_spilled_items"

    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class AimsRecordRow(Base):
    """The current state of one AIMS register record (risk, SoA, audit, CAPA, ...).

    The register-specific fields live in ``data`` (validated by the register's
    pydantic model); the columns every register shares are indexed. Records
    are archived, never deleted.
    """

    __tablename__ = "aims_records"

    register: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    system_id: Mapped[str | None] = mapped_column(
        String(64), ForeignKey("ai_systems.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(200))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AimsRecordVersion(Base):
    """Every version of every AIMS record: history, diffs and the four-eyes check."""

    __tablename__ = "aims_record_versions"

    register: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))


class AimsSetting(Base):
    """A workspace-wide AIMS setting (four-eyes per register, risk scales)."""

    __tablename__ = "aims_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(200))
