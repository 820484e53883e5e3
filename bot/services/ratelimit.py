"""Staying within Telegram's sending limits, for everything the bot sends.

Telegram answers 429 beyond about 30 messages a second per bot, and beyond about one a second
in one chat. Every call that sends (replies, edits, callback answers,
documents, reminders, notices, staff alerts) takes a turn here first:

- `SendBudget`: one process. A sliding one-second window holds at most `rate` sends; sends that
  can wait (reminders, `background=True`) leave `reserve` of them for replies to patients who
  are waiting. A chat gets at most one message every `chat_interval` (a second), replies and
  reminders alike. A 429 pauses everyone for its retry_after.
- `SharedSendBudget`: several instances on one PostgreSQL database. The same, and the bot-wide
  rate is a token bucket row every instance takes from (bot/db/send_budget_repo.py); a 429 seen
  by one instance pauses all of them. Chats are spaced by the instance that sends to them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from bot.db.store import Store, Transaction

Sleep = Callable[[float], Awaitable[None]]
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
        self.reserve = max(1, rate // 5) if reserve is None else reserve
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[float] = deque()
        self._last_to_chat: dict[int, float] = {}
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after": nobody sends until then."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    async def halt(self, seconds: float) -> None:
        """Telegram said "retry after" to one of our sends: every sender pauses."""
        self.pause(seconds)

    def _wait_needed(self, chat_id: int | None, now: float, background: bool) -> float:
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        waits = [self._paused_until - now]
        allowed = max(1, self.rate - (self.reserve if background else 0))
        if len(self._sent) >= allowed:
            waits.append(self._sent[-allowed] + 1.0 - now)
        last = self._last_to_chat.get(chat_id) if chat_id is not None else None
        if last is not None:
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
        while (wait := self._wait_needed(chat_id, self.clock(), background)) > 0:
            await self.sleep(wait)
        self._record(chat_id, self.clock())


class SharedSendBudget(SendBudget):
    """SendBudget, with the bot-wide rate shared through the database by every instance.

    The bucket holds at most a fifth of the rate and refills at the rest, so no one-second
    window ever sees more than `rate` sends from all instances together."""

    def __init__(
        self,
        store: Store,
        key: str,
        rate: int = 29,
        *,
        wall_clock: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(rate, clock=clock, sleep=sleep)
        self.store = store
        self.key = key
        self.wall_clock = wall_clock
        self.capacity = float(max(1, rate // 5))
        self.refill = float(rate) - self.capacity if rate > self.capacity else float(rate)

    def _take_from(self, now: float, keep: float) -> Callable[[Transaction], float]:
        return lambda tx: tx.send_budget.take(
            self.key, now, rate=self.refill, capacity=self.capacity, keep=keep
        )

    async def halt(self, seconds: float) -> None:
        """Pause here at once, and every other instance from its next acquisition."""
        self.pause(seconds)
        until = self.wall_clock() + seconds
        await self.store.run(lambda tx: tx.send_budget.pause(self.key, until))

    async def turn(self, chat_id: int | None, *, background: bool = False) -> None:
        keep = min(1.0, self.capacity - 1) if background else 0.0  # a token kept for replies
        while True:
            while (wait := self._wait_needed(chat_id, self.clock(), background)) > 0:
                await self.sleep(wait)
            wait = await self.store.run(self._take_from(self.wall_clock(), keep))
            if wait <= 0:
                self._record(chat_id, self.clock())
                return
            await self.sleep(wait)
