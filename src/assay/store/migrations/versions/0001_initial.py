"""Initial schema: AI systems and the evidence ledger.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ai_systems",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("entry", sa.LargeBinary, nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("system", sa.String(64), nullable=True),
        sa.Column("observed_at", sa.String(40), nullable=False),
        sa.Column("appended_at", _TS, nullable=False),
    )
    op.create_index("ix_ledger_entries_type", "ledger_entries", ["type"])
    op.create_index("ix_ledger_entries_system", "ledger_entries", ["system"])
    op.create_index("ix_ledger_entries_observed_at", "ledger_entries", ["observed_at"])
    op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "ledger_cosignatures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "tree_size",
            sa.BigInteger,
            sa.ForeignKey("ledger_checkpoints.tree_size", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("witness", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_index(
        "ix_cosig_checkpoint_key", "ledger_cosignatures", ["tree_size", "key_id"], unique=True
    )
    op.create_table(
        "payload_salts",
        sa.Column("salt_id", sa.String(32), primary_key=True),
        sa.Column("salt", sa.LargeBinary(32), nullable=True),
        sa.Column("erased_at", _TS, nullable=True),
    )


def downgrade() -> None:
    for table in (
        "payload_salts",
        "ledger_cosignatures",
        "ledger_checkpoints",
        "ledger_nodes",
        "ledger_entries",
        "ai_systems",
    ):
        op.drop_table(table)
