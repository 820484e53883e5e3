"""Bad data from Telegram: an update the library cannot read is skipped by its id, and polling goes on."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import pytest

from bot.entrypoints.upstream import guard_logs
from bot.testing.fake_bot_api import FakeBotAPI
from tests.e2e.conftest import TOKEN, Patient
from tests.support import start_process

# What Telegram sent the day polling stopped: a message without `date`.
UNREADABLE = {
    "message_id": 7,
    "from": {"id": 301, "is_bot": False, "first_name": "Ayşe", "language_code": "tr"},
    "chat": {"id": 301, "type": "private", "first_name": "Ayşe"},
    "text": "my back pain is much worse tonight",
}


@pytest.mark.usefixtures("bot")
async def test_an_unreadable_update_is_skipped_by_id_and_the_next_one_is_answered(
    telegram: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the library logs whole updates and requests at DEBUG
    guard_logs(TOKEN, [caplog.handler])  # as `vertebrobot run` does at start-up
    bad = telegram.queue_raw_update("message", UNREADABLE)
    # Alone in its batch, it is still confirmed: the offset moves past it.
    await telegram.wait_for(lambda: telegram.pending_updates == [], 10, what="the bad update confirmed")

    replies = await Patient(telegram, 302).send("/start")

    assert replies[0]["text"]
    logged = caplog.text
    assert f"update {bad} could not be read (KeyError); skipped" in logged
    assert "Ayşe" not in logged
    assert "back pain" not in logged
    assert TOKEN not in logged


@pytest.mark.usefixtures("bot")
async def test_an_unreadable_update_between_two_good_ones_stops_neither(telegram: FakeBotAPI) -> None:
    first, second = Patient(telegram, 303), Patient(telegram, 304)
    telegram.user_sends_text(303, "/start")
    telegram.queue_raw_update("message", UNREADABLE)
    telegram.user_sends_text(304, "/start")
    await telegram.wait_for(lambda: first.answers() >= 1 and second.answers() >= 1, 10, what="both answered")
    assert telegram.pending_updates == []


async def test_vertebrobot_run_logs_an_unreadable_update_by_id_even_at_debug(
    telegram: FakeBotAPI, tmp_path: Path
) -> None:
    process = await start_process(telegram, tmp_path / "process.db", {"VERTEBROBOT_LOG_LEVEL": "DEBUG"})
    try:
        bad = telegram.queue_raw_update("message", UNREADABLE)
        await Patient(telegram, 305).send("/start")
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0
    assert process.stderr is not None
    logged = (await process.stderr.read()).decode()
    assert f"update {bad} could not be read (KeyError); skipped" in logged
    assert "Ayşe" not in logged
    assert "back pain" not in logged
    assert TOKEN not in logged
