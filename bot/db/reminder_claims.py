"""Giving back the reminders a sender claimed but will not send (it is shutting down)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import Connection

from bot.db.tables import REMINDERS


class ReminderClaims:
    """The claims one sender holds, over the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def release(self, sender: str) -> int:
        """Put this sender's claimed rows back to pending, due as before; their claim was no attempt."""
        result = self.conn.execute(
            update(REMINDERS)
            .where(REMINDERS.c.status == "sending", REMINDERS.c.claimed_by == sender)
            .values(status="pending", lease_until=None, claimed_by=None, attempts=REMINDERS.c.attempts - 1)
        )
        return int(result.rowcount)
