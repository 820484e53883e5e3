"""Procedures remember the clinic settings their reminders were planned with.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("procedures") as batch:
        batch.add_column(sa.Column("planned_with", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("procedures") as batch:
        batch.drop_column("planned_with")
