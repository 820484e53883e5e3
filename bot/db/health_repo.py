"""What readiness and metrics read from the database: that it answers, and the reminders' counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, literal, select
from sqlalchemy.engine import Connection

from bot.db.tables import REMINDERS

WAITING = ("pending", "sending")  # not yet sent, skipped, failed or cancelled


@dataclass(frozen=True)
class ReminderCounts:
    """How many reminders have each status, and how many waiting ones are late."""

    by_status: dict[str, int]
    overdue: int

    @property
    def pending(self) -> int:
        """Reminders still to send (claimed ones included)."""
        return sum(self.by_status.get(status, 0) for status in WAITING)


class HealthQueries:
    """Read-only checks over the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ping(self) -> bool:
        """A trivial query: the database answers."""
        return self.conn.execute(select(literal(1))).scalar_one() == 1

    def reminder_counts(self, overdue_before: dt.datetime) -> ReminderCounts:
        """Counts by status; overdue: waiting reminders that were due before `overdue_before`."""
        rows = self.conn.execute(select(REMINDERS.c.status, func.count()).group_by(REMINDERS.c.status)).all()
        overdue = self.conn.execute(
            select(func.count()).where(
                REMINDERS.c.status.in_(WAITING), REMINDERS.c.next_attempt_at < overdue_before
            )
        ).scalar_one()
        return ReminderCounts({str(status): int(count) for status, count in rows}, int(overdue))
