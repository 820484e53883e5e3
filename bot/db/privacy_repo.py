"""A patient's own data: everything kept under their Telegram id, read out (/mydata) or deleted
(/forget) inside the caller's transaction.

Every table that holds a user or chat id is named here. A clinic's booking stays the clinic's:
its row is kept without the Telegram link, so the clinic still sees its appointment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Connection

from bot.db.tables import (
    CHECKINS,
    CLINICS,
    COMPANIONS,
    INVITE_ATTEMPTS,
    INVITES,
    PROCEDURES,
    REMINDERS,
    SAFETY_EVENTS,
    STAFF,
    USERS,
)


@dataclass(frozen=True)
class KeptProcedure:
    """A procedure of the patient's, with the name of its clinic (empty: none set)."""

    id: int
    starts_at: dt.datetime
    timezone: str
    status: str
    source: str
    clinic: str
    reference: str | None


@dataclass(frozen=True)
class KeptReminder:
    """A reminder planned for the patient, and what became of it."""

    procedure_id: int
    key: str
    due_at: dt.datetime
    about_at: dt.datetime  # the moment it is about (the fasting cut-off...), named in its title
    status: str
    acknowledged_at: dt.datetime | None


@dataclass(frozen=True)
class KeptCheckin:
    """A check-in the patient answered."""

    procedure_id: int
    key: str
    pain: int | None
    signs: tuple[str, ...] | None
    comment: str | None
    answered_at: dt.datetime


@dataclass(frozen=True)
class KeptSign:
    """A warning sign the patient reported."""

    sign: str
    reported_at: dt.datetime
    procedure_id: int | None


@dataclass
class KeptData:
    """Everything the bot keeps under one Telegram id."""

    user_id: int
    chat_id: int | None = None
    locale: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    reminders_paused: bool = False
    created_at: dt.datetime | None = None
    procedures: list[KeptProcedure] = field(default_factory=list)
    reminders: list[KeptReminder] = field(default_factory=list)
    checkins: list[KeptCheckin] = field(default_factory=list)
    signs: list[KeptSign] = field(default_factory=list)
    invites_opened: list[tuple[int, dt.datetime | None]] = field(default_factory=list)  # procedure, when
    wrong_invite_tries: int = 0
    staff_of_clinic: int | None = None
    # As a companion: the procedures they accompany (id, start, zone) and when they joined.
    companion_of: list[tuple[KeptProcedure, dt.datetime]] = field(default_factory=list)
    companions: list[tuple[int, dt.datetime]] = field(default_factory=list)  # theirs: procedure, joined


def _kept_procedure(r: Any, reference: str | None) -> KeptProcedure:
    """A procedure row (joined with its clinic's settings) as /mydata shows it."""
    name = (r.settings or {}).get("name") or ""
    return KeptProcedure(r.id, r.starts_at, r.timezone, r.status, r.source, name, reference)


class Privacy:
    """Reads out or deletes everything under one Telegram id, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def export(self, user_id: int) -> KeptData:
        """Everything kept about the user, from every table that holds their id."""
        kept = KeptData(user_id)
        user = self.conn.execute(select(USERS).where(USERS.c.user_id == user_id)).first()
        if user is not None:
            kept.chat_id, kept.locale, kept.answers = user.chat_id, user.locale, dict(user.answers or {})
            kept.reminders_paused, kept.created_at = bool(user.reminders_paused), user.created_at
        rows = self.conn.execute(
            select(PROCEDURES, CLINICS.c.settings)
            .outerjoin(CLINICS, CLINICS.c.id == PROCEDURES.c.clinic_id)
            .where(PROCEDURES.c.user_id == user_id)
            .order_by(PROCEDURES.c.id)
        )
        kept.procedures = [_kept_procedure(r, r.reference) for r in rows]
        rows = self.conn.execute(
            select(REMINDERS)
            .where(REMINDERS.c.user_id == user_id)
            .order_by(REMINDERS.c.due_at, REMINDERS.c.id)
        )
        kept.reminders = [
            KeptReminder(r.procedure_id, r.key, r.due_at, r.about_at, r.status, r.acknowledged_at)
            for r in rows
        ]
        rows = self.conn.execute(
            select(CHECKINS).where(CHECKINS.c.user_id == user_id).order_by(CHECKINS.c.id)
        )
        kept.checkins = [
            KeptCheckin(
                r.procedure_id,
                r.key,
                r.pain,
                None if r.signs is None else tuple(r.signs),
                r.comment,
                r.updated_at,
            )
            for r in rows
        ]
        rows = self.conn.execute(
            select(SAFETY_EVENTS).where(SAFETY_EVENTS.c.user_id == user_id).order_by(SAFETY_EVENTS.c.id)
        )
        kept.signs = [KeptSign(r.sign, r.created_at, r.procedure_id) for r in rows]
        rows = self.conn.execute(select(INVITES).where(INVITES.c.used_by == user_id).order_by(INVITES.c.id))
        kept.invites_opened = [(r.procedure_id, r.used_at) for r in rows]
        kept.wrong_invite_tries = len(
            self.conn.execute(select(INVITE_ATTEMPTS.c.id).where(INVITE_ATTEMPTS.c.user_id == user_id)).all()
        )
        rows = self.conn.execute(
            select(PROCEDURES, COMPANIONS.c.joined_at, CLINICS.c.settings)
            .join(COMPANIONS, COMPANIONS.c.procedure_id == PROCEDURES.c.id)
            .outerjoin(CLINICS, CLINICS.c.id == PROCEDURES.c.clinic_id)
            .where(COMPANIONS.c.user_id == user_id)
            .order_by(COMPANIONS.c.id)
        )
        kept.companion_of = [
            (
                _kept_procedure(r, None),
                r.joined_at,
            )
            for r in rows
        ]
        own = [p.id for p in kept.procedures]
        rows = self.conn.execute(
            select(COMPANIONS.c.procedure_id, COMPANIONS.c.joined_at)
            .where(COMPANIONS.c.procedure_id.in_(own))
            .order_by(COMPANIONS.c.id)
        )
        kept.companions = [(r.procedure_id, r.joined_at) for r in rows]
        kept.staff_of_clinic = self.conn.execute(
            select(STAFF.c.clinic_id).where(STAFF.c.user_id == user_id)
        ).scalar_one_or_none()
        return kept

    def forget(self, user_id: int, now: dt.datetime) -> int:
        """Delete everything under the user's id; a clinic's booking loses only its link to them.

        The patient's own procedures go with their reminders and check-ins; a clinic's stays with
        no user. Returns how many rows were deleted or unlinked.
        """
        own = select(PROCEDURES.c.id).where(PROCEDURES.c.user_id == user_id, PROCEDURES.c.source != "clinic")
        own_ids = list(self.conn.execute(own).scalars())
        count = 0
        statements = (
            delete(CHECKINS).where(or_(CHECKINS.c.user_id == user_id, CHECKINS.c.procedure_id.in_(own_ids))),
            delete(SAFETY_EVENTS).where(
                or_(SAFETY_EVENTS.c.user_id == user_id, SAFETY_EVENTS.c.procedure_id.in_(own_ids))
            ),
            delete(REMINDERS).where(
                or_(REMINDERS.c.user_id == user_id, REMINDERS.c.procedure_id.in_(own_ids))
            ),
            delete(INVITES).where(INVITES.c.procedure_id.in_(own_ids)),
            # The clinic's invite stays used (it must not open again), by no one.
            update(INVITES).where(INVITES.c.used_by == user_id).values(used_by=None),
            delete(PROCEDURES).where(PROCEDURES.c.id.in_(own_ids)),
            update(PROCEDURES).where(PROCEDURES.c.user_id == user_id).values(user_id=None, updated_at=now),
            # Their own links as a companion (the service has unlinked their companions already).
            delete(COMPANIONS).where(
                or_(COMPANIONS.c.user_id == user_id, COMPANIONS.c.procedure_id.in_(own_ids))
            ),
            delete(INVITE_ATTEMPTS).where(INVITE_ATTEMPTS.c.user_id == user_id),
            delete(STAFF).where(STAFF.c.user_id == user_id),
            delete(USERS).where(USERS.c.user_id == user_id),
        )
        for statement in statements:
            count += int(self.conn.execute(statement).rowcount)
        return count
