"""End-to-end harness: the real python-telegram-bot Application against the fake Bot API."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from telegram.ext import Application

from bot.entrypoints.bootstrap import Wiring, wire
from bot.entrypoints.config import Settings
from bot.entrypoints.telegram import build_application, start_polling, stop_polling
from bot.entrypoints.telegram_sender import TelegramSender
from bot.services.dispatcher import Dispatcher
from bot.testing.fake_bot_api import FakeBotAPI
from tests.databases import database_url

if TYPE_CHECKING:
    from tests.support import FakeClock  # tests.support imports this module

TOKEN = "424242:E2E-TEST-TOKEN"
ANSWER_METHODS = ("sendMessage", "editMessageText", "sendPhoto", "sendDocument")


@dataclass
class RunningBot:
    """The bot, polling the fake server from this event loop, with its reminder dispatcher."""

    app: Application  # type: ignore[type-arg]
    wiring: Wiring
    dispatcher: Dispatcher
    stopping: asyncio.Event
    reminders: asyncio.Task[None]

    async def stop(self) -> None:
        """Stop polling and the dispatcher and close everything, as on a clean shutdown."""
        self.stopping.set()
        await self.reminders
        await stop_polling(self.app)
        await self.wiring.store.close()


# What the e2e tests' clinic sets: UTC, and one cut-off for food and clear drinks (S001's 4 hours).
CLINIC_FILE = 'clinic:\n  timezone: "UTC"\n  fasting_food_hours: 4\n  fasting_fluid_hours: 4\n'


def settings_for(server: FakeBotAPI, database: Path, **extra: Any) -> Settings:
    """Settings as an operator would set them in the environment."""
    return Settings(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=server.base_url,
        DATABASE_URL=database_url(database),
        **extra,
    )


async def start_bot(
    server: FakeBotAPI,
    database: Path,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    dispatcher_options: dict[str, Any] | None = None,
    **extra: Any,
) -> RunningBot:
    """Wire and start the bot as `vertebrobot run` does; `clock` replaces the wall clock.

    Like an operator must, it sets the clinic's time zone and numbers (CLINIC_FILE), unless a
    clinic file is given.
    """
    # Scripted patients type faster than people: flood control is tested in test_flood.py.
    extra.setdefault("VERTEBROBOT_FLOOD_MESSAGES", 10_000)
    if "VERTEBROBOT_CLINIC_FILE" not in extra:
        clinic_file = database.with_name("clinic.yaml")
        clinic_file.write_text(CLINIC_FILE, encoding="utf-8")
        extra["VERTEBROBOT_CLINIC_FILE"] = clinic_file
    settings = settings_for(server, database, **extra)
    wiring = wire(settings)
    await wiring.prepare()
    assert settings.telegram_bot_token is not None
    options = dict(dispatcher_options or {})
    budget = options.pop("budget", None) or wiring.send_budget(settings.telegram_bot_token)
    app = build_application(
        settings.telegram_bot_token,
        wiring.service,
        base_url=server.base_url,
        budget=budget,
        flood=wiring.flood,
    )
    options["budget"] = budget
    if clock is not None:
        wiring.service.clock = wiring.store.clock = wiring.clinics.clock = clock
        options["clock"] = clock
    dispatcher = wiring.start_dispatcher(TelegramSender(app.bot), **options)
    await start_polling(app, poll_timeout=1)
    await wiring.learn_bot_username(app.bot.username)  # as `vertebrobot run` does
    stopping = asyncio.Event()
    return RunningBot(app, wiring, dispatcher, stopping, asyncio.create_task(dispatcher.run(stopping)))


@pytest.fixture
async def telegram() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN, bot_username="vertebrobot_test_bot") as server:
        yield server


@pytest.fixture
async def bot(telegram: FakeBotAPI, tmp_path: Path) -> AsyncIterator[RunningBot]:
    running = await start_bot(telegram, tmp_path / "bot.db")
    yield running
    await running.stop()


@pytest.fixture
def clock() -> FakeClock:
    """The wall clock of the `running` bot (a test module may give its own moment)."""
    from tests.support import FakeClock  # here: tests.support imports this module

    return FakeClock(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))


@pytest.fixture
async def running(telegram: FakeBotAPI, tmp_path: Path, clock: FakeClock) -> AsyncIterator[RunningBot]:
    """The bot on `clock`, its reminder dispatcher looking for due work every 0.2 s."""
    bot = await start_bot(
        telegram, tmp_path / "bot.db", clock=clock, dispatcher_options={"idle_seconds": 0.2}
    )
    yield bot
    await bot.stop()


class Patient:
    """Plays a patient: sends texts, presses buttons by their label, reads what the bot shows."""

    def __init__(self, server: FakeBotAPI, chat_id: int, language: str = "en") -> None:
        self.server = server
        self.chat_id = chat_id
        self.language = language

    def answers(self) -> int:
        """How many messages and edits the bot has sent to this chat."""
        return sum(
            1
            for name, params in self.server.calls
            if name in ANSWER_METHODS and str(params.get("chat_id")) == str(self.chat_id)
        )

    async def send(self, text: str, *, replies: int = 1) -> list[dict[str, Any]]:
        """Type a message; wait for that many answers; return the bot's newest messages."""
        before = self.answers()
        self.server.user_sends_text(self.chat_id, text, language_code=self.language)
        await self.server.wait_for(
            lambda: self.answers() >= before + replies, 10, what=f"reply to {text[:20]!r}"
        )
        return self.server.bot_messages(self.chat_id)[-replies:]

    def screen(self) -> dict[str, Any]:
        """The bot's newest message that has buttons: what the patient looks at."""
        for message in reversed(self.server.bot_messages(self.chat_id)):
            if message.get("reply_markup", {}).get("inline_keyboard"):
                return message
        raise AssertionError("the bot has shown no buttons")

    def labels(self) -> list[str]:
        """The labels of the buttons on screen, top to bottom."""
        rows = self.screen()["reply_markup"]["inline_keyboard"]
        return [button["text"] for row in rows for button in row]

    async def press(self, label: str) -> dict[str, Any]:
        """Press the button with this label on screen and wait for the answer to it."""
        message = self.screen()
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        matching = [b for b in buttons if b["text"] == label]
        assert matching, f"no button {label!r}; on screen: {[b['text'] for b in buttons]}"
        return await self.press_data(message["message_id"], matching[0]["callback_data"])

    async def press_and_read(self, label: str, *, replies: int = 1) -> list[dict[str, Any]]:
        """Press a button and return the new messages it brings (not the edit of the pressed one)."""
        before = len(self.server.bot_messages(self.chat_id))
        await self.press(label)
        await self.server.wait_for(
            lambda: len(self.server.bot_messages(self.chat_id)) >= before + replies,
            10,
            what=f"reply to {label!r}",
        )
        return self.server.bot_messages(self.chat_id)[before : before + replies]

    async def press_data(self, message_id: int, data: str, *, expect_answer: bool = True) -> dict[str, Any]:
        """Press raw callback data on a message (forged or stale presses too)."""
        before = self.answers()
        query = self.server.user_presses(self.chat_id, message_id, data, language_code=self.language)

        def done() -> bool:
            answered = any(a["callback_query_id"] == query for a in self.server.callback_answers)
            return answered and (not expect_answer or self.answers() > before)

        await self.server.wait_for(done, 10, what=f"answer to pressing {data!r}")
        return self.screen()


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every end-to-end test also asserts that no handler failed."""
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], f"the bot logged errors: {[r.getMessage() for r in errors]}"
