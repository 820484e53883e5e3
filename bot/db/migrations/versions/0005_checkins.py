"""Check-ins after the procedure: pain score, warning-sign screen, comment.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "reminder_id",
            sa.Integer(),
            sa.ForeignKey("reminders.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column(
            "procedure_id", sa.Integer(), sa.ForeignKey("procedures.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("pain", sa.Integer(), nullable=True),
        sa.Column("signs", sa.JSON(), nullable=True),
        sa.Column("comment", sa.String(1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_checkins_procedure_id", "checkins", ["procedure_id"])
    op.create_index("ix_checkins_user_id", "checkins", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_checkins_user_id", "checkins")
    op.drop_index("ix_checkins_procedure_id", "checkins")
    op.drop_table("checkins")
