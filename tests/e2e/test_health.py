"""`/readyz` tells whether the instance can serve (database, Telegram, dispatcher) with its reasons;
`/metrics` counts what it handled and sent; a webhook instance takes its webhook down when it stops,
and a polling instance that finds a webhook set says so instead of taking it over."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.db.store import Store
from bot.entrypoints.config import Settings, async_database_url
from bot.entrypoints.runner import run
from bot.testing.fake_bot_api import FakeBotAPI
from tests.databases import database_url, on_postgres
from tests.e2e.conftest import TOKEN, Patient
from tests.e2e.test_serving import free_port, wait_healthy
from tests.support import FakeClock, reminder_messages, schedule_due_now


def settings_for(telegram: FakeBotAPI, database: Path, port: int, **extra: Any) -> Settings:
    return Settings(
        TELEGRAM_API_BASE_URL=telegram.base_url,
        DATABASE_URL=database_url(database),
        VERTEBROBOT_HTTP_PORT=port,
        **extra,
    )


async def readyz(port: int) -> tuple[int, dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{port}/readyz")
    return answer.status_code, answer.json()


async def metrics_text(port: int) -> str:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"http://127.0.0.1:{port}/metrics")).text


async def test_readyz_turns_unready_when_telegram_is_gone_and_ready_when_it_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    telegram = FakeBotAPI(TOKEN, port=free_port())  # the same port when it comes back
    await telegram.start()
    clock = FakeClock(dt.datetime.now(dt.UTC))
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(run(settings_for(telegram, tmp_path / "r.db", port), TOKEN, stop, clock=clock))
    try:
        await wait_healthy(port)
        status, body = await readyz(port)
        assert status == 200, body
        assert body["status"] == "ready"
        assert body["reasons"] == []
        assert body["checks"]["database"] == {"ok": True}
        assert body["checks"]["telegram"]["ok"] is True
        assert body["checks"]["dispatcher"]["ok"] is True
        assert body["checks"]["reminders"] == {"pending": 0, "overdue": 0}

        await telegram.stop()
        for _ in range(20):  # bounded: an answer read just before the stop may still be recorded late
            clock.set(clock.now + dt.timedelta(seconds=61))
            status, body = await readyz(port)
            if status != 200:
                break
        assert status == 503
        assert body["status"] == "unready"
        assert body["reasons"] == ["Telegram not reached within the last minute"]
        assert body["checks"]["telegram"]["ok"] is False
        assert body["checks"]["dispatcher"]["ok"] is True, "the dispatcher, woken, ran at once"
        async with httpx.AsyncClient() as client:  # liveness is not readiness
            assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200

        await telegram.start()
        status, body = await readyz(port)
        assert status == 200, body
        assert body["checks"]["telegram"]["last_reached"] == clock.now.isoformat()
    finally:
        stop.set()
        await task
        await telegram.stop()
    # While Telegram was gone, python-telegram-bot logged its failed polls; nothing else failed.
    failed = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(r.name.startswith("telegram.ext") for r in failed), [r.getMessage() for r in failed]
    assert TOKEN not in caplog.text
    caplog.clear()


async def test_metrics_count_a_reminder_sent_and_an_update_answered(
    telegram: FakeBotAPI, tmp_path: Path
) -> None:
    database = tmp_path / "m.db"
    store = Store(async_database_url(database_url(database)))
    await store.migrate()
    await schedule_due_now(store, telegram, 1, dt.datetime.now(dt.UTC))
    await store.close()
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(run(settings_for(telegram, database, port), TOKEN, stop))
    try:
        await wait_healthy(port)
        await telegram.wait_for(lambda: len(reminder_messages(telegram, 1)) == 1, 10, what="the reminder")
        await Patient(telegram, 701).send("/start")  # one message: the greeting and the menu
        for _ in range(100):  # bounded polling of the local server until the sends are recorded
            text = await metrics_text(port)
            if 'vertebrobot_reminders{status="sent"} 1.0' in text and 'kind="command"} 1.0' in text:
                break
            await asyncio.sleep(0.05)
        assert 'vertebrobot_messages_sent_total{kind="reminder"} 1.0' in text
        assert 'vertebrobot_reminders{status="sent"} 1.0' in text
        assert 'vertebrobot_reminders{status="pending"} 0.0' in text
        assert "vertebrobot_reminders_overdue 0.0" in text
        assert 'vertebrobot_updates_handled_total{kind="command"} 1.0' in text
        assert 'vertebrobot_messages_sent_total{kind="reply"} 1.0' in text
        assert "vertebrobot_reply_latency_seconds_count 1.0" in text
        assert "vertebrobot_telegram_429_total 0.0" in text
        assert "vertebrobot_warning_signs_reported_total 0.0" in text
    finally:
        stop.set()
        await task


async def test_a_webhook_instance_removes_its_webhook_when_it_stops(
    telegram: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port, stop = free_port(), asyncio.Event()
    settings = settings_for(telegram, tmp_path / "w.db", port, TELEGRAM_WEBHOOK_URL="https://bot.example.org")
    task = asyncio.create_task(run(settings, TOKEN, stop))
    await wait_healthy(port)
    assert telegram.webhook_url == "https://bot.example.org/telegram/webhook"
    stop.set()
    await task
    if on_postgres():  # other instances on the shared database may still serve it
        assert telegram.webhook_url == "https://bot.example.org/telegram/webhook"
        assert "webhook left set" in caplog.text
    else:
        assert telegram.webhook_url == ""
        assert [name for name, _ in telegram.calls].count("deleteWebhook") == 1
        assert "webhook removed" in caplog.text


async def test_a_polling_instance_that_finds_a_webhook_says_so_and_leaves_it(
    telegram: FakeBotAPI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.webhook_url = "https://other.example.org/telegram/webhook"
    settings = settings_for(telegram, tmp_path / "p.db", free_port())
    with pytest.raises(SystemExit) as exit_:
        await run(settings, TOKEN)
    assert exit_.value.code == 1
    (line,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "https://other.example.org/telegram/webhook" in line.getMessage()
    assert "TELEGRAM_WEBHOOK_URL" in line.getMessage()
    assert "deleteWebhook" in line.getMessage(), "it says how to remove the webhook"
    assert telegram.webhook_url == "https://other.example.org/telegram/webhook", "left as it was"
    assert not any(name in ("deleteWebhook", "getUpdates") for name, _ in telegram.calls)
    caplog.clear()
