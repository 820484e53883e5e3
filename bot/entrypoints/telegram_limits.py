"""Every call that sends to Telegram takes its turn of the send budget (bot/services/ratelimit.py).

Plugged into python-telegram-bot as its rate limiter, so replies, edits, documents, notices and
staff alerts all count, whoever sends them. The reminder dispatcher takes
its turn itself (as a send that can wait) and marks its call BUDGETED. A 429 pauses the budget
(every instance, on PostgreSQL) and the call is tried once more after the pause, whatever the
call (an answer to a button press takes no turn, and still waits out the pause before its retry).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.services.ratelimit import SendBudget

log = logging.getLogger(__name__)
BUDGETED = "budgeted"  # rate_limit_args of a call that has taken its turn already
TRIES = 2  # a reply that meets a 429 is sent once more, after the pause
# Calls that put a message in a chat: Telegram's flood limits count these. Answers to button
# presses and chat actions are not messages and take no turn (a 429 on them still pauses all).
_SENDS = ("send", "edit", "copy", "forward")
_FREE = frozenset({"sendChatAction"})

Result = bool | dict[str, Any] | list[dict[str, Any]]


def _seconds(wait: float | dt.timedelta) -> float:
    return wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)


class BudgetLimiter(BaseRateLimiter[str]):
    """python-telegram-bot's rate limiter on the bot's send budget."""

    def __init__(self, budget: SendBudget) -> None:
        self.budget = budget

    async def initialize(self) -> None:
        """Nothing to set up: the budget lives as long as the bot."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def _timed(self, send: Coroutine[Any, Any, Result]) -> Result:
        """Send, and tell the budget how long the send took to be answered (a slow one is made up
        for: SendBudget.sent)."""
        began = self.budget.clock()
        try:
            result = await send
        except TelegramError:  # answered all the same (a 429 too): it reached Telegram
            await self.budget.sent(self.budget.clock() - began)
            raise
        await self.budget.sent(self.budget.clock() - began)
        return result

    async def process_request(  # noqa: PLR0917 - the library's signature
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> Result:
        if rate_limit_args == BUDGETED:  # the dispatcher took its turn and handles a 429 itself
            return await self._timed(callback(*args, **kwargs))
        counted = endpoint.startswith(_SENDS) and endpoint not in _FREE
        chat = data.get("chat_id")
        chat_id = chat if isinstance(chat, int) else None
        for attempt in range(1, TRIES + 1):
            if counted:
                await self.budget.turn(chat_id)
            elif attempt > 1:  # a call that takes no turn still waits out the pause it met
                await self.budget.pause_over()
            try:
                send = callback(*args, **kwargs)
                return await (self._timed(send) if counted else send)
            except RetryAfter as exc:
                await self.budget.halt(_seconds(exc.retry_after))
                log.warning("Telegram asked to wait %s s (%s); every send pauses", exc.retry_after, endpoint)
                if attempt == TRIES:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover
