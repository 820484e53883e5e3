"""The database a test runs on: a SQLite file by default, or PostgreSQL.

With VERTEBROBOT_TEST_DATABASE_URL set (for example
`postgresql+asyncpg://postgres@127.0.0.1:54329/postgres`, as scripts/check.sh sets it for its
PostgreSQL pass), every test database is a fresh PostgreSQL database on that server instead
of a file: one per path the test names, so two stores opened on one path share it, as two
instances share one database.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

TEST_DATABASE_ENV = "VERTEBROBOT_TEST_DATABASE_URL"
_made: dict[Path, str] = {}


def on_postgres() -> bool:
    """Whether this run's test databases are PostgreSQL."""
    return bool(os.environ.get(TEST_DATABASE_ENV))


def database_url(database: Path) -> str:
    """The URL of the test database that `database` (a file path in the test's folder) stands for."""
    base = os.environ.get(TEST_DATABASE_ENV)
    if not base:
        return f"sqlite:///{database}"
    if database not in _made:
        import psycopg  # only for the PostgreSQL pass

        name = f"t_{uuid.uuid4().hex[:16]}"
        admin = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        _made[database] = make_url(base).set(database=name).render_as_string(hide_password=False)
    return _made[database]
