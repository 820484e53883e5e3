"""Flood control per user: a patient sending faster than a person can read is told once to slow
down, the rest of the burst is dropped, a warning sign in it is still answered, and the other
patients are not held up."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.entrypoints.config import Settings
from bot.testing.fake_bot_api import FakeBotAPI
from tests.e2e.conftest import Patient, RunningBot, start_bot

FLOODER, OTHER = 951, 952
SIGN_AT = 30  # the message of the fifty that reports a warning sign
SENT = 1_800_000_000  # when the patient sent a message (Telegram's date, whole seconds)


@pytest.fixture
async def bot(telegram: FakeBotAPI, tmp_path: Path) -> AsyncIterator[RunningBot]:
    """The bot with flood control as an operator gets it (the other e2e tests turn it off)."""
    defaults = {
        field.alias: field.default
        for name, field in Settings.model_fields.items()
        if name in ("flood_messages", "flood_seconds")
    }
    assert defaults == {"VERTEBROBOT_FLOOD_MESSAGES": 5, "VERTEBROBOT_FLOOD_SECONDS": 3.0}
    running = await start_bot(telegram, tmp_path / "bot.db", **defaults)
    yield running
    await running.stop()


async def test_fifty_messages_at_once_get_a_few_replies_one_slow_down_and_the_warning_sign_its_guidance(
    telegram: FakeBotAPI, bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    # The learned layer trains on the first message it reads in a language (once a process, a
    # second or more): the bot has been answering English-speaking patients for a while.
    matcher = bot.wiring.engine.matcher("en")
    assert matcher is not None
    matcher.triage("good morning, I have a question")
    renderer = bot.wiring.renderer
    other = Patient(telegram, OTHER)
    caplog.set_level(logging.INFO)
    for n in range(50):
        # ("hello 38" alone reads as maybe a temperature, and the bot rightly asks about it with one
        # tap; so may "hello, message number 38": the words around the number say it is none.)
        text = "I have chest pain" if n == SIGN_AT else f"hello, message number {n} of my thank you notes"
        telegram.user_sends_text(FLOODER, text, date=SENT)  # the fifty sent in the same second
    telegram.user_sends_text(OTHER, "/start")
    loop = asyncio.get_running_loop()
    sent = loop.time()

    await telegram.wait_for(lambda: other.answers() >= 1, 10, what="the other patient's /start")

    waited = loop.time() - sent
    (welcome,) = telegram.bot_messages(OTHER)
    assert welcome["text"].startswith(renderer.text("bot.welcome", "en"))
    assert waited < 1.0, f"the other patient waited {waited:.2f} s behind the flood"
    # Updates are handled in order: once the other patient is answered, the whole flood has been.
    texts = [m["text"] for m in telegram.bot_messages(FLOODER)]
    slow_down = renderer.text("bot.slow_down", "en")
    assert texts.count(slow_down) == 1, "told once"
    assert texts.index(slow_down) == 5, "after the five messages a person can send in three seconds"
    urgent = [t for t in texts if "chest pain" in t.lower()]
    assert len(urgent) == 1, "the warning sign inside the flood gets its urgent guidance"
    assert await bot.wiring.store.run(lambda tx: tx.warning_signs(FLOODER)) == ["chest_pain"]
    assert len(texts) == 7, "five replies, the notice and the urgent guidance; the rest dropped"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "hello" not in caplog.text, "no message text in the logs"


async def test_after_a_pause_the_patient_is_answered_again(telegram: FakeBotAPI, bot: RunningBot) -> None:
    patient = Patient(telegram, FLOODER)
    for n in range(12):
        telegram.user_sends_text(FLOODER, f"hello {n}", date=SENT)
    await Patient(telegram, OTHER).send("/start")  # handled in order: after the whole burst
    assert patient.answers() == 6, "five replies and the notice"

    telegram.user_sends_text(FLOODER, "/menu", date=SENT + 3)  # quiet for the window
    await telegram.wait_for(lambda: patient.answers() == 7, 10, what="the menu")
    assert patient.screen()["text"] == bot.wiring.renderer.text("menu.intro", "en")


async def test_a_backlog_sent_minutes_apart_and_delivered_at_once_is_all_answered(
    telegram: FakeBotAPI, bot: RunningBot
) -> None:
    """After a restart, an outage or a 429 pause Telegram delivers the waiting messages together:
    the patient sent them one by one, and each gets its answer, with no "slow down"."""
    patient = Patient(telegram, FLOODER)
    for n in range(10):
        telegram.user_sends_text(FLOODER, f"hello {n}", date=SENT + 120 * n)
    await Patient(telegram, OTHER).send("/start")  # handled in order: after the whole backlog
    texts = [m["text"] for m in telegram.bot_messages(FLOODER)]
    assert bot.wiring.renderer.text("bot.slow_down", "en") not in texts
    assert patient.answers() == 10, "every message answered"


async def test_quick_presses_are_not_a_flood(telegram: FakeBotAPI, bot: RunningBot) -> None:
    """Ticking a checklist is quick: every press is answered, and nobody is told to slow down."""
    patient = Patient(telegram, FLOODER)
    await patient.send("/start")
    screen = patient.screen()
    data = screen["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    queries = [telegram.user_presses(FLOODER, screen["message_id"], data) for _ in range(8)]
    await Patient(telegram, OTHER).send("/start")  # handled in order: after all eight presses
    assert {a["callback_query_id"] for a in telegram.callback_answers} >= set(queries)
    slow_down = bot.wiring.renderer.text("bot.slow_down", "en")
    assert slow_down not in [m["text"] for m in telegram.bot_messages(FLOODER)]
