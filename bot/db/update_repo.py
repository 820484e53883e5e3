"""Webhook updates some instance already took: Telegram may deliver one again (a timeout, a
restart, another instance behind the load balancer), and it must be handled only once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exc, insert
from sqlalchemy.engine import Connection

from bot.db.tables import PROCESSED_UPDATES

KEEP_FOR = dt.timedelta(days=1)  # Telegram keeps an undelivered update for 24 hours
TRIM_EVERY = 100  # every this many update ids, the claim also forgets ids older than KEEP_FOR


class UpdateTakenError(Exception):
    """This or another instance took the update already; skip it."""


class ProcessedUpdates:
    """Update ids taken, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, update_id: int, now: dt.datetime) -> None:
        """Take the update for this instance, atomically across instances sharing the database.
        UpdateTakenError if it was taken before (roll the transaction back)."""
        try:
            self.conn.execute(insert(PROCESSED_UPDATES).values(update_id=update_id, received_at=now))
        except exc.IntegrityError as error:
            raise UpdateTakenError(update_id) from error
        if update_id % TRIM_EVERY == 0:
            self.trim(now - KEEP_FOR)

    def trim(self, before: dt.datetime) -> int:
        """Forget the ids taken before `before`; how many."""
        result = self.conn.execute(delete(PROCESSED_UPDATES).where(PROCESSED_UPDATES.c.received_at < before))
        return int(result.rowcount)
