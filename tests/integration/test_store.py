"""Storage: records round-trip, outdated writes are refused, the service starts again."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.db.store import StaleRecordError, Store, UserRecord
from bot.entrypoints.bootstrap import wire
from bot.entrypoints.config import Settings
from bot.services.clinics import ClinicService
from bot.services.service import Incoming
from flows.engine import Event, Session, callback_data
from flows.planning import EMPTY_PLAN
from tests.databases import database_url


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    store = Store(database_url(tmp_path / "store.db"))
    await store.migrate()
    return store


async def test_a_record_round_trips_with_nested_answers(store: Store) -> None:
    answers = {"candidacy": {"pain": "severe"}, "prepare": {"bring": ["scans", "clothes"]}}
    record = UserRecord(7, 70, "en", Session("prepare", "bring", answers), is_new=True)
    await store.run(lambda tx: tx.save_user(record))
    loaded = await store.run(lambda tx: tx.load_user(7))
    assert loaded is not None
    assert (loaded.chat_id, loaded.locale, loaded.session) == (70, "en", Session("prepare", "bring", answers))
    assert loaded.version == 1
    await store.close()


async def test_an_outdated_copy_cannot_overwrite_a_newer_write(store: Store, tmp_path: Path) -> None:
    await store.run(lambda tx: tx.save_user(UserRecord(8, 80, "en", Session("menu", "main"), is_new=True)))
    first = await store.run(lambda tx: tx.load_user(8))
    second = await store.run(lambda tx: tx.load_user(8))
    assert first is not None
    assert second is not None
    second.session.state = "second"
    await store.run(lambda tx: tx.save_user(second))
    first.session.state = "first"
    with pytest.raises(StaleRecordError):
        await store.run(lambda tx: tx.save_user(first))
    kept = await store.run(lambda tx: tx.load_user(8))
    assert kept is not None
    assert kept.session.state == "second"
    assert kept.version == 2
    await store.close()


async def test_a_new_user_created_twice_is_refused_not_duplicated(store: Store) -> None:
    await store.run(lambda tx: tx.save_user(UserRecord(9, 90, "en", Session("menu", "main"), is_new=True)))
    with pytest.raises(StaleRecordError):
        await store.run(
            lambda tx: tx.save_user(UserRecord(9, 90, "en", Session("about", "what"), is_new=True))
        )
    await store.close()


async def test_two_instances_on_one_database_never_lose_a_press(tmp_path: Path) -> None:
    settings = Settings(DATABASE_URL=database_url(tmp_path / "shared.db"))
    one, two = wire(settings), wire(settings)
    await one.store.migrate()
    await one.service.handle(Incoming(5, 5, "en", Event("command", "start")))
    # Instance two moves the patient on; instance one then handles a press made on the menu.
    await two.service.handle(Incoming(5, 5, "en", Event("button", callback_data("menu", "main", 0))))
    handled = await one.service.handle(
        Incoming(5, 5, "en", Event("button", callback_data("menu", "main", 1)))
    )
    assert handled.notice is not None, "the menu press is stale now, and is treated as stale"
    record = await one.store.run(lambda tx: tx.load_user(5))
    assert record is not None
    assert (record.session.flow, record.version) == ("about", 2)
    await one.store.close()
    await two.store.close()


async def test_the_service_handles_an_update_again_after_a_concurrent_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.db import store as store_module

    wiring = wire(Settings(DATABASE_URL=database_url(tmp_path / "retry.db")))
    await wiring.store.migrate()
    await wiring.service.handle(Incoming(6, 6, "en", Event("command", "start")))
    original = store_module.Transaction.save_user
    calls: list[int] = []

    def save_once_stale(self: store_module.Transaction, record: UserRecord) -> None:
        calls.append(record.version)
        if len(calls) == 1:
            raise StaleRecordError(record.user_id)
        original(self, record)

    monkeypatch.setattr(store_module.Transaction, "save_user", save_once_stale)
    handled = await wiring.service.handle(
        Incoming(6, 6, "en", Event("button", callback_data("menu", "main", 0)))
    )
    assert handled.notice is None
    assert len(calls) == 2
    record = await wiring.store.run(lambda tx: tx.load_user(6))
    assert record is not None
    assert record.session.flow == "about"
    await wiring.store.close()


async def test_two_instances_starting_on_a_new_database_share_one_default_clinic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(DATABASE_URL=database_url(tmp_path / "start.db"))
    one, two = wire(settings), wire(settings)
    await one.prepare()
    # Instance two looked before instance one wrote the row: its insert meets the row.
    from bot.db import reminder_repo

    original = reminder_repo.Reminders.default_clinic_id
    looks: list[int] = []

    def late_look(self: reminder_repo.Reminders) -> int | None:
        looks.append(1)
        return None if len(looks) == 1 else original(self)

    monkeypatch.setattr(reminder_repo.Reminders, "default_clinic_id", late_look)
    await two.prepare()
    clinics = [c for c in await two.clinics.clinics() if c.slug == "default"]
    assert len(clinics) == 1
    assert len(looks) >= 2, "the second start read the row the first one wrote"
    await one.store.close()
    await two.store.close()


def _modes(folder: Path, pattern: str) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.glob(pattern)}


async def test_a_new_sqlite_database_and_its_wal_files_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    if not database_url(tmp_path / "x.db").startswith("sqlite"):
        pytest.skip("a file mode is SQLite's")
    old_umask = os.umask(0o022)  # the usual umask: files readable by every local user
    try:
        store = Store(f"sqlite:///{tmp_path / 'private.db'}")
        await store.migrate()
        await store.run(
            lambda tx: tx.save_user(UserRecord(9, 90, "en", Session("menu", "main"), is_new=True))
        )
        files = _modes(tmp_path, "private.db*")
        await store.close()
    finally:
        os.umask(old_umask)
    assert files == {"private.db": 0o600, "private.db-wal": 0o600, "private.db-shm": 0o600}


async def test_the_bot_remembers_the_username_telegram_gave_last(store: Store) -> None:
    clinics = ClinicService(store, EMPTY_PLAN)
    assert await clinics.remembered_bot_username() is None
    await clinics.learn_bot_username("first_bot")
    await clinics.learn_bot_username("renamed_bot")
    later = ClinicService(store, EMPTY_PLAN)  # another process on the same database
    assert await later.remembered_bot_username() == "renamed_bot"
    await store.close()
