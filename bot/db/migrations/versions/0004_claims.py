"""Reminders remember which sender holds them; warning signs remember their procedure.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(16), nullable=True))
    with op.batch_alter_table("safety_events") as batch:
        batch.add_column(sa.Column("procedure_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("safety_events") as batch:
        batch.drop_column("procedure_id")
    with op.batch_alter_table("reminders") as batch:
        batch.drop_column("claimed_by")
