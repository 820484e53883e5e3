"""Patients' data is not kept forever: procedures can be purged (and blocked patients marked
unreachable), warning signs outlive their link to the patient, and clinic actions are audited.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("procedures") as batch:
        batch.add_column(sa.Column("unreachable_at", TIME, nullable=True))
        batch.add_column(sa.Column("purged_at", TIME, nullable=True))
    with op.batch_alter_table("safety_events") as batch:
        batch.alter_column("user_id", existing_type=sa.BigInteger(), nullable=True)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("clinic_id", sa.Integer(), sa.ForeignKey("clinics.id", ondelete="CASCADE"), nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("procedure_id", sa.Integer(), nullable=True),
        sa.Column("at", TIME, nullable=False),
    )
    op.create_index("ix_audit_log_clinic_at", "audit_log", ["clinic_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_clinic_at", table_name="audit_log")
    op.drop_table("audit_log")
    # Signs whose patient link was purged cannot go back under a NOT NULL column.
    op.execute("DELETE FROM safety_events WHERE user_id IS NULL")
    with op.batch_alter_table("safety_events") as batch:
        batch.alter_column("user_id", existing_type=sa.BigInteger(), nullable=False)
    with op.batch_alter_table("procedures") as batch:
        batch.drop_column("purged_at")
        batch.drop_column("unreachable_at")
