"""Companions: the person who drives the patient home links to a procedure with an invite of
their own (an invite's `role`), and gets their own reminders.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("invites") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="patient"))
    op.create_table(
        "companions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "procedure_id",
            sa.Integer(),
            sa.ForeignKey("procedures.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.BigInteger(),
            sa.ForeignKey("users.user_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("joined_at", TIME, nullable=False),
        sa.UniqueConstraint("procedure_id", "user_id", name="uq_companions_procedure_user"),
    )
    op.create_index("ix_companions_procedure_id", "companions", ["procedure_id"])
    op.create_index("ix_companions_user_id", "companions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_companions_user_id", "companions")
    op.drop_index("ix_companions_procedure_id", "companions")
    op.drop_table("companions")
    with op.batch_alter_table("invites") as batch:
        batch.drop_column("role")
