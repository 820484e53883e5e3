"""Storage with SQLAlchemy 2: users' places in the flows and safety events.

One unit of work per update, written once as plain SQLAlchemy Core and run two ways:
- SQLite (the default, one process): on the event loop itself. A transaction on a local
  SQLite file in WAL mode takes tens of microseconds, while handing it to a worker thread
  (aiosqlite does that for every cursor call) cost about 1.5 ms of CPU per update under load
  (bench/throughput.py; docs/decisions/0001-sqlite-on-the-event-loop.md).
- any other database (PostgreSQL for several instances): on SQLAlchemy's async engine, the
  same code through `AsyncConnection.run_sync`, so the event loop never waits on the network.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    bindparam,
    event,
    exc,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine, create_engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.db.audit_repo import AuditLog
from bot.db.booking_repo import Bookings
from bot.db.checkin_repo import Checkins
from bot.db.clinic_repo import Clinics
from bot.db.companion_repo import Companions
from bot.db.privacy_repo import Privacy
from bot.db.reminder_repo import Reminders
from bot.db.retention_repo import PatientData
from bot.db.send_budget_repo import SharedBucket
from bot.db.settings_repo import BotSettings
from bot.db.staff_repo import Staff
from bot.db.tables import SAFETY_EVENTS, USERS
from bot.db.update_repo import ProcessedUpdates
from bot.db.web_repo import Alerts, WebSessions, WebSignIns
from flows.engine import Session

MIGRATIONS = Path(__file__).parent / "migrations"
Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The current time in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass
class UserRecord:
    """A loaded user: the engine's plain session plus the adapter's fields."""

    user_id: int
    chat_id: int
    locale: str
    session: Session
    is_new: bool
    version: int = 0


class StaleRecordError(Exception):
    """Another writer changed the user since this copy was read; start the update again."""


class DatabaseUnavailableError(Exception):
    """The database cannot be opened; the message says what is wrong and what to do, in one line."""


POSTGRES_DRIVER_MISSING = (
    "DATABASE_URL names PostgreSQL, but its driver asyncpg is not installed: "
    "pip install 'vertebrobot[postgres]' (in the checkout: pip install '.[postgres]'), then start again"
)


SQLITE_BUSY_SECONDS = 2.0
T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers and the writer work together; NORMAL is durable across app crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_problem(path: str, reason: str) -> DatabaseUnavailableError:
    return DatabaseUnavailableError(
        f"cannot open the SQLite database {os.path.abspath(path)}: {reason}; make sure its folder "
        "exists and this user may write there, or set DATABASE_URL=sqlite:///<a writable file>"
    )


def _create_private(path: str) -> None:
    """Create a missing database file readable by its owner only (0600): it holds patients' answers.
    SQLite gives its -wal and -shm files the database file's mode. An existing file is left alone."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError as error:
        raise _sqlite_problem(path, (error.strerror or type(error).__name__).lower()) from None


def make_engine(url: str) -> Engine | AsyncEngine:
    """A plain engine for SQLite (in memory: one shared connection), an async one otherwise."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_async_engine(parsed, hide_parameters=True)
        except ImportError as error:
            if parsed.get_backend_name() == "postgresql" and error.name == "asyncpg":
                raise DatabaseUnavailableError(POSTGRES_DRIVER_MISSING) from None
            raise
    parsed = parsed.set(drivername="sqlite")  # the standard library's sqlite3, no thread hops
    if parsed.database in (None, "", ":memory:"):
        engine = create_engine(
            parsed, poolclass=StaticPool, connect_args={"check_same_thread": False}, hide_parameters=True
        )
    else:
        if not parsed.database.startswith("file:"):
            _create_private(parsed.database)
        # A short busy timeout: the event loop waits at most this long for another writer.
        # hide_parameters: an error must not print a patient's answers into the logs.
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_SECONDS}, hide_parameters=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


_LOAD_USER = select(
    USERS.c.user_id,
    USERS.c.chat_id,
    USERS.c.locale,
    USERS.c.flow,
    USERS.c.state,
    USERS.c.answers,
    USERS.c.version,
).where(USERS.c.user_id == bindparam("user_id"))
_SAVE_USER = (
    update(USERS)
    .where(USERS.c.user_id == bindparam("uid"), USERS.c.version == bindparam("old_version"))
    .values(
        chat_id=bindparam("chat_id"),
        locale=bindparam("locale"),
        flow=bindparam("flow"),
        state=bindparam("state"),
        answers=bindparam("answers"),
        version=bindparam("new_version"),
        updated_at=bindparam("now"),
    )
)


class Store:
    """The one way in to the database for the bot."""

    def __init__(self, url: str, *, clock: Clock = utcnow) -> None:
        self.engine = make_engine(url)
        self.clock = clock

    @property
    def shared(self) -> bool:
        """Whether several instances can share this database (PostgreSQL; not a SQLite file)."""
        return self.engine.dialect.name == "postgresql"

    async def run(self, work: Callable[[Transaction], T]) -> T:
        """Run `work` in one transaction: committed if it returns, rolled back if it raises."""
        if isinstance(self.engine, AsyncEngine):
            async with self.engine.begin() as conn:
                return await conn.run_sync(lambda sync: work(Transaction(sync, self.clock)))
        with self.engine.begin() as sync_conn:
            return work(Transaction(sync_conn, self.clock))

    async def run_alone(self, work: Callable[[Transaction], T]) -> T:
        """Run `work`, a single statement, as its own transaction on the server (autocommit): a
        row it locks is held for the statement only, not for the round trips of BEGIN and COMMIT
        (the shared send budget's row, which every instance takes turns from)."""
        if isinstance(self.engine, AsyncEngine):
            async with self.engine.connect() as conn:
                alone = await conn.execution_options(isolation_level="AUTOCOMMIT")
                return await alone.run_sync(lambda sync: work(Transaction(sync, self.clock)))
        return await self.run(work)

    async def migrate(self) -> None:
        """Bring the schema up to date with the Alembic migrations (the first use of the database:
        DatabaseUnavailableError if a SQLite file cannot be opened or written)."""
        url = self.engine.url
        if isinstance(self.engine, AsyncEngine):
            try:  # connecting alone first: a failure here is the server, not a migration
                async with self.engine.connect():
                    pass
            except (OSError, exc.DBAPIError) as error:  # not running, refused, a wrong login
                reason = type(getattr(error, "orig", None) or error).__name__
                raise DatabaseUnavailableError(
                    f"cannot reach the PostgreSQL database {url.database} on {url.host}:{url.port or 5432} "
                    f"({reason}): check that it runs and that DATABASE_URL's address, user and password "
                    "are right"
                ) from None
        try:
            await self.run(lambda tx: _upgrade(tx.conn))
        except exc.OperationalError as error:
            database = url.database
            if url.get_backend_name() != "sqlite" or not database:
                raise
            raise _sqlite_problem(database, str(error.orig)) from None

    async def close(self) -> None:
        """Release every connection."""
        if isinstance(self.engine, AsyncEngine):
            await self.engine.dispose()
        else:
            self.engine.dispose()


class Transaction:
    """Reads and writes inside one transaction (SQLAlchemy Core: this is the per-update path)."""

    def __init__(self, conn: Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock
        self.reminders = Reminders(conn)
        self.checkins = Checkins(conn)
        self.clinics = Clinics(conn)
        self.bookings = Bookings(conn)
        self.companions = Companions(conn)
        self.staff = Staff(conn)
        self.privacy = Privacy(conn)
        self.patient_data = PatientData(conn)
        self.audit = AuditLog(conn)
        self.updates = ProcessedUpdates(conn)
        self.send_budget = SharedBucket(conn)
        self.bot_settings = BotSettings(conn)
        self.signins, self.alerts = WebSignIns(conn), Alerts(conn)
        self.web_sessions = WebSessions(conn)

    def load_user(self, user_id: int) -> UserRecord | None:
        """The user's record, or None for someone new."""
        row = self.conn.execute(_LOAD_USER, {"user_id": user_id}).first()
        if row is None:
            return None
        session = Session(row.flow, row.state, row.answers or {})
        return UserRecord(row.user_id, row.chat_id, row.locale, session, is_new=False, version=row.version)

    def save_user(self, record: UserRecord) -> None:
        """Write the user's place and answers; StaleRecordError if someone else wrote first."""
        now = self.clock()
        values = {
            "chat_id": record.chat_id,
            "locale": record.locale,
            "flow": record.session.flow,
            "state": record.session.state,
            "answers": record.session.answers,
        }
        if record.is_new:
            try:
                self.conn.execute(
                    insert(USERS).values(
                        user_id=record.user_id, version=1, created_at=now, updated_at=now, **values
                    )
                )
            except exc.IntegrityError as error:
                raise StaleRecordError(record.user_id) from error
            record.is_new, record.version = False, 1
            return
        result = self.conn.execute(
            _SAVE_USER,
            {
                "uid": record.user_id,
                "old_version": record.version,
                "new_version": record.version + 1,
                "now": now,
            }
            | values,
        )
        if result.rowcount != 1:
            raise StaleRecordError(record.user_id)
        record.version += 1

    def record_warning_sign(
        self, user_id: int, sign: str, session: Session, procedure_id: int | None = None
    ) -> None:
        """Note a warning sign: which, where, under which procedure; never the words."""
        self.conn.execute(
            insert(SAFETY_EVENTS).values(
                user_id=user_id,
                sign=sign,
                procedure_id=procedure_id,
                flow=session.flow,
                state=session.state,
                created_at=self.clock(),
            )
        )

    def warning_signs(self, user_id: int) -> list[str]:
        """The signs a user reported, oldest first."""
        result = self.conn.execute(
            select(SAFETY_EVENTS.c.sign)
            .where(SAFETY_EVENTS.c.user_id == user_id)
            .order_by(SAFETY_EVENTS.c.id)
        )
        return list(result.scalars())
