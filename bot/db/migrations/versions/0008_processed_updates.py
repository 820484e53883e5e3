"""Webhook updates are handled once: the ids of the updates taken, shared by every instance.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_processed_updates_received_at", "processed_updates", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_updates_received_at", table_name="processed_updates")
    op.drop_table("processed_updates")
