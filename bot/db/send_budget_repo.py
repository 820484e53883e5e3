"""The send budget shared by every instance on one database: a token bucket row per bot.

One statement per acquisition: the bucket is refilled for the time since its last use, and one
token taken if there is one and no 429 pause is running. Sends that can wait (reminders) take
none while a reply to a waiting patient is owed one: a reply that finds the bucket empty marks
it for the next REPLY_HOLD seconds.

Time is the database's own clock (`statement_timestamp()`) unless the caller gives one (tests):
instances whose clocks disagree still agree on the bucket and on a 429's pause.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Float, and_, case, cast, exc, extract, func, insert, literal, update
from sqlalchemy.engine import Connection

from bot.db.tables import SEND_BUDGET

REPLY_HOLD = 0.5  # seconds reminders hold back after a reply found the bucket empty
# What reaching the shared bucket can fail with: the database's errors, the network's, a timeout.
SHARED_BUCKET_ERRORS = (exc.SQLAlchemyError, OSError, TimeoutError)


def _now(now: float | None) -> ColumnElement[float]:
    """The moment of the statement: the caller's, or the database's clock (one value a statement)."""
    if now is not None:
        return literal(now, Float)
    return cast(extract("epoch", func.statement_timestamp()), Float)


class SharedBucket:
    """The bucket rows, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def take(
        self, key: str, now: float | None, *, rate: float, capacity: float, background: bool = False
    ) -> float:
        """Take one token from the bucket `key` at `now` (seconds since the epoch; None: the
        database's clock): 0.0 if taken, else the seconds to wait before trying again."""
        t = SEND_BUDGET
        at = _now(now)
        refill = case((t.c.updated < at, (at - t.c.updated) * rate), else_=0.0)
        level = case((t.c.tokens + refill > capacity, capacity), else_=t.c.tokens + refill)
        go = and_(level >= 1, t.c.paused_until <= at)
        if background:
            go = and_(go, t.c.replies_waiting_until <= at)
        statement = (
            update(t)
            .where(t.c.key == key)
            .values(
                tokens=level - case((go, 1.0), else_=0.0),
                updated=case((t.c.updated < at, at), else_=t.c.updated),
                took=case((go, 1), else_=0),
                replies_waiting_until=self._replies_waiting(go, at, background),
            )
            .returning(t.c.took, t.c.tokens, t.c.paused_until, t.c.replies_waiting_until, at.label("now"))
        )
        row = self.conn.execute(statement).first()
        if row is None:  # the first acquisition ever: a full bucket, less this token
            self._create(key, at, capacity)
            return 0.0
        if row.took:
            return 0.0
        moment = float(row.now)
        if row.paused_until > moment:
            return float(row.paused_until - moment)
        wait = max(0.001, (1 - float(row.tokens)) / rate)
        if background and row.replies_waiting_until > moment:
            wait = max(wait, min(float(row.replies_waiting_until - moment), 1 / rate))
        return wait

    @staticmethod
    def _replies_waiting(
        go: ColumnElement[bool], now: ColumnElement[float], background: bool
    ) -> ColumnElement[float]:
        """A reply that found the bucket empty makes reminders wait until REPLY_HOLD from now; one
        that took a token lets them go again. Reminders leave it as it is."""
        t = SEND_BUDGET
        if background:
            return t.c.replies_waiting_until
        return case(
            (go, now),
            (t.c.replies_waiting_until < now + REPLY_HOLD, now + REPLY_HOLD),
            else_=t.c.replies_waiting_until,
        )

    def _create(self, key: str, now: ColumnElement[float], capacity: float) -> None:
        values = {
            "key": key,
            "tokens": capacity - 1,
            "updated": now,
            "paused_until": 0.0,
            "replies_waiting_until": 0.0,
            "took": 1,
        }
        try:
            with self.conn.begin_nested():  # another instance may create it at the same moment
                self.conn.execute(insert(SEND_BUDGET).values(**values))
        except exc.IntegrityError:
            pass  # then this acquisition is free: one token over the budget, once in the bucket's life

    def pause(self, key: str, seconds: float, now: float | None = None) -> None:
        """Telegram said "retry after" `seconds` at `now` (None: the database's clock): no instance
        takes a token before then."""
        t = SEND_BUDGET
        until = _now(now) + seconds
        self.conn.execute(
            update(t)
            .where(t.c.key == key)
            .values(paused_until=case((t.c.paused_until < until, until), else_=t.c.paused_until))
        )
