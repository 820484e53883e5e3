"""The rate limiter every Telegram call goes through: a call that meets a 429 is made once more
after the pause, whether or not the database can record the pause."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.entrypoints.telegram_limits import BudgetLimiter
from bot.services.ratelimit import SLOW_SEND, SendBudget, SharedSendBudget
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


@pytest.mark.parametrize(("answered_after", "third_at"), [(0.1, 1.0), (0.01, 0.01)])
async def test_a_send_answered_late_spends_a_turn_so_its_second_holds_no_send_too_many(
    answered_after: float, third_at: float
) -> None:
    """A send answered 100 ms after it left may have reached Telegram late, in the same second as
    the sends after it: a turn is spent without a send. At 3 a second, the third send then waits
    for the next second; after a send answered at once it goes at once."""
    time = VirtualTime()
    budget = SendBudget(3, chat_interval=0, reserve=0, clock=time.clock, sleep=time.sleep)
    sent: list[float] = []

    async def send_message(**_: Any) -> dict[str, Any]:
        sent.append(time.now)
        if len(sent) == 1:
            await time.sleep(answered_after)
        return {"message_id": len(sent)}

    limiter = BudgetLimiter(budget)
    for chat in (1, 2, 3):
        await limiter.process_request(send_message, (), {}, "sendMessage", {"chat_id": chat}, None)
    assert sent[2] == pytest.approx(third_at)
    assert budget.turns_made_up == (1 if answered_after > SLOW_SEND else 0)
