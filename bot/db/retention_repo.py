"""A patient's data after their procedure: purged after the clinic's retention, deleted on a
clinic's request, and whether the patient can still be reached. Counts stay for the clinic."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.engine import Connection

from bot.db.companion_repo import Companions
from bot.db.reminder_repo import UNREACHABLE
from bot.db.tables import CHECKINS, INVITE_ATTEMPTS, INVITES, PROCEDURES, REMINDERS, SAFETY_EVENTS, USERS

# A block stopped these reminders but their time passed before the patient came back: not sent.
MISSED = "patient unreachable until after its time"


@dataclass
class Removed:
    """How many rows of each kind were removed (or, for warning signs, unlinked from the patient)."""

    procedures: int = 0
    reminders: int = 0
    checkins: int = 0
    warning_signs: int = 0
    patients: int = 0

    def __iadd__(self, other: Removed) -> Removed:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))
        return self

    def summary(self) -> str:
        """The counts as one line, e.g. `2 procedures, 16 reminders, ...`."""
        return ", ".join(f"{getattr(self, item.name)} {item.name.replace('_', ' ')}" for item in fields(self))


@dataclass(frozen=True)
class ClinicCounts:
    """What a clinic has had, counted; purged procedures and their warning signs included."""

    procedures: int
    scheduled: int
    cancelled: int
    purged: int
    warning_signs: int


class PatientData:
    """Purging, deleting and reachability of patients' data, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def finished(
        self, clinic_id: int, before: dt.datetime, plan_done: dt.datetime
    ) -> list[tuple[int, int | None]]:
        """(procedure, patient) of a clinic's unpurged procedures that started, or were cancelled,
        before `before`, and whose reminders are done: none still to be sent or answered, that
        is with a deadline at or after `plan_done` (cancelled ones do not count, except those a
        block stopped: they may come back)."""
        plan_open = exists().where(
            REMINDERS.c.procedure_id == PROCEDURES.c.id,
            REMINDERS.c.deadline >= plan_done,
            or_(REMINDERS.c.status != "cancelled", REMINDERS.c.outcome == UNREACHABLE),
        )
        rows = self.conn.execute(
            select(PROCEDURES.c.id, PROCEDURES.c.user_id)
            .where(
                PROCEDURES.c.clinic_id == clinic_id,
                PROCEDURES.c.purged_at.is_(None),
                or_(
                    PROCEDURES.c.starts_at < before,
                    and_(PROCEDURES.c.status == "cancelled", PROCEDURES.c.updated_at < before),
                ),
                ~plan_open,
            )
            .order_by(PROCEDURES.c.id)
        )
        return [(row.id, row.user_id) for row in rows]

    def purge(self, procedure_id: int, user_id: int | None, now: dt.datetime) -> Removed:
        """Remove a procedure's patient data; the procedure and its signs stay, unlinked, to be counted."""
        Companions(self.conn).remove_all([procedure_id])
        removed = self._remove_plan(procedure_id)
        removed.warning_signs = self._count(
            update(SAFETY_EVENTS).where(SAFETY_EVENTS.c.procedure_id == procedure_id).values(user_id=None)
        )
        self.conn.execute(delete(INVITES).where(INVITES.c.procedure_id == procedure_id))
        removed.procedures = self._count(
            update(PROCEDURES)
            .where(PROCEDURES.c.id == procedure_id)
            .values(user_id=None, planned_with=None, unreachable_at=None, purged_at=now)
        )
        removed.patients = self._forget_if_alone(user_id)
        return removed

    def delete(self, procedure_id: int, user_id: int | None) -> Removed:
        """Remove a procedure and every record of it; its patient too, if this was their only one."""
        Companions(self.conn).remove_all([procedure_id])
        removed = self._remove_plan(procedure_id)
        removed.warning_signs = self._count(
            delete(SAFETY_EVENTS).where(SAFETY_EVENTS.c.procedure_id == procedure_id)
        )
        self.conn.execute(delete(INVITES).where(INVITES.c.procedure_id == procedure_id))
        removed.procedures = self._count(delete(PROCEDURES).where(PROCEDURES.c.id == procedure_id))
        removed.patients = self._forget_if_alone(user_id)
        return removed

    def _remove_plan(self, procedure_id: int) -> Removed:
        return Removed(
            checkins=self._count(delete(CHECKINS).where(CHECKINS.c.procedure_id == procedure_id)),
            reminders=self._count(delete(REMINDERS).where(REMINDERS.c.procedure_id == procedure_id)),
        )

    def _forget_if_alone(self, user_id: int | None) -> int:
        """Delete a patient's answers, place and chat, unless another procedure still has them."""
        if user_id is None:
            return 0
        others = self.conn.execute(select(func.count()).where(PROCEDURES.c.user_id == user_id)).scalar_one()
        if others:
            return 0
        self.conn.execute(delete(INVITE_ATTEMPTS).where(INVITE_ATTEMPTS.c.user_id == user_id))
        self.conn.execute(update(INVITES).where(INVITES.c.used_by == user_id).values(used_by=None))
        # Their signs outside any procedure go with them (the foreign key cascades).
        return self._count(delete(USERS).where(USERS.c.user_id == user_id))

    def mark_unreachable(self, user_id: int, now: dt.datetime) -> int:
        """The patient blocked the bot: their pending reminders stop and their procedures say so;
        returns how many reminders stopped."""
        self.conn.execute(
            update(PROCEDURES)
            .where(PROCEDURES.c.user_id == user_id, PROCEDURES.c.unreachable_at.is_(None))
            .values(unreachable_at=now)
        )
        return self._count(
            update(REMINDERS)
            .where(REMINDERS.c.user_id == user_id, REMINDERS.c.status == "pending")
            .values(status="cancelled", outcome=UNREACHABLE)
        )

    def unreachable(self, user_id: int) -> bool:
        """Whether the patient is marked as having blocked the bot."""
        found = self.conn.execute(
            select(PROCEDURES.c.id)
            .where(PROCEDURES.c.user_id == user_id, PROCEDURES.c.unreachable_at.is_not(None))
            .limit(1)
        ).first()
        return found is not None

    def resume_stopped(self, user_id: int, now: dt.datetime) -> tuple[int, int]:
        """The patient is back: the reminders their block stopped come back, those still to come
        and of a procedure still scheduled; the rest are marked missed, never sent late.
        Returns (back, missed)."""
        scheduled = select(PROCEDURES.c.id).where(
            PROCEDURES.c.user_id == user_id, PROCEDURES.c.status == "scheduled"
        )
        stopped = [
            REMINDERS.c.user_id == user_id,
            REMINDERS.c.status == "cancelled",
            REMINDERS.c.outcome == UNREACHABLE,
        ]
        back = self._count(
            update(REMINDERS)
            .where(*stopped, REMINDERS.c.due_at > now, REMINDERS.c.procedure_id.in_(scheduled))
            .values(status="pending", outcome=None, next_attempt_at=REMINDERS.c.due_at, lease_until=None)
        )
        missed = self._count(update(REMINDERS).where(*stopped).values(outcome=MISSED))
        return back, missed

    def mark_reachable(self, user_id: int) -> int:
        """The patient unblocked the bot: their procedures are reachable again; returns how many."""
        return self._count(
            update(PROCEDURES)
            .where(PROCEDURES.c.user_id == user_id, PROCEDURES.c.unreachable_at.is_not(None))
            .values(unreachable_at=None)
        )

    def counts(self, clinic_id: int) -> ClinicCounts:
        """A clinic's procedures by state, and the warning signs reported under them."""
        status = {
            row.status: row.n
            for row in self.conn.execute(
                select(PROCEDURES.c.status, func.count().label("n"))
                .where(PROCEDURES.c.clinic_id == clinic_id)
                .group_by(PROCEDURES.c.status)
            )
        }
        purged = self.conn.execute(
            select(func.count()).where(
                PROCEDURES.c.clinic_id == clinic_id, PROCEDURES.c.purged_at.is_not(None)
            )
        ).scalar_one()
        signs = self.conn.execute(
            select(func.count())
            .select_from(SAFETY_EVENTS.join(PROCEDURES, PROCEDURES.c.id == SAFETY_EVENTS.c.procedure_id))
            .where(PROCEDURES.c.clinic_id == clinic_id)
        ).scalar_one()
        return ClinicCounts(
            sum(status.values()), status.get("scheduled", 0), status.get("cancelled", 0), purged, signs
        )

    def _count(self, statement: object) -> int:
        return int(self.conn.execute(statement).rowcount)  # type: ignore[call-overload]
