"""A copy of the database while the bot runs: SQLite's online backup API (pages copied in steps,
so writers are held up for moments only); PostgreSQL is backed up with its own pg_dump."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

PAGES_PER_STEP = 1024  # then the source is free for writers again for a moment
PG_DUMP_HINT = (
    "this is a PostgreSQL database: back it up with PostgreSQL's own tool, e.g. "
    '`pg_dump --format=custom --file=vertebrobot.dump "$DATABASE_URL"` '
    "(restore with pg_restore; see the README's Operations section)"
)


class BackupError(Exception):
    """The backup cannot be made; the message says why and what to do."""


def backup(url: str, target: Path) -> int:
    """Copy the SQLite database at `url` into the new file `target` (0600); returns its size in bytes."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        raise BackupError(PG_DUMP_HINT)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        raise BackupError(f"only a SQLite file or PostgreSQL can be backed up, not {parsed.drivername}")
    source = Path(parsed.database)
    if not source.is_file():
        raise BackupError(f"{source}: no such database file (check DATABASE_URL)")
    if target.resolve() == source.resolve():
        raise BackupError(f"{target}: that is the database itself; name a new file")
    try:  # a new file readable by its owner only: it holds patients' answers
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise BackupError(f"{target}: the file exists; name a new one (nothing was overwritten)") from None
    except OSError as exc:
        raise BackupError(f"{target}: cannot be written ({exc.strerror})") from None
    try:
        with (
            contextlib.closing(sqlite3.connect(source)) as src,
            contextlib.closing(sqlite3.connect(target)) as dst,
        ):
            src.backup(dst, pages=PAGES_PER_STEP)
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise BackupError(f"the backup failed: {exc}") from None
    return target.stat().st_size
