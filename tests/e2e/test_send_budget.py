"""Every send takes its turn of the bot's send budget: a reply that meets Telegram's 429 is sent
again after the pause Telegram asked for, and the pause holds for every sender."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.services.ratelimit import SendBudget
from bot.testing.fake_bot_api import FakeBotAPI
from tests.e2e.conftest import Patient, start_bot
from tests.support import VirtualTime


async def test_a_reply_that_meets_a_429_is_sent_after_the_pause(
    telegram: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    time = VirtualTime()
    budget = SendBudget(29, clock=time.clock, sleep=time.sleep)
    running = await start_bot(telegram, tmp_path / "bot.db", dispatcher_options={"budget": budget})
    try:
        patient = Patient(telegram, 701)
        await patient.send("/menu")
        time.now += 2.0  # the patient reads for a while before typing again
        telegram.fail_next("sendMessage", status=429, retry_after=5)
        # the refused call and the one sent after the pause
        menu = (await patient.send("/menu", replies=2))[-1]
        assert len(telegram.bot_messages(701)) == 2
        assert menu["reply_markup"]["inline_keyboard"], "the menu arrived after all"
        assert telegram.too_many_requests == 1
        assert time.slept == [5.0], "it waited exactly what Telegram asked"
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        await running.stop()


async def test_a_press_whose_answer_meets_a_429_is_answered_after_the_pause(
    telegram: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An answer to a button press takes no turn of the budget, and its retry still waits out
    the pause Telegram asked for (at once, it would meet a second 429 and the press be lost)."""
    time = VirtualTime()
    budget = SendBudget(29, clock=time.clock, sleep=time.sleep)
    running = await start_bot(telegram, tmp_path / "bot.db", dispatcher_options={"budget": budget})
    try:
        patient = Patient(telegram, 702)
        await patient.send("/menu")
        time.now += 2.0
        screen = patient.screen()
        telegram.fail_next("answerCallbackQuery", status=429, retry_after=5)
        query = telegram.user_presses(
            702, screen["message_id"], screen["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        )
        await telegram.wait_for(
            lambda: any(a["callback_query_id"] == query for a in telegram.callback_answers),
            10,
            what="the answer",
        )
        assert telegram.too_many_requests == 1
        assert time.slept == [5.0], "it waited exactly what Telegram asked"
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    finally:
        await running.stop()
