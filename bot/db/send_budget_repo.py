"""The send budget shared by every instance on one database: a token bucket row per bot.

One statement per acquisition: the bucket is refilled for the time since its last use, and one
turn taken if no 429 pause is running; the turn may be a little ahead of the refill, and its
taker waits for it (`take`). Sends that can wait (reminders) take none while a reply to a
waiting patient is owed one: a reply that has to wait holds them back until its turn.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, exc, insert, update
from sqlalchemy.engine import Connection

from bot.db.tables import SEND_BUDGET

REPLY_HOLD = 0.5  # seconds reminders hold back after a reply found no turn
BACKGROUND_AHEAD = 2.0  # a reminder's turn is at most this many tokens ahead of the refill
REPLY_AHEAD = 30.0  # a reply's (about a second at 29/s)


class SharedBucket:
    """The bucket rows, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def take(
        self, key: str, now: float, *, rate: float, capacity: float, background: bool = False
    ) -> tuple[bool, float]:
        """Reserve the next turn of the bucket `key` at `now` (seconds since the epoch).

        The bucket may run into debt: a turn is taken before its token has refilled, and its
        taker waits until it has. (True, wait): the turn is this caller's, to send after `wait`
        seconds (0.0: at once). (False, wait): no turn, ask again after `wait` seconds. Taking
        turns ahead, instead of asking until a token is there, wastes none of the rate while
        the askers are busy elsewhere. Sends that can wait run at most BACKGROUND_AHEAD turns
        ahead, so a reply is never queued behind more than that; a reply up to REPLY_AHEAD.
        """
        t = SEND_BUDGET
        refill = case((t.c.updated < now, (now - t.c.updated) * rate), else_=0.0)
        level = case((t.c.tokens + refill > capacity, capacity), else_=t.c.tokens + refill)
        go = and_(level - 1 >= -(BACKGROUND_AHEAD if background else REPLY_AHEAD), t.c.paused_until <= now)
        if background:
            go = and_(go, t.c.replies_waiting_until <= now)
        statement = (
            update(t)
            .where(t.c.key == key)
            .values(
                tokens=level - case((go, 1.0), else_=0.0),
                updated=case((t.c.updated < now, now), else_=t.c.updated),
                took=case((go, 1), else_=0),
                replies_waiting_until=self._replies_waiting(go, level, now, rate, background),
            )
            .returning(t.c.took, t.c.tokens, t.c.updated, t.c.paused_until, t.c.replies_waiting_until)
        )
        row = self.conn.execute(statement).first()
        if row is None:  # the first acquisition ever: a full bucket, less this token
            if self._create(key, now, capacity):
                return True, 0.0
            row = self.conn.execute(statement).first()  # another instance created it just now
            assert row is not None
        tokens = float(row.tokens)
        # The level is as of `updated`, which another instance may have set a little after this
        # one's `now` (it read its clock later, or this statement waited for its lock).
        behind = max(0.0, float(row.updated) - now)
        if row.took:
            return True, max(0.0, behind - tokens / rate)  # the token this turn took has refilled then
        if row.paused_until > now:
            return False, float(row.paused_until - now)
        limit = BACKGROUND_AHEAD if background else REPLY_AHEAD
        wait = max(0.001, behind + (1 - limit - tokens) / rate)  # until the debt is within the limit
        if background and row.replies_waiting_until > now:
            wait = max(wait, min(float(row.replies_waiting_until - now), 1 / rate))
        return False, wait

    @staticmethod
    def _replies_waiting(
        go: ColumnElement[bool], level: ColumnElement[float], now: float, rate: float, background: bool
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

    def _create(self, key: str, now: float, capacity: float) -> bool:
        """Create the bucket with this acquisition's token taken; False if another instance did."""
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
            return False
        return True

    def pause(self, key: str, until: float) -> None:
        """Telegram said "retry after": no instance takes a token before `until`."""
        t = SEND_BUDGET
        self.conn.execute(
            update(t)
            .where(t.c.key == key)
            .values(paused_until=case((t.c.paused_until < until, until), else_=t.c.paused_until))
        )
