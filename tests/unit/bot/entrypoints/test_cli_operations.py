"""The operator's kit on the command line: the version, a database backup while the bot runs, and a
local chat whose screen carries no library log lines."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import bot
from tests.unit.bot.entrypoints.cli_run import run

ROOT = Path(__file__).parents[4]


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run(capsys, "--version")
    assert done.value.code == 0
    assert capsys.readouterr().out == f"vertebrobot {bot.__version__}\n"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bot.__version__"}
    assert f"## [{bot.__version__}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_db_backup_copies_the_database_in_use_into_a_new_private_file(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "clinic", "add", "north", "--name", "North", "--timezone", "Europe/Sofia")[0] == 0
    holder = sqlite3.connect(database)  # the bot has the database open meanwhile
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM clinics").fetchone()  # a reader mid-transaction
        code, out, err = run(capsys, "db", "backup", "copy.db")
    finally:
        holder.rollback()
        holder.close()
    assert (code, err) == (0, [])
    assert out[0].startswith("copy.db: backup of the database written (")
    copy = database.with_name("copy.db")
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600, "it holds patients' answers"
    with sqlite3.connect(copy) as restored:
        names = [row[0] for row in restored.execute("SELECT slug FROM clinics ORDER BY slug")]
    assert "north" in names
    before = copy.read_bytes()
    code, out, err = run(capsys, "db", "backup", "copy.db")
    assert code == 1
    assert err == ["no backup made: copy.db: the file exists; name a new one (nothing was overwritten)"]
    assert copy.read_bytes() == before


def test_db_backup_of_postgresql_points_at_pg_dump(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:secret@db.example.org/vertebrobot")
    code, out, err = run(capsys, "db", "backup", "copy.dump")
    assert (code, out) == (1, [])
    (line,) = err
    assert "pg_dump" in line
    assert "secret" not in line
    assert not (tmp_path / "copy.dump").exists()


def test_db_backup_without_a_file_says_what_to_give(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "db", "backup") == (
        2,
        [],
        ["give the file to write the backup to: vertebrobot db backup FILE"],
    )


def test_the_local_chat_screen_shows_no_library_log_lines(tmp_path: Path) -> None:
    # `vertebrobot run` without a token at a terminal: the chat, with the operator's log level INFO.
    main_end, terminal = os.openpty()
    try:
        os.write(main_end, b"1\n/quit\n")
        environment = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
        done = subprocess.run(
            [sys.executable, "-m", "bot.entrypoints.cli", "run"],
            stdin=terminal,
            capture_output=True,
            text=True,
            env=environment | {"VERTEBROBOT_LOG_LEVEL": "INFO"},
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
    finally:
        os.close(main_end)
        os.close(terminal)
    assert done.returncode == 0, done.stderr
    assert "[1]" in done.stdout, "the chat ran"
    assert "alembic" not in done.stderr
    assert " INFO " not in done.stderr
