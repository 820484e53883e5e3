"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.db.store import Store
from bot.db.tables import Base
from tests.databases import database_url


async def test_migrations_match_the_tables(tmp_path: Path) -> None:
    store = Store(database_url(tmp_path / "schema.db"))
    await store.migrate()

    def differences(tx) -> list[object]:  # type: ignore[no-untyped-def]
        return list(compare_metadata(MigrationContext.configure(tx.conn), Base.metadata))

    assert await store.run(differences) == []
    await store.migrate()  # running them again changes nothing and does not fail
    await store.close()
