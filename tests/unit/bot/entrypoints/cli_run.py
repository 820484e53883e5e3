"""What the clinic command-line tests share: a database of their own for each test (the `database`
fixture, used by the files that ask for it) and running a command."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.entrypoints.cli import main

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
