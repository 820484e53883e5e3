"""The send budget shared by every instance on one database: a token bucket row per bot.

One statement per acquisition: the bucket is refilled for the time since its last use, and one
token taken if enough are left and no 429 pause is running. Sends that can wait (reminders) take
only while `keep` tokens stay for replies to patients who are waiting.
"""

from __future__ import annotations

from sqlalchemy import and_, case, exc, insert, update
from sqlalchemy.engine import Connection

from bot.db.tables import SEND_BUDGET


class SharedBucket:
    """The bucket rows, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def take(self, key: str, now: float, *, rate: float, capacity: float, keep: float = 0.0) -> float:
        """Take one token from the bucket `key` at `now` (seconds since the epoch): 0.0 if taken,
        else the seconds to wait before trying again."""
        t = SEND_BUDGET
        refill = case((t.c.updated < now, (now - t.c.updated) * rate), else_=0.0)
        level = case((t.c.tokens + refill > capacity, capacity), else_=t.c.tokens + refill)
        go = and_(level >= 1 + keep, t.c.paused_until <= now)
        statement = (
            update(t)
            .where(t.c.key == key)
            .values(
                tokens=level - case((go, 1.0), else_=0.0),
                updated=case((t.c.updated < now, now), else_=t.c.updated),
                took=case((go, 1), else_=0),
            )
            .returning(t.c.took, t.c.tokens, t.c.paused_until)
        )
        row = self.conn.execute(statement).first()
        if row is None:  # the first acquisition ever: a full bucket, less this token
            self._create(key, now, capacity)
            return 0.0
        if row.took:
            return 0.0
        if row.paused_until > now:
            return float(row.paused_until - now)
        return max(0.001, (1 + keep - float(row.tokens)) / rate)

    def _create(self, key: str, now: float, capacity: float) -> None:
        values = {"key": key, "tokens": capacity - 1, "updated": now, "paused_until": 0.0, "took": 1}
        try:
            with self.conn.begin_nested():  # another instance may create it at the same moment
                self.conn.execute(insert(SEND_BUDGET).values(**values))
        except exc.IntegrityError:
            pass  # then this acquisition is free: one token over the budget, once in the bucket's life

    def pause(self, key: str, until: float) -> None:
        """Telegram said "retry after": no instance takes a token before `until`."""
        t = SEND_BUDGET
        self.conn.execute(
            update(t)
            .where(t.c.key == key)
            .values(paused_until=case((t.c.paused_until < until, until), else_=t.c.paused_until))
        )
