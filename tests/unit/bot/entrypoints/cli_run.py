"""What the clinic command-line tests share: a database of their own for each test (the `database`
fixture, used by the files that ask for it) and running a command."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.entrypoints.cli import main
from bot.testing.fake_bot_api import FakeBotAPI

# Ahead of the real clock and within the two years a procedure may be booked ahead (any day of the year).
YEAR = dt.datetime.now(dt.UTC).year + 1
FUTURE = f"{YEAR}-11-24T09:30"
LINK = re.compile(r"https://t\.me/vertebrobot_test_bot\?start=[A-Za-z0-9_-]{32}$")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "clinics.db"
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "vertebrobot_test_bot")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], list[str]]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def vertebrobot(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """The command in a process of its own, in `cwd`; no token or content folder unless given."""
    unset = ("TELEGRAM_BOT_TOKEN", "VERTEBROBOT_CONTENT_DIR")
    environment = {k: v for k, v in os.environ.items() if k not in unset} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.entrypoints.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=60,
        check=False,
    )


@contextlib.contextmanager
def fake_telegram(token: str, username: str = "clinic_helper_bot") -> Iterator[FakeBotAPI]:
    """The fake Bot API on 127.0.0.1, served from a thread of its own, so that a command run in
    this thread (its own event loop and all) can call it; it answers getMe with `username`."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def started() -> FakeBotAPI:
        server = FakeBotAPI(token, bot_username=username)
        await server.start()
        return server

    server = asyncio.run_coroutine_threadsafe(started(), loop).result(timeout=10)
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then let go): connections to it are refused."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
