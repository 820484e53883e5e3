"""Staying within Telegram's sending limits, for everything the bot sends.

Telegram answers 429 beyond about 30 messages a second per bot, and beyond about one a second
in one chat. Every call that sends (replies, edits, callback answers, documents, reminders,
notices, staff alerts) takes a turn here first:

- `SendBudget`: one process. A sliding one-second window holds at most `rate` sends; sends that
  can wait (reminders, `background=True`) leave `reserve` of them (one) for replies, and wait
  while a reply is waiting. A reminder keeps `chat_interval` (a second) from the chat's last
  message. A reply is not held for its chat: updates are handled one after another, so holding
  one patient's reply would hold every patient's (one action is one message, see flows/render.py
  `fold`; a second within the second meets Telegram's tolerance of short bursts or a 429). A 429
  pauses everyone for its retry_after.
- `SharedSendBudget`: several instances on one PostgreSQL database. The same, and the bot-wide
  rate is a token bucket row every instance takes from (bot/db/send_budget_repo.py): a reply
  that finds it empty holds every instance's reminders back; a 429 seen by one instance pauses
  all of them. Chats are spaced by the instance that sends to them. A send answered late may
  have reached Telegram late, bunched with later ones: a turn is spent to make up (`sent`). A
  database that is slow or down does not lose a send: after a bounded wait the instance falls
  back to an in-process budget at its share of the rate for a while.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.db.send_budget_repo import SHARED_BUCKET_ERRORS, Turn
from bot.db.store import Store, Transaction

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")
LATE = 0.025  # seconds after its moment a shared turn is given up (see SharedSendBudget)
OFFSETS = 64  # answers of the shared bucket that tell how its clock stands to this process's
PATIENCE = 10  # a reminder waits this many times a reply's `timeout` for the shared bucket
# A send whose answer came this long after it left may have reached Telegram late, together with
# sends of later turns (a busy process or machine held it on its way): a turn is spent to make up.
SLOW_SEND = 0.04
MADE_UP = "one turn is spent to make up"  # in the log line of each (bench/scaleout.py counts them)
log = logging.getLogger(__name__)


class SendBudget:
    """At most `rate` sends in any one-second window in this process, replies first; chats spaced."""

    def __init__(
        self,
        rate: int = 29,
        *,
        chat_interval: float = 1.0,
        reserve: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.chat_interval = chat_interval
        self.reserve = (1 if rate > 1 else 0) if reserve is None else reserve
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[float] = deque()
        self._last_to_chat: dict[int, float] = {}
        self._paused_until = 0.0
        self._replies_waiting = 0  # replies waiting for their turn: reminders let them go first
        self.turns_made_up = 0  # turns spent without a send after a slow one (`sent`)

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after": nobody sends until then."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    async def halt(self, seconds: float) -> None:
        """Telegram said "retry after" to one of our sends: every sender pauses."""
        self.pause(seconds)

    async def sent(self, took: float) -> None:
        """A send took `took` seconds from leaving to Telegram's answer. Over SLOW_SEND, it may
        have arrived late, in the same second as sends of later turns: one turn is spent
        without a send, so that second does not hold one too many."""
        if took > SLOW_SEND:
            self.turns_made_up += 1
            log.info("a send was answered %.0f ms after it left: %s", took * 1000, MADE_UP)
            await self._spend()

    async def _spend(self) -> None:
        self._record(None, self.clock())

    async def pause_over(self) -> None:
        """Wait until a "retry after" pause is over (for a call that takes no turn: a retry)."""
        while (wait := self._paused_until - self.clock()) > 0:
            await self.sleep(wait)

    def _wait_needed(self, chat_id: int | None, now: float, background: bool) -> float:
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        waits = [self._paused_until - now]
        allowed = max(1, self.rate - (self.reserve if background else 0))
        if len(self._sent) >= allowed:
            waits.append(self._sent[-allowed] + 1.0 - now)
        if background and self._replies_waiting:
            waits.append(1.0 / self.rate)
        last = self._last_to_chat.get(chat_id) if chat_id is not None else None
        if last is not None and background:  # a reply is never held for its chat (see the module)
            waits.append(last + self.chat_interval - now)
        return max(waits)

    def _record(self, chat_id: int | None, now: float) -> None:
        self._sent.append(now)
        if chat_id is None:
            return
        self._last_to_chat[chat_id] = now
        if len(self._last_to_chat) > 4 * self.rate:
            # Forget chats whose spacing has long passed, so the map stays small.
            horizon = now - self.chat_interval
            self._last_to_chat = {c: t for c, t in self._last_to_chat.items() if t > horizon}

    async def turn(self, chat_id: int | None, *, background: bool = False) -> None:
        """Wait until a message to this chat may go (None: not to a chat), and count it as sent.
        Nothing is held while waiting, so a reply never queues behind a waiting reminder."""
        await self._local_turn(chat_id, background)
        self._record(chat_id, self.clock())

    async def _local_turn(self, chat_id: int | None, background: bool) -> None:
        """Wait until this process's window, pause and chat spacing let the message go."""
        waiting = False
        try:
            while (wait := self._wait_needed(chat_id, self.clock(), background)) > 0:
                if not background and not waiting:
                    waiting, self._replies_waiting = True, self._replies_waiting + 1
                await self.sleep(wait)
        finally:
            if waiting:
                self._replies_waiting -= 1


class SharedSendBudget(SendBudget):
    """SendBudget, with the bot-wide rate shared through the database by every instance.

    The bucket holds one token and refills at `rate` - 1 a second (28 with the default 29):
    sends from all instances together are spaced so that a one-second window holds at most 29
    of them, and 31 would reach Telegram within one second only if the network (or a busy
    machine) bunched them by more than 70 ms (at 28.5 a second, 50 ms: too little on a busy
    machine, bench/scaleout.py saw 429s). Turns are taken a little ahead and waited for, so none
    of the rate is lost while an instance is busy; a turn whose moment has passed by more than
    LATE is given up, so sends that bunched up behind a busy moment never crowd one second. A
    reply that has to wait holds every instance's reminders back until it has had its turn.

    A turn is one statement on its own (autocommit), so the row is locked only while the server
    runs it. A reply waits for the database at most `timeout` seconds: if it is slower (another
    instance, or this busy machine, holds it up), that one reply takes its turn of an in-process
    budget at this instance's share of the rate (`rate` / `instances`) and the next send asks the
    bucket again: one send beside the bucket stays within Telegram's tolerance, a slow spell of
    them within this instance's share. A reminder can wait: it asks again, up to PATIENCE times
    as long. A database that fails (or a reminder that waited all that) sends this instance on
    its own at its share for `fallback_seconds` before the bucket is tried again; the send is
    never lost. Time is the database's clock unless `wall_clock` is given."""

    def __init__(
        self,
        store: Store,
        key: str,
        rate: int = 29,
        *,
        instances: int = 2,
        timeout: float = 0.5,
        fallback_seconds: float = 10.0,
        wall_clock: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(rate, clock=clock, sleep=sleep)
        self.store = store
        self.key = key
        self.wall_clock = wall_clock
        self.capacity = 1.0
        self.refill = float(max(1, rate - 1))
        self.turns_given_up = 0
        self.timeout = timeout
        self.fallback_seconds = fallback_seconds
        self.fallback = SendBudget(max(1, rate // max(1, instances)), clock=clock, sleep=sleep)
        self._shared_from = 0.0  # when (this process's clock) the bucket is tried again
        self._slow_logged = -fallback_seconds  # when a slow answer was last logged
        self._offsets: deque[float] = deque(maxlen=OFFSETS)  # this clock less the bucket's, as seen

    def _now(self) -> float | None:
        """The moment for the bucket: None for the database's own clock."""
        if self.wall_clock is not None:
            return self.wall_clock()
        return None if self.store.shared else time.time()

    async def _shared(self, work: Callable[[Transaction], T], within: float) -> T:
        """One statement on the shared bucket, as its own transaction, waiting at most `within` seconds."""
        async with asyncio.timeout(within):
            return await self.store.run_alone(work)

    def _local(self, moment: float) -> float:
        """A moment on the bucket's clock, on this process's clock (never later than it was).

        An answer arrives after its statement ran (later still if this process was busy just
        then), so each answer gives an upper bound of the difference between the two clocks; the
        least of the recent ones is the closest. A turn reckoned from the answer's arrival
        instead would let a send go as late as the answer was, bunched with the next instance's
        sends (bench/scaleout.py saw 429s); reckoned from this bound, a turn that has passed is
        given up (LATE)."""
        self._offsets.append(self.clock() - moment)
        return moment + min(self._offsets)

    def _slow(self) -> None:
        """A reply goes beside the bucket, which answered too slowly (logged once in a while)."""
        if self.clock() - self._slow_logged >= self.fallback_seconds:
            self._slow_logged = self.clock()
            log.warning(
                "the shared send budget could not be reached within %s s; a reply goes at this "
                "instance's share of the rate (%s a second)",
                self.timeout,
                self.fallback.rate,
            )

    def _unreachable(self, what: str, error: BaseException) -> None:
        self._shared_from = self.clock() + self.fallback_seconds
        log.warning(
            "the shared send budget could not be reached (%s: %s); this instance sends on its own "
            "at %s a second for %s s",
            what,
            type(error).__name__,
            self.fallback.rate,
            self.fallback_seconds,
        )

    def _take_from(self, now: float | None, background: bool) -> Callable[[Transaction], Turn]:
        return lambda tx: tx.send_budget.take(
            self.key, now, rate=self.refill, capacity=self.capacity, background=background
        )

    async def halt(self, seconds: float) -> None:
        """Pause here at once, and every other instance from its next acquisition (if the
        database can be told: a failure to tell it is logged, never raised)."""
        self.pause(seconds)
        self.fallback.pause(seconds)
        now = self._now()
        try:
            await self._shared(lambda tx: tx.send_budget.pause(self.key, seconds, now), self.timeout)
        except SHARED_BUCKET_ERRORS as error:
            self._unreachable("pause", error)

    async def _spend(self) -> None:
        """Take a turn of the shared bucket and send nothing in it (see `sent`); a bucket that
        cannot be reached just now is left as it is; while this instance sends on its own, its
        own budget spends it (no wait for a database known to be failing)."""
        if self.clock() < self._shared_from:
            await self.fallback._spend()
            return
        now = self._now()
        try:
            await self._shared(
                lambda tx: tx.send_budget.spend(self.key, now, rate=self.refill, capacity=self.capacity),
                self.timeout,
            )
        except SHARED_BUCKET_ERRORS as error:
            self._unreachable("spend", error)

    async def turn(self, chat_id: int | None, *, background: bool = False) -> None:
        while True:
            await self._local_turn(chat_id, background)
            if self.clock() < self._shared_from:
                await self.fallback.turn(chat_id, background=background)
                break
            timeout = self.timeout * (PATIENCE if background else 1)
            try:
                taken, wait, moment = await self._shared(self._take_from(self._now(), background), timeout)
            except TimeoutError as error:
                if background:
                    self._unreachable("take", error)
                    continue  # and take the turn in this process
                self._slow()
                await self.fallback.turn(chat_id)
                break
            except SHARED_BUCKET_ERRORS as error:
                self._unreachable("take", error)
                continue  # and take the turn in this process
            due = self._local(moment) + wait
            if not taken:
                await self.sleep(max(0.001, due - self.clock()))
                continue
            if due > self.clock():
                await self.sleep(due - self.clock())
            if self.clock() - due > LATE or self.clock() < self._paused_until:
                self.turns_given_up += 1
                continue  # the turn has passed (or a 429 came meanwhile): take a new one
            break
        self._record(chat_id, self.clock())
