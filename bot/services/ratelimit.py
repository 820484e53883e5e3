"""Staying within Telegram's sending limits: a sliding one-second window, and chat spacing."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]


class SendBudget:
    """At most `rate` sends in any one-second window, and `chat_interval` between two to a chat.

    Telegram answers 429 beyond about 30 messages a second per bot and about one a second per
    chat. A sliding window, unlike a leaky bucket, never lets a burst at a window's edge
    exceed the limit, which is what Telegram counts.
    """

    def __init__(
        self,
        rate: int = 29,
        *,
        chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.chat_interval = chat_interval
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[float] = deque()
        self._last_to_chat: dict[int, float] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Telegram said "retry after": nobody sends until then."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def _wait_needed(self, chat_id: int, now: float) -> float:
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        waits = [self._paused_until - now]
        if len(self._sent) >= self.rate:
            waits.append(self._sent[0] + 1.0 - now)
        last = self._last_to_chat.get(chat_id)
        if last is not None:
            waits.append(last + self.chat_interval - now)
        return max(waits)

    async def turn(self, chat_id: int) -> None:
        """Wait until a message to this chat may go, and count it as sent."""
        async with self._lock:
            while (wait := self._wait_needed(chat_id, self.clock())) > 0:
                await self.sleep(wait)
            now = self.clock()
            self._sent.append(now)
            self._last_to_chat[chat_id] = now
            if len(self._last_to_chat) > 4 * self.rate:
                # Forget chats whose spacing has long passed, so the map stays small.
                horizon = now - self.chat_interval
                self._last_to_chat = {c: t for c, t in self._last_to_chat.items() if t > horizon}
