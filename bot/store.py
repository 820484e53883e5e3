"""Storage with SQLAlchemy 2 (async): users' places in the flows and safety events."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool

from flows.engine import Session

MIGRATIONS = Path(__file__).parent / "migrations"
Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The current time in UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of all tables."""


class UserRow(Base):
    """A patient: chat, language and place in the flows. No names, no message texts."""

    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    locale: Mapped[str] = mapped_column(String(8))
    flow: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(41))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class SafetyEventRow(Base):
    """A warning sign a patient reported: which sign and when, never their words."""

    __tablename__ = "safety_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.user_id", ondelete="CASCADE"), index=True
    )
    sign: Mapped[str] = mapped_column(String(40))
    flow: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(41))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


@dataclass
class UserRecord:
    """A loaded user: the engine's plain session plus the adapter's fields."""

    user_id: int
    chat_id: int
    locale: str
    session: Session
    is_new: bool


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers and the writer work together; NORMAL is durable across app crashes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    """An async engine; in-memory SQLite shares one connection so tables persist."""
    if url.startswith("sqlite") and (":memory:" in url or url.endswith("://")):
        engine = create_async_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


USERS = UserRow.__table__
SAFETY_EVENTS = SafetyEventRow.__table__
_LOAD_USER = select(
    USERS.c.user_id, USERS.c.chat_id, USERS.c.locale, USERS.c.flow, USERS.c.state, USERS.c.answers
).where(USERS.c.user_id == bindparam("user_id"))


class Store:
    """The one way in to the database for the bot."""

    def __init__(self, url: str, *, clock: Clock = utcnow) -> None:
        self.engine = make_engine(url)
        self.clock = clock

    async def migrate(self) -> None:
        """Bring the schema up to date with the Alembic migrations."""
        async with self.engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def close(self) -> None:
        """Release every connection."""
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One unit of work: committed at the end, rolled back on an error."""
        async with self.engine.begin() as conn:
            yield Transaction(conn, self.clock)


class Transaction:
    """Reads and writes inside one transaction (SQLAlchemy Core: this is the per-update path)."""

    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock
        self._known: set[int] = set()

    async def load_user(self, user_id: int) -> UserRecord | None:
        """The user's record, or None for someone new."""
        row = (await self.conn.execute(_LOAD_USER, {"user_id": user_id})).first()
        if row is None:
            return None
        self._known.add(user_id)
        session = Session(row.flow, row.state, row.answers or {})
        return UserRecord(row.user_id, row.chat_id, row.locale, session, is_new=False)

    async def save_user(self, record: UserRecord) -> None:
        """Write the user's place and answers."""
        values = {
            "chat_id": record.chat_id,
            "locale": record.locale,
            "flow": record.session.flow,
            "state": record.session.state,
            "answers": record.session.answers,
            "updated_at": self.clock(),
        }
        if record.user_id in self._known:
            await self.conn.execute(update(USERS).where(USERS.c.user_id == record.user_id).values(values))
        else:
            await self.conn.execute(
                insert(USERS).values(user_id=record.user_id, created_at=values["updated_at"], **values)
            )
            self._known.add(record.user_id)

    async def record_warning_sign(self, user_id: int, sign: str, session: Session) -> None:
        """Keep a note that a user reported a warning sign: which and where, never their words."""
        await self.conn.execute(
            insert(SAFETY_EVENTS).values(
                user_id=user_id, sign=sign, flow=session.flow, state=session.state, created_at=self.clock()
            )
        )

    async def warning_signs(self, user_id: int) -> list[str]:
        """The signs a user reported, oldest first."""
        result = await self.conn.execute(
            select(SAFETY_EVENTS.c.sign).where(SAFETY_EVENTS.c.user_id == user_id).order_by(SAFETY_EVENTS.c.id)
        )
        return list(result.scalars())
