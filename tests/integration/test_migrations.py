"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from bot.db.store import MIGRATIONS, Store
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


async def test_the_privacy_migration_goes_down_and_up_again(tmp_path: Path) -> None:
    store = Store(database_url(tmp_path / "schema.db"))
    await store.migrate()

    def move(tx, revision: str) -> list[object]:  # type: ignore[no-untyped-def]
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = tx.conn
        if revision == "head":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
        return list(compare_metadata(MigrationContext.configure(tx.conn), Base.metadata))

    down = await store.run(lambda tx: move(tx, "0012"))
    assert {d[1].name for d in down if d[0] == "add_table"} == {"web_sessions"}, "0013 is undone"
    assert {d[1].table.name for d in down if d[0] == "add_index"} == {"web_sessions"}, "only its indexes go"
    assert {d[0] for d in down} == {"add_table", "add_index"}
    down = await store.run(lambda tx: move(tx, "0011"))
    assert {d[1].name for d in down if d[0] == "add_table"} == {"companions", "web_sessions"}, (
        "0012 is undone"
    )
    assert {d[3].name for d in down if d[0] == "add_column"} == {"role"}, "invites lose their role"
    down = await store.run(lambda tx: move(tx, "0010"))
    assert {d[1].name for d in down if d[0] == "add_table"} == {
        "companions",
        "web_sessions",
        "web_signins",
    }, "0011 too"
    assert {d[3].name for d in down if d[0] == "add_column"} == {
        "role",
        "handled_at",
        "handled_by_kind",
        "handled_by_id",
    }
    down = await store.run(lambda tx: move(tx, "0009"))
    added = {d[1].name for d in down if d[0] == "add_table"}
    assert added == {"bot_settings", "companions", "web_sessions", "web_signins"}, "0010 is undone too"
    down = await store.run(lambda tx: move(tx, "0008"))
    added = {d[1].name for d in down if d[0] == "add_table"}
    assert added == {"bot_settings", "companions", "send_budget", "web_sessions", "web_signins"}, (
        "0009 is undone too"
    )
    down = await store.run(lambda tx: move(tx, "0007"))
    added = {d[1].name for d in down if d[0] == "add_table"}
    assert added == {
        "bot_settings",
        "companions",
        "processed_updates",
        "send_budget",
        "web_sessions",
        "web_signins",
    }, "0008 is undone too"
    down = await store.run(lambda tx: move(tx, "0006"))
    added = {d[1].name for d in down if d[0] == "add_table"}
    assert added == {
        "audit_log",
        "bot_settings",
        "companions",
        "processed_updates",
        "send_budget",
        "web_sessions",
        "web_signins",
    }, "0007 is undone too"
    assert await store.run(lambda tx: move(tx, "base")) != []
    assert await store.run(lambda tx: move(tx, "head")) == []
    await store.close()
