"""The send budget shared by every instance on one database: a token bucket row per bot.

One statement per acquisition: the bucket is refilled for the time since its last use, and one
turn taken if no 429 pause is running; the turn may be a little ahead of the refill, and its
taker waits for it (`take`). Sends that can wait (reminders) take none while a reply to a
waiting patient is owed one: a reply that has to wait holds them back until its turn.

Time is the database's own clock (`statement_timestamp()`) unless the caller gives one (tests):
instances whose clocks disagree still agree on the bucket and on a 429's pause.
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

from sqlalchemy import ColumnElement, Float, and_, case, cast, exc, extract, func, insert, literal, update
from sqlalchemy.engine import Connection

from bot.db.tables import SEND_BUDGET

REPLY_HOLD = 0.5  # seconds reminders hold back after a reply found no turn
BACKGROUND_AHEAD = 2.0  # a reminder's turn is at most this many tokens ahead of the refill
REPLY_AHEAD = 30.0  # a reply's (about a second at 29/s)
# What reaching the shared bucket can fail with: the database's errors, the network's, a timeout.
SHARED_BUCKET_ERRORS = (exc.SQLAlchemyError, OSError, TimeoutError)


class Turn(NamedTuple):
    """What `take` answers: whether the turn is the caller's, how long after `moment` to send
    (or to ask again), and the statement's moment on the bucket's clock."""

    taken: bool
    wait: float
    moment: float


def _now(now: float | None) -> ColumnElement[float]:
    """The moment of the statement: the caller's, or the database's clock (one value a statement)."""
    if now is not None:
        return literal(now, Float)
    return cast(extract("epoch", func.statement_timestamp()), Float)


def _level(at: ColumnElement[float], rate: float, capacity: float) -> ColumnElement[float]:
    """The bucket's tokens at `at`: refilled at `rate` since its last use, at most `capacity`."""
    t = SEND_BUDGET
    refill = case((t.c.updated < at, (at - t.c.updated) * rate), else_=0.0)
    return case((t.c.tokens + refill > capacity, capacity), else_=t.c.tokens + refill)


class SharedBucket:
    """The bucket rows, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def take(
        self, key: str, now: float | None, *, rate: float, capacity: float, background: bool = False
    ) -> Turn:
        """Reserve the next turn of the bucket `key` at `now` (seconds since the epoch; None: the
        database's clock).

        The bucket may run into debt: a turn is taken before its token has refilled, and its
        taker waits until it has. (True, wait, moment): the turn is this caller's, to send `wait`
        seconds after the statement's `moment` (0.0: at once). (False, wait, moment): no turn,
        ask again after `wait` seconds. Taking
        turns ahead, instead of asking until a token is there, wastes none of the rate while
        the askers are busy elsewhere. Sends that can wait run at most BACKGROUND_AHEAD turns
        ahead, so a reply is never queued behind more than that; a reply up to REPLY_AHEAD.
        """
        t = SEND_BUDGET
        at = _now(now)
        level = _level(at, rate, capacity)
        ahead = BACKGROUND_AHEAD if background else REPLY_AHEAD
        go = and_(level - 1 >= -ahead, t.c.paused_until <= at)
        if background:
            go = and_(go, t.c.replies_waiting_until <= at)
        statement = (
            update(t)
            .where(t.c.key == key)
            .values(
                tokens=level - case((go, 1.0), else_=0.0),
                updated=case((t.c.updated < at, at), else_=t.c.updated),
                took=case((go, 1), else_=0),
                replies_waiting_until=self._replies_waiting(go, level, at, rate, background),
            )
            .returning(
                t.c.took,
                t.c.tokens,
                t.c.updated,
                t.c.paused_until,
                t.c.replies_waiting_until,
                at.label("now"),
            )
        )
        row = self.conn.execute(statement).first()
        if row is None:  # the first acquisition ever: a full bucket, less this token
            created = self._create(key, at, capacity)
            if created is not None:
                return Turn(True, 0.0, created)
            row = self.conn.execute(statement).first()  # another instance created it just now
            assert row is not None
        moment, tokens = float(row.now), float(row.tokens)
        # The level is as of `updated`, which another instance may have set a little after this
        # statement's moment (it read its clock later, or this statement waited for its lock).
        behind = max(0.0, float(row.updated) - moment)
        if row.took:
            return Turn(True, max(0.0, behind - tokens / rate), moment)  # its token has refilled then
        if row.paused_until > moment:
            return Turn(False, float(row.paused_until - moment), moment)
        wait = max(0.001, behind + (1 - ahead - tokens) / rate)  # until the debt is within the limit
        if background and row.replies_waiting_until > moment:
            wait = max(wait, min(float(row.replies_waiting_until - moment), 1 / rate))
        return Turn(False, wait, moment)

    @staticmethod
    def _replies_waiting(
        go: ColumnElement[bool],
        level: ColumnElement[float],
        now: ColumnElement[float],
        rate: float,
        background: bool,
    ) -> ColumnElement[float]:
        """A reply that has to wait for its turn holds reminders back until that turn has come,
        so none is reserved in front of the next reply; reminders leave it as it is."""
        t = SEND_BUDGET
        if background:
            return t.c.replies_waiting_until
        as_of = case((t.c.updated < now, now), else_=t.c.updated)  # the moment `level` is for
        turn_at = as_of + (1 - level) / rate  # when the token this reply takes has refilled
        return case(
            (and_(go, level < 1, t.c.replies_waiting_until < turn_at), turn_at),
            (and_(~go, t.c.replies_waiting_until < now + REPLY_HOLD), now + REPLY_HOLD),
            else_=t.c.replies_waiting_until,
        )

    def _create(self, key: str, now: ColumnElement[float], capacity: float) -> float | None:
        """Create the bucket with this acquisition's token taken, and answer its moment; None if
        another instance did."""
        values = {
            "key": key,
            "tokens": capacity - 1,
            "updated": now,
            "paused_until": 0.0,
            "replies_waiting_until": 0.0,
            "took": 1,
        }
        statement = insert(SEND_BUDGET).values(**values).returning(SEND_BUDGET.c.updated)
        alone = self.conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        # Another instance may create it at the same moment: inside a transaction, a savepoint
        # keeps that failure from aborting the rest; a statement on its own aborts nothing.
        try:
            with contextlib.nullcontext() if alone else self.conn.begin_nested():
                moment = self.conn.execute(statement).scalar_one()
        except exc.IntegrityError:
            return None
        return float(moment)

    def spend(self, key: str, now: float | None, *, rate: float, capacity: float) -> None:
        """Take one token of the bucket `key` at `now` for no send (the bucket goes one turn further
        into debt, whatever its level): a send that reached Telegram late is made up for."""
        t = SEND_BUDGET
        at = _now(now)
        self.conn.execute(
            update(t)
            .where(t.c.key == key)
            .values(
                tokens=_level(at, rate, capacity) - 1.0,
                updated=case((t.c.updated < at, at), else_=t.c.updated),
            )
        )

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
