"""The database tables. Times are stored as naive UTC and read back as aware UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from flows.models import MAX_REFERENCE, MAX_SLUG, MAX_TOKEN_LABEL


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        # SQLite compares times as text: one format, no offset, so the order is right.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of all tables."""


class UserRow(Base):
    """A patient: chat, language and place in the flows. No names, no message texts."""

    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    locale: Mapped[str] = mapped_column(String(8))
    flow: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(41))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Bumped by every write, so a writer holding an outdated copy is caught, not obeyed.
    version: Mapped[int] = mapped_column(Integer, default=1)
    reminders_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SafetyEventRow(Base):
    """A warning sign a patient reported: which sign and when, never their words."""

    __tablename__ = "safety_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # None once the procedure's data was purged: the sign still counts for the clinic.
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.user_id", ondelete="CASCADE"), index=True, nullable=True
    )
    sign: Mapped[str] = mapped_column(String(40))
    # The procedure it was reported under, so only that procedure's clinic sees it.
    procedure_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    flow: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(41))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # Who of the clinic marked it handled on the web page, and when (None: not yet).
    handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    handled_by_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    handled_by_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ProcedureRow(Base):
    """A patient's procedure: when, in which zone, from whom (the patient or a clinic)."""

    __tablename__ = "procedures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # None until the patient opens the clinic's invite.
    user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.user_id", ondelete="CASCADE"), index=True, nullable=True
    )
    clinic_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey("clinics.id", ondelete="CASCADE", name="fk_procedures_clinic_id"),
        index=True,
        nullable=True,
    )
    reference: Mapped[str | None] = mapped_column(
        String(MAX_REFERENCE), nullable=True
    )  # the clinic's own; no names
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # scheduled | cancelled
    source: Mapped[str] = mapped_column(String(16))  # patient | clinic
    # The clinic settings its reminders were planned with: their texts name those times.
    planned_with: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # When the patient blocked the bot (None: reachable); the clinic sees it.
    unreachable_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # When its patient's data was removed after the clinic's retention; the row stays, to be counted.
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ReminderRow(Base):
    """One planned message: when it is due, until when it may go, and what became of it."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_claim", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("procedures.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    key: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(80))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    about_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # pending | sending | sent | skipped | failed | cancelled
    status: Mapped[str] = mapped_column(String(16))
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(16), nullable=True)  # the sender holding the lease
    outcome: Mapped[str | None] = mapped_column(String(120), nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CheckinRow(Base):
    """A patient's answers to one check-in after the procedure: pain 0-10, warning signs, a comment."""

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reminder_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("reminders.id", ondelete="CASCADE"), unique=True
    )
    procedure_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("procedures.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    key: Mapped[str] = mapped_column(String(40))  # the plan entry: day_after, day_two, week_after...
    pain: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Sign ids the patient tapped; [] = "none of these"; None = the screen is not answered yet.
    signs: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # The patient's own words for their clinic: stored for the clinic, never logged.
    comment: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


USERS = cast(Table, UserRow.__table__)
SAFETY_EVENTS = cast(Table, SafetyEventRow.__table__)
PROCEDURES = cast(Table, ProcedureRow.__table__)
REMINDERS = cast(Table, ReminderRow.__table__)
CHECKINS = cast(Table, CheckinRow.__table__)


class ClinicRow(Base):
    """A clinic and its own settings (the ClinicSettings model, as JSON)."""

    __tablename__ = "clinics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(MAX_SLUG), unique=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ClinicTokenRow(Base):
    """An API token of a clinic, kept only as its SHA-256."""

    __tablename__ = "clinic_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    clinic_id: Mapped[int] = mapped_column(Integer, ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(MAX_TOKEN_LABEL))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class InviteRow(Base):
    """A single-use invite to a procedure, kept only as the SHA-256 of its token."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("procedures.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # patient: links its patient (the clinic hands it out); companion: the patient forwards it.
    role: Mapped[str] = mapped_column(String(16), server_default="patient")


class CompanionRow(Base):
    """Someone the patient invited to drive them home: a Telegram account linked to a procedure."""

    __tablename__ = "companions"
    __table_args__ = (UniqueConstraint("procedure_id", "user_id", name="uq_companions_procedure_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("procedures.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.user_id", ondelete="CASCADE"), index=True
    )
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class InviteAttemptRow(Base):
    """A failed invite redemption, to slow down anyone guessing tokens."""

    __tablename__ = "invite_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class StaffRow(Base):
    """A Telegram account approved as staff of a clinic."""

    __tablename__ = "staff"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    clinic_id: Mapped[int] = mapped_column(Integer, ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    approved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class StaffCodeRow(Base):
    """A one-time code an admin gives a staff member, kept only as its SHA-256."""

    __tablename__ = "staff_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    clinic_id: Mapped[int] = mapped_column(Integer, ForeignKey("clinics.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebSignInRow(Base):
    """A one-time sign-in link to the clinic web page, kept only as its SHA-256."""

    __tablename__ = "web_signins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    clinic_id: Mapped[int] = mapped_column(Integer, ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    # The staff account it signs in; None: the operator (`vertebrobot staff link`).
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class WebSessionRow(Base):
    """A live session of the clinic web page, kept only as the SHA-256 of its random id: signing
    out (or the staff member's removal) deletes it, so a copied cookie is refused from then on."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    clinic_id: Mapped[int] = mapped_column(Integer, ForeignKey("clinics.id", ondelete="CASCADE"), index=True)
    # Who signed in: a staff account; None: the operator (`vertebrobot staff link`).
    user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AuditRow(Base):
    """Who did what to which procedure, and when: ids and times only, never names or texts."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_clinic_at", "clinic_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    clinic_id: Mapped[int] = mapped_column(Integer, ForeignKey("clinics.id", ondelete="CASCADE"))
    actor_kind: Mapped[str] = mapped_column(String(16))  # token | staff | operator | system
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    action: Mapped[str] = mapped_column(String(24))
    procedure_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # kept after a deletion
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ProcessedUpdateRow(Base):
    """A webhook update some instance took: the id alone, so a redelivery is skipped."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class SendBudgetRow(Base):
    """The send budget every instance shares (a token bucket per bot): times are seconds since
    the epoch on the instances' clocks."""

    __tablename__ = "send_budget"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)
    paused_until: Mapped[float] = mapped_column(Float)
    replies_waiting_until: Mapped[float] = mapped_column(Float)  # reminders hold back till then
    took: Mapped[int] = mapped_column(Integer)  # whether the last acquisition took a token


class BotSettingRow(Base):
    """One thing the bot learned about itself (its Telegram username), kept across restarts."""

    __tablename__ = "bot_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


CLINICS = cast(Table, ClinicRow.__table__)
CLINIC_TOKENS = cast(Table, ClinicTokenRow.__table__)
INVITES = cast(Table, InviteRow.__table__)
COMPANIONS = cast(Table, CompanionRow.__table__)
INVITE_ATTEMPTS = cast(Table, InviteAttemptRow.__table__)
STAFF = cast(Table, StaffRow.__table__)
STAFF_CODES = cast(Table, StaffCodeRow.__table__)
AUDIT_LOG = cast(Table, AuditRow.__table__)
PROCESSED_UPDATES = cast(Table, ProcessedUpdateRow.__table__)
SEND_BUDGET = cast(Table, SendBudgetRow.__table__)
BOT_SETTINGS = cast(Table, BotSettingRow.__table__)
WEB_SIGNINS = cast(Table, WebSignInRow.__table__)
WEB_SESSIONS = cast(Table, WebSessionRow.__table__)
