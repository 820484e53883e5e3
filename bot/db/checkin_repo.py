"""Check-in answers: the pain score, the warning-sign screen and the comment of each check-in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from bot.db.reminder_repo import PRESSABLE
from bot.db.tables import CHECKINS, REMINDERS
from flows.outcome import CheckinTarget  # the check-in a press or comment is about


@dataclass(frozen=True)
class CheckinView:
    """One check-in as the patient's chart and the clinic see it."""

    reminder_id: int
    key: str
    due_at: dt.datetime
    pain: int | None
    signs: tuple[str, ...] | None
    comment: str | None
    answered_at: dt.datetime


class Checkins:
    """Reads and writes check-in answers inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def target(self, reminder_id: int, user_id: int, keys: frozenset[str]) -> CheckinTarget | None:
        """The patient's own sent check-in reminder with that id; None for anyone else's or unknown."""
        row = self.conn.execute(
            select(REMINDERS.c.id, REMINDERS.c.procedure_id, REMINDERS.c.key, REMINDERS.c.due_at).where(
                REMINDERS.c.id == reminder_id,
                REMINDERS.c.user_id == user_id,
                REMINDERS.c.status.in_(PRESSABLE),
                REMINDERS.c.key.in_(sorted(keys)),
            )
        ).first()
        return None if row is None else CheckinTarget(row.id, row.procedure_id, row.key, row.due_at)

    def _ensure(self, target: CheckinTarget, user_id: int, now: dt.datetime) -> None:
        exists = self.conn.execute(
            select(CHECKINS.c.id).where(CHECKINS.c.reminder_id == target.reminder_id)
        ).first()
        if exists is None:
            self.conn.execute(
                insert(CHECKINS).values(
                    reminder_id=target.reminder_id,
                    procedure_id=target.procedure_id,
                    user_id=user_id,
                    key=target.key,
                    created_at=now,
                    updated_at=now,
                )
            )

    def set_pain(self, target: CheckinTarget, user_id: int, pain: int, now: dt.datetime) -> None:
        """Record (or correct) the pain score of a check-in."""
        self._ensure(target, user_id, now)
        self._set(target, now, pain=pain)

    def add_sign(self, target: CheckinTarget, user_id: int, sign: str | None, now: dt.datetime) -> None:
        """Record a sign from the screen; None records "none of these" (keeping any sign tapped before)."""
        self._ensure(target, user_id, now)
        current = self.conn.execute(
            select(CHECKINS.c.signs).where(CHECKINS.c.reminder_id == target.reminder_id)
        ).scalar_one()
        signs = list(current or [])
        if sign is not None and sign not in signs:
            signs.append(sign)
        self._set(target, now, signs=signs)

    def set_comment(self, target: CheckinTarget, user_id: int, comment: str, now: dt.datetime) -> None:
        """Keep the patient's comment for the clinic (the latest one wins)."""
        self._ensure(target, user_id, now)
        self._set(target, now, comment=comment)

    def _set(self, target: CheckinTarget, now: dt.datetime, **values: object) -> None:
        self.conn.execute(
            update(CHECKINS)
            .where(CHECKINS.c.reminder_id == target.reminder_id)
            .values(updated_at=now, **values)
        )

    def previous_pain(self, target: CheckinTarget) -> int | None:
        """The pain score of the procedure's last earlier check-in that has one."""
        pain: int | None = self.conn.execute(
            select(CHECKINS.c.pain)
            .join(REMINDERS, REMINDERS.c.id == CHECKINS.c.reminder_id)
            .where(
                CHECKINS.c.procedure_id == target.procedure_id,
                CHECKINS.c.pain.is_not(None),
                REMINDERS.c.due_at < target.due_at,
            )
            .order_by(REMINDERS.c.due_at.desc())
            .limit(1)
        ).scalar_one_or_none()
        return pain

    def latest_procedure(self, user_id: int) -> int | None:
        """The newest procedure the user answered check-ins for."""
        found: int | None = self.conn.execute(
            select(func.max(CHECKINS.c.procedure_id)).where(CHECKINS.c.user_id == user_id)
        ).scalar_one_or_none()
        return found

    def for_procedure(self, procedure_id: int) -> list[CheckinView]:
        """Every check-in answered for a procedure, in the order they were due."""
        rows = self.conn.execute(
            select(
                CHECKINS.c.reminder_id,
                CHECKINS.c.key,
                REMINDERS.c.due_at,
                CHECKINS.c.pain,
                CHECKINS.c.signs,
                CHECKINS.c.comment,
                CHECKINS.c.updated_at,
            )
            .join(REMINDERS, REMINDERS.c.id == CHECKINS.c.reminder_id)
            .where(CHECKINS.c.procedure_id == procedure_id)
            .order_by(REMINDERS.c.due_at, CHECKINS.c.id)
        )
        return [
            CheckinView(
                row.reminder_id,
                row.key,
                row.due_at,
                row.pain,
                None if row.signs is None else tuple(row.signs),
                row.comment,
                row.updated_at,
            )
            for row in rows
        ]
