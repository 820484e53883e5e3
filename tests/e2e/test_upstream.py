"""Bad data from Telegram: an update the library cannot read is skipped by its id, and polling goes on."""

from __future__ import annotations

import logging

import pytest

from bot.entrypoints.upstream import guard_logs
from bot.testing.fake_bot_api import FakeBotAPI
from tests.e2e.conftest import TOKEN, Patient

pytestmark = pytest.mark.usefixtures("bot")

# What Telegram sent the day polling stopped: a message without `date`.
UNREADABLE = {
    "message_id": 7,
    "from": {"id": 301, "is_bot": False, "first_name": "Ayşe", "language_code": "tr"},
    "chat": {"id": 301, "type": "private", "first_name": "Ayşe"},
    "text": "my back pain is much worse tonight",
}


async def test_an_unreadable_update_is_skipped_by_id_and_the_next_one_is_answered(
    telegram: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the library logs whole updates and requests at DEBUG
    guard_logs(TOKEN, [caplog.handler])  # as `vertebrobot run` does at start-up
    bad = telegram.queue_raw_update("message", UNREADABLE)
    # Alone in its batch, it is still confirmed: the offset moves past it.
    await telegram.wait_for(lambda: telegram.pending_updates == [], 10, what="the bad update confirmed")

    replies = await Patient(telegram, 302).send("/start", replies=2)

    assert replies[0]["text"]
    logged = caplog.text
    assert f"update {bad} could not be read (KeyError); skipped" in logged
    assert "Ayşe" not in logged
    assert "back pain" not in logged
    assert TOKEN not in logged


async def test_an_unreadable_update_between_two_good_ones_stops_neither(telegram: FakeBotAPI) -> None:
    first, second = Patient(telegram, 303), Patient(telegram, 304)
    telegram.user_sends_text(303, "/start")
    telegram.queue_raw_update("message", UNREADABLE)
    telegram.user_sends_text(304, "/start")
    await telegram.wait_for(lambda: first.answers() >= 2 and second.answers() >= 2, 10, what="both answered")
    assert telegram.pending_updates == []
