"""`vertebrobot run` that cannot start says why in one line (what is wrong, what to do), with no
traceback and no token, and exits non-zero; each run is a process of its own on loopback only."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.entrypoints.config import Settings
from bot.entrypoints.startup import check_web_secret
from tests.unit.bot.entrypoints.cli_run import closed_port, fake_telegram, vertebrobot

TOKEN = "777002:RUN-TEST-TOKEN-SECRET"
# A line of a Python traceback's stack.
STACK_LINE = re.compile(r'\s+File "')


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A working directory of its own, with the clinic's zone set (so the log holds no warning)."""
    (tmp_path / "clinic.yaml").write_text('clinic:\n  timezone: "Europe/Sofia"\n', encoding="utf-8")
    return tmp_path


def environment(workdir: Path, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "VERTEBROBOT_CLINIC_FILE": str(workdir / "clinic.yaml"),
        "VERTEBROBOT_HTTP_PORT": "0",
        **extra,
    }


def failure(done: subprocess.CompletedProcess[str], *secrets: str) -> str:
    """The one line a failed start printed, after checking how it failed."""
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    for secret in (TOKEN.split(":")[1], *secrets):
        assert secret not in done.stderr + done.stdout
    lines = done.stderr.splitlines()
    assert not any(STACK_LINE.match(line) for line in lines), done.stderr
    assert [line for line in lines if line.startswith("error:")] == lines[-1:], "the last line says it"
    assert not any(" ERROR " in line for line in lines), "the log has no error record with a traceback"
    return lines[-1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def test_a_token_telegram_refuses_is_one_line_without_the_token(workdir: Path) -> None:
    with fake_telegram("777002:THE-RIGHT-TOKEN") as telegram:
        done = vertebrobot(
            "run", cwd=workdir, env=environment(workdir, TELEGRAM_API_BASE_URL=telegram.base_url)
        )
    assert failure(done) == (
        "error: Telegram does not accept TELEGRAM_BOT_TOKEN (Unauthorized): copy the bot's token "
        "again from @BotFather (/mybots, API Token) and set TELEGRAM_BOT_TOKEN to it"
    )
    assert re.search(r"INFO bot\.entrypoints\.bootstrap: content from \S+/content$", done.stderr, re.M), (
        "the start-up names the content it uses"
    )


def test_an_unreachable_bot_api_is_one_line(workdir: Path) -> None:
    port = closed_port()
    done = vertebrobot(
        "run", cwd=workdir, env=environment(workdir, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot")
    )
    line = failure(done)
    assert line.startswith(f"error: cannot reach the Telegram Bot API at http://127.0.0.1:{port} (")
    assert line.endswith(
        "): check the network connection, proxy and firewall (and TELEGRAM_API_BASE_URL, if set), "
        "then start again"
    )


def test_a_port_in_use_is_one_line_before_telegram_is_asked(workdir: Path, busy_port: int) -> None:
    with fake_telegram(TOKEN) as telegram:
        done = vertebrobot(
            "run",
            cwd=workdir,
            env=environment(
                workdir, TELEGRAM_API_BASE_URL=telegram.base_url, VERTEBROBOT_HTTP_PORT=str(busy_port)
            ),
        )
        asked = [name for name, _ in telegram.calls]
    assert failure(done) == (
        f"error: cannot listen on 127.0.0.1:{busy_port} for the clinic API (address already in use): "
        "another program (or another vertebrobot) is using it: stop that, or set "
        "VERTEBROBOT_HTTP_PORT to a free port"
    )
    assert asked == [], "nothing was started"
    assert "clinic API and /healthz on" not in done.stderr


def test_postgresql_without_its_driver_is_one_line(workdir: Path) -> None:
    # asyncpg may be installed here: the process is started with its import made to fail.
    password = "pg-secret-password"
    env = environment(workdir, DATABASE_URL=f"postgresql://bot:{password}@127.0.0.1:{closed_port()}/bot")
    code = (
        "import sys; sys.modules['asyncpg'] = None; from bot.entrypoints.cli import main; "
        "raise SystemExit(main(['run']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "VERTEBROBOT_"))} | env,
        cwd=workdir,
        timeout=60,
        check=False,
    )
    assert failure(done, password) == (
        "error: DATABASE_URL names PostgreSQL, but its driver asyncpg is not installed: "
        "pip install 'vertebrobot[postgres]' (in the checkout: pip install '.[postgres]'), then start again"
    )


def test_a_postgresql_that_cannot_be_reached_is_one_line_without_the_password(workdir: Path) -> None:
    pytest.importorskip("asyncpg")
    password = "pg-secret-password"
    port = closed_port()
    env = environment(workdir, DATABASE_URL=f"postgresql://bot:{password}@127.0.0.1:{port}/bot")
    done = vertebrobot("run", cwd=workdir, env=env)
    line = failure(done, password)
    assert line.startswith(f"error: cannot reach the PostgreSQL database bot on 127.0.0.1:{port} (")
    assert line.endswith("check that it runs and that DATABASE_URL's address, user and password are right")


@pytest.mark.parametrize(
    ("place", "reason"),
    [("missing/bot.db", "no such file or directory"), ("a-file/bot.db", "not a directory")],
)
def test_a_sqlite_file_that_cannot_be_created_is_one_line(workdir: Path, place: str, reason: str) -> None:
    (workdir / "a-file").write_text("not a folder", encoding="utf-8")
    database = workdir / place
    done = vertebrobot("run", cwd=workdir, env=environment(workdir, DATABASE_URL=f"sqlite:///{database}"))
    assert failure(done) == (
        f"error: cannot open the SQLite database {database}: {reason}; make sure its folder exists "
        "and this user may write there, or set DATABASE_URL=sqlite:///<a writable file>"
    )


def test_a_sqlite_file_that_cannot_be_written_is_one_line(workdir: Path) -> None:
    # Root may write anywhere, so the file is made unusable instead: a folder where the file should be.
    database = workdir / "bot.db"
    database.mkdir()
    done = vertebrobot("run", cwd=workdir, env=environment(workdir, DATABASE_URL=f"sqlite:///{database}"))
    line = failure(done)
    assert line.startswith(f"error: cannot open the SQLite database {database}: unable to open database file")
    assert line.endswith("or set DATABASE_URL=sqlite:///<a writable file>")


@pytest.mark.parametrize("command", ["run", "serve-api"])
def test_the_web_page_on_postgresql_without_a_web_secret_is_one_line(workdir: Path, command: str) -> None:
    # Several instances share a PostgreSQL database: a key of each process's own would sign people
    # out at every restart and let a session work on one instance only. Nothing is opened first.
    password = "pg-secret-password"
    env = environment(
        workdir,
        DATABASE_URL=f"postgresql://bot:{password}@127.0.0.1:{closed_port()}/bot",
        VERTEBROBOT_WEB_URL="https://bot.example.org",
        VERTEBROBOT_WEB_SECRET="",
    )
    done = vertebrobot(command, cwd=workdir, env=env)
    assert failure(done, password) == (
        "error: VERTEBROBOT_WEB_SECRET is not set, and the clinic web page (VERTEBROBOT_WEB_URL) is served "
        "by instances sharing a PostgreSQL database: its sessions would work on one instance only and end "
        "at every restart; set VERTEBROBOT_WEB_SECRET to the same long random value on every instance "
        "(e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'), "
        "then start again"
    )


@pytest.mark.parametrize(
    ("database", "web_url", "said"),
    [
        ("sqlite:///bot.db", "https://bot.example.org", "end when it restarts"),
        ("sqlite:///bot.db", None, "end when it restarts"),
        ("postgresql://bot@127.0.0.1/bot", None, "end when it restarts (and work only on this instance)"),
    ],
)
def test_without_a_web_secret_elsewhere_one_line_says_sessions_end_at_restart(
    database: str, web_url: str | None, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(DATABASE_URL=database, VERTEBROBOT_WEB_URL=web_url, VERTEBROBOT_WEB_SECRET=None)
    with caplog.at_level(logging.INFO, logger="bot.entrypoints.startup"):
        check_web_secret(settings, shared=database.startswith("postgresql"))
    assert [record.getMessage() for record in caplog.records] == [
        "VERTEBROBOT_WEB_SECRET is not set: clinic web page sessions are signed with this process's own key "
        f"and {said}"
    ]
    caplog.clear()
    check_web_secret(settings.model_copy(update={"web_secret": "s" * 43}), shared=True)
    assert caplog.records == [], "with the secret set, nothing to say"
