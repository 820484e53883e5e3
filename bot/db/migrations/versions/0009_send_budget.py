"""One send budget for every instance: a token bucket per bot, in the shared database.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_budget",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.Column("paused_until", sa.Float(), nullable=False),
        sa.Column("replies_waiting_until", sa.Float(), nullable=False),
        sa.Column("took", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("send_budget")
