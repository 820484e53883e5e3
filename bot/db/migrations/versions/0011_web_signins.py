"""The clinic web page: one-time sign-in links (kept hashed) and who handled an alert, and when.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_signins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "clinic_id",
            sa.Integer(),
            sa.ForeignKey("clinics.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("used_at", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_web_signins_clinic_id", "web_signins", ["clinic_id"])
    with op.batch_alter_table("safety_events") as batch:
        batch.add_column(sa.Column("handled_at", TIME, nullable=True))
        batch.add_column(sa.Column("handled_by_kind", sa.String(16), nullable=True))
        batch.add_column(sa.Column("handled_by_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("safety_events") as batch:
        batch.drop_column("handled_by_id")
        batch.drop_column("handled_by_kind")
        batch.drop_column("handled_at")
    op.drop_index("ix_web_signins_clinic_id", "web_signins")
    op.drop_table("web_signins")
