"""`vertebrobot run` serves the clinic API and /healthz beside the bot; webhook mode checks the secret."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx

from bot.entrypoints.config import Settings
from bot.entrypoints.runner import run
from bot.testing.fake_bot_api import FakeBotAPI
from tests.databases import database_url
from tests.e2e.conftest import TOKEN, Patient


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_healthy(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):  # bounded: at most ~10 s
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
        welcome, _ = await Patient(telegram, 601).send("/start", replies=2)
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
        await telegram.wait_for_bot_messages(602, 2)
        assert len(telegram.bot_messages(602)) == 2, "answered once: the refused calls did nothing"
    finally:
        stop.set()
        await task
