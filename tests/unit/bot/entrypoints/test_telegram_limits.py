"""The rate limiter every Telegram call goes through: a call that meets a 429 is made once more
after the pause, whether or not the database can record the pause."""

from __future__ import annotations

from typing import Any

from telegram.error import RetryAfter

from bot.entrypoints.telegram_limits import BudgetLimiter
from bot.services.ratelimit import SharedSendBudget
from tests.support import VirtualTime
from tests.unit.bot.services.test_ratelimit import UnreachableDatabase


async def test_a_reply_that_meets_a_429_is_sent_after_the_pause_though_the_database_is_down() -> None:
    time = VirtualTime()
    budget = SharedSendBudget(
        UnreachableDatabase(),  # type: ignore[arg-type]
        "bot1",
        clock=time.clock,
        sleep=time.sleep,
    )
    calls: list[float] = []

    async def send_message(**_: Any) -> dict[str, Any]:
        calls.append(time.now)
        if len(calls) == 1:
            raise RetryAfter(4)
        return {"message_id": 1}

    limiter = BudgetLimiter(budget)
    result = await limiter.process_request(send_message, (), {}, "sendMessage", {"chat_id": 7}, None)
    assert result == {"message_id": 1}, "the reply is not lost"
    assert calls == [0.0, 4.0], "sent again after the pause Telegram asked for"
