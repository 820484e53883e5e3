"""`vertebrobot run` serves the clinic API and /healthz beside the bot; webhook mode checks the secret
and handles each update once, however often Telegram delivers it and to whichever instance."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.entrypoints.config import Settings
from bot.entrypoints.runner import run
from bot.testing.fake_bot_api import FakeBotAPI
from tests.databases import database_url
from tests.e2e.conftest import ANSWER_METHODS, TOKEN, Patient


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_healthy(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):  # bounded: at most ~30 s (a fresh process trains the sign models first)
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)  # polling a local server coming up, not waiting on time
    raise AssertionError("the HTTP server did not come up")


async def test_polling_bot_serves_health_and_the_api_on_one_loop(
    telegram: FakeBotAPI, tmp_path: Path
) -> None:
    port = free_port()
    settings = Settings(
        TELEGRAM_API_BASE_URL=telegram.base_url,
        DATABASE_URL=database_url(tmp_path / "run.db"),
        VERTEBROBOT_HTTP_PORT=port,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, TOKEN, stop))
    try:
        await wait_healthy(port)
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/api/procedures")).status_code == 401
            assert (
                "/api/procedures"
                in (await client.get(f"http://127.0.0.1:{port}/openapi.json")).json()["paths"]
            )
        (welcome,) = await Patient(telegram, 601).send("/start")
        assert "not a doctor" in welcome["text"], "the bot answers on the same loop"
    finally:
        stop.set()
        await task


async def test_webhook_mode_takes_updates_only_with_the_secret(telegram: FakeBotAPI, tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        TELEGRAM_API_BASE_URL=telegram.base_url,
        DATABASE_URL=database_url(tmp_path / "hook.db"),
        VERTEBROBOT_HTTP_PORT=port,
        TELEGRAM_WEBHOOK_URL="https://bot.example.org",
        TELEGRAM_WEBHOOK_SECRET="s3cret-token",
    )
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, TOKEN, stop))
    try:
        await wait_healthy(port)
        (hook,) = [params for name, params in telegram.calls if name == "setWebhook"]
        assert hook["url"] == "https://bot.example.org/telegram/webhook"
        assert hook["secret_token"] == "s3cret-token"
        assert not any(name == "getUpdates" for name, _ in telegram.calls), "no polling in webhook mode"
        message = telegram.user_sends_text(602, "/start")
        update = {"update_id": 1, "message": message}
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with httpx.AsyncClient() as client:
            wrong = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
            assert wrong.status_code == 403
            missing = await client.post(url, json=update)
            assert missing.status_code == 403
            right = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
            )
            assert right.status_code == 200
        await telegram.wait_for_bot_messages(602, 1)
        assert len(telegram.bot_messages(602)) == 1, "answered once: the refused calls did nothing"
    finally:
        stop.set()
        await task


SECRET = "s3cret-token"  # the webhook secret of the tests below


@contextlib.asynccontextmanager
async def webhook_instances(telegram: FakeBotAPI, database: Path, count: int) -> AsyncIterator[list[int]]:
    """`count` instances in webhook mode on one database, as behind a load balancer; their ports."""
    stop = asyncio.Event()
    ports: list[int] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        for _ in range(count):  # one after the other: each migrates the database before serving
            port = free_port()
            settings = Settings(
                TELEGRAM_API_BASE_URL=telegram.base_url,
                DATABASE_URL=database_url(database),
                VERTEBROBOT_HTTP_PORT=port,
                TELEGRAM_WEBHOOK_URL="https://bot.example.org",
                TELEGRAM_WEBHOOK_SECRET=SECRET,
            )
            tasks.append(asyncio.create_task(run(settings, TOKEN, stop)))
            await wait_healthy(port)
            ports.append(port)
        yield ports
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def deliver(port: int, update: dict[str, Any]) -> None:
    """Telegram's webhook call with one update."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"http://127.0.0.1:{port}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
    assert response.status_code == 200


def answers(telegram: FakeBotAPI, chat: int) -> int:
    """How many messages and edits the bot sent to a chat."""
    return sum(
        1 for name, p in telegram.calls if name in ANSWER_METHODS and p.get("chat_id") in (chat, str(chat))
    )


async def delivered_three_times(telegram: FakeBotAPI, ports: list[int], patient: Patient) -> None:
    """The patient writes /start and presses the first button; Telegram delivers each update three
    times, over the instances in turn; the test waits for the answers of one delivery each."""
    telegram.user_sends_text(patient.chat_id, "/start")
    start = telegram.pending_updates[-1]
    for attempt in range(3):
        await deliver(ports[attempt % len(ports)], start)
    await telegram.wait_for(lambda: answers(telegram, patient.chat_id) >= 1, 10, what="welcome")
    screen = patient.screen()
    button = screen["reply_markup"]["inline_keyboard"][0][0]
    before = answers(telegram, patient.chat_id)
    query = telegram.user_presses(patient.chat_id, screen["message_id"], button["callback_data"])
    press = telegram.pending_updates[-1]
    assert press["update_id"] != start["update_id"]
    for attempt in range(3):
        await deliver(ports[(attempt + 1) % len(ports)], press)
    await telegram.wait_for(
        lambda: (
            any(a["callback_query_id"] == query for a in telegram.callback_answers)
            and answers(telegram, patient.chat_id) > before
        ),
        10,
        what="answer to the press",
    )
    # A last, different update: once it is answered, every update before it has been handled.
    telegram.user_sends_text(patient.chat_id, "/help")
    before = answers(telegram, patient.chat_id)
    await deliver(ports[-1], telegram.pending_updates[-1])
    await telegram.wait_for(lambda: answers(telegram, patient.chat_id) > before, 10, what="help")


async def test_a_redelivered_webhook_update_is_answered_once(telegram: FakeBotAPI, tmp_path: Path) -> None:
    patient = Patient(telegram, 604)
    async with webhook_instances(telegram, tmp_path / "hook.db", 1) as ports:
        await delivered_three_times(telegram, ports, patient)
        welcome = [m for m in telegram.bot_messages(604) if "not a doctor" in m.get("text", "")]
        assert len(welcome) == 1, "the /start delivered three times is welcomed once"
        assert len(telegram.callback_answers) == 1, "the press delivered three times is answered once"


async def test_two_instances_answer_an_update_delivered_to_both_once(
    telegram: FakeBotAPI, tmp_path: Path
) -> None:
    alone, together = Patient(telegram, 605), Patient(telegram, 606)
    async with webhook_instances(telegram, tmp_path / "alone.db", 1) as ports:
        await delivered_three_times(telegram, ports, alone)
    async with webhook_instances(telegram, tmp_path / "shared.db", 2) as ports:
        await delivered_three_times(telegram, ports, together)
    assert answers(telegram, 606) == answers(telegram, 605), "two instances answer as one does"
    welcome = [m for m in telegram.bot_messages(606) if "not a doctor" in m.get("text", "")]
    assert len(welcome) == 1


async def test_an_unreadable_webhook_update_gets_200_and_the_next_one_is_answered(
    telegram: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    patient = Patient(telegram, 607)
    async with webhook_instances(telegram, tmp_path / "bad.db", 1) as ports:
        # A message without its `date`, which the library cannot read: Telegram would redeliver it
        # forever after anything but a 200.
        unreadable = {
            "update_id": 990001,
            "message": {"message_id": 1, "chat": {"id": 607, "type": "private"}, "text": "Ayse, chest pain"},
        }
        await deliver(ports[0], unreadable)
        telegram.user_sends_text(patient.chat_id, "/start")
        await deliver(ports[0], telegram.pending_updates[-1])
        await telegram.wait_for(lambda: answers(telegram, patient.chat_id) >= 1, 10, what="welcome")
    logged = caplog.text
    assert "990001" in logged, "the unreadable update is logged by its id"
    assert "Ayse" not in logged
    assert "chest pain" not in logged
