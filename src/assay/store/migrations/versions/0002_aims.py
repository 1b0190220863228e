"""AIMS registers: the full AI system record, its EU AI Act class, and the register tables.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("ai_systems") as batch:
        batch.add_column(sa.Column("profile", sa.JSON, nullable=True))
        batch.add_column(sa.Column("ai_act_class", sa.String(32), nullable=True))
        batch.add_column(sa.Column("ai_act_classification", sa.JSON, nullable=True))
        batch.add_column(sa.Column("archived_at", _TS, nullable=True))
        batch.add_column(sa.Column("updated_by", sa.String(200), nullable=True))
    op.create_table(
        "aims_records",
        sa.Column("register", sa.String(32), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "system_id",
            sa.String(64),
            sa.ForeignKey("ai_systems.id", ondelete="RESTRICT"),
            nullable=True,
        ),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("archived_at", _TS, nullable=True),
    )
    op.create_index("ix_aims_records_system_id", "aims_records", ["system_id"])
    op.create_table(
        "aims_record_versions",
        sa.Column("register", sa.String(32), primary_key=True),
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "aims_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("aims_settings")
    op.drop_table("aims_record_versions")
    op.drop_index("ix_aims_records_system_id", table_name="aims_records")
    op.drop_table("aims_records")
    with op.batch_alter_table("ai_systems") as batch:
        for column in (
            "updated_by",
            "archived_at",
            "ai_act_classification",
            "ai_act_class",
            "profile",
        ):
            batch.drop_column(column)
