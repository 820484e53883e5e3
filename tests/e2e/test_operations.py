"""`vertebrobot serve-api` runs the clinic API alone, never calling Telegram; with
VERTEBROBOT_LOG_FORMAT=json every log line is one JSON object, through the log guard."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

import httpx

from bot.entrypoints.logs import GuardedJsonFormatter
from bot.entrypoints.upstream import guard_logs
from bot.testing.fake_bot_api import FakeBotAPI
from tests.databases import database_url
from tests.e2e.conftest import TOKEN
from tests.e2e.test_serving import free_port, wait_healthy


async def test_serve_api_runs_the_clinic_api_alone_and_logs_json_lines(
    telegram: FakeBotAPI, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "DATABASE_URL": database_url(tmp_path / "api.db"),
        "VERTEBROBOT_HTTP_PORT": str(port),
        "VERTEBROBOT_LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.entrypoints.cli",
        "serve-api",
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_healthy(port)
        async with httpx.AsyncClient() as client:
            ready = await client.get(f"http://127.0.0.1:{port}/readyz")
            assert ready.status_code == 200
            assert set(ready.json()["checks"]) == {"database", "reminders"}, "no Telegram, no dispatcher"
            assert (await client.get(f"http://127.0.0.1:{port}/api/procedures")).status_code == 401
            assert (
                "vertebrobot_reminders_overdue 0.0"
                in (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            )
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.stderr is not None
        err = (await process.stderr.read()).decode()
        await process.wait()
    assert process.returncode == 0, err
    assert telegram.calls == [], "the API alone never calls Telegram"
    lines = [json.loads(line) for line in err.splitlines()]
    assert any(line["message"] == f"clinic API alone on http://127.0.0.1:{port}" for line in lines), err
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert TOKEN not in err


def test_a_json_log_line_keeps_the_token_and_message_texts_out(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    handler = logging.FileHandler(path)
    handler.setFormatter(GuardedJsonFormatter())
    guard_logs(TOKEN, [handler])
    library = logging.getLogger("telegram.ext.test_json")
    library.addHandler(handler)
    try:
        library.error("sent %s to %s", {"text": "Ayse, my legs went numb"}, f"bot{TOKEN}/sendMessage")
        try:
            raise RuntimeError(f"https://api.telegram.org/bot{TOKEN}/getMe failed")
        except RuntimeError:
            library.exception("call failed")
    finally:
        library.removeHandler(handler)
        handler.close()
    text = path.read_text(encoding="utf-8")
    first, second = (json.loads(line) for line in text.splitlines())
    assert first["message"] == "sent <withheld> to bot<token>/sendMessage"
    assert first["level"] == "ERROR"
    assert first["logger"] == "telegram.ext.test_json"
    assert "bot<token>/getMe" in second["exc_info"]
    assert TOKEN not in text
    assert "Ayse" not in text
