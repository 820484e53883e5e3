"""Clinics, their API tokens, invites, staff; procedures belong to a clinic and may await a patient.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "clinics",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("slug", sa.String(40), nullable=False, unique=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_table(
        "clinic_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("clinic_id", sa.Integer(), sa.ForeignKey("clinics.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("revoked_at", TIME, nullable=True),
    )
    op.create_index("ix_clinic_tokens_clinic_id", "clinic_tokens", ["clinic_id"])
    with op.batch_alter_table("procedures") as batch:
        batch.alter_column("user_id", existing_type=sa.BigInteger(), nullable=True)
        batch.add_column(sa.Column("clinic_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reference", sa.String(64), nullable=True))
        batch.create_foreign_key(
            "fk_procedures_clinic_id", "clinics", ["clinic_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_procedures_clinic_id", ["clinic_id"])
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "procedure_id", sa.Integer(), sa.ForeignKey("procedures.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("used_at", TIME, nullable=True),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_invites_procedure_id", "invites", ["procedure_id"])
    op.create_table(
        "invite_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", TIME, nullable=False),
    )
    op.create_index("ix_invite_attempts_user_id", "invite_attempts", ["user_id"])
    op.create_table(
        "staff",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("clinic_id", sa.Integer(), sa.ForeignKey("clinics.id", ondelete="CASCADE"), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("approved_at", TIME, nullable=False),
    )
    op.create_index("ix_staff_clinic_id", "staff", ["clinic_id"])
    op.create_table(
        "staff_codes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("clinic_id", sa.Integer(), sa.ForeignKey("clinics.id", ondelete="CASCADE"), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("used_at", TIME, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("staff_codes")
    op.drop_table("staff")
    op.drop_table("invite_attempts")
    op.drop_table("invites")
    with op.batch_alter_table("procedures") as batch:
        batch.drop_index("ix_procedures_clinic_id")
        batch.drop_constraint("fk_procedures_clinic_id", type_="foreignkey")
        batch.drop_column("reference")
        batch.drop_column("clinic_id")
        batch.alter_column("user_id", existing_type=sa.BigInteger(), nullable=False)
    op.drop_table("clinic_tokens")
    op.drop_table("clinics")
