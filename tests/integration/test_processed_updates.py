"""Webhook updates taken by one instance are skipped by every instance on the same database,
and forgotten a day later."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.db.store import Store
from bot.db.update_repo import TRIM_EVERY
from bot.entrypoints.webserver import claim
from tests.databases import database_url
from tests.support import FakeClock

START = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


async def test_an_update_is_taken_by_one_instance_of_two_on_one_database(tmp_path: Path) -> None:
    one = Store(database_url(tmp_path / "shared.db"))
    await one.migrate()
    two = Store(database_url(tmp_path / "shared.db"))
    assert await claim(one, 7) is True
    assert await claim(two, 7) is False, "the other instance skips it"
    assert await claim(one, 7) is False, "and so does the first, delivered again"
    assert await claim(two, 8) is True, "a new update is taken"
    await one.close()
    await two.close()


async def test_taken_updates_are_forgotten_after_a_day(tmp_path: Path) -> None:
    clock = FakeClock(START)
    store = Store(database_url(tmp_path / "trim.db"), clock=clock)
    await store.migrate()
    assert await claim(store, 1)
    clock.set(START + dt.timedelta(hours=23))
    assert await claim(store, TRIM_EVERY)  # this claim trims: nothing is a day old yet
    assert not await claim(store, 1), "a redelivery within the day is still skipped"
    clock.set(START + dt.timedelta(days=1, minutes=1))
    assert await claim(store, 2 * TRIM_EVERY)  # this one trims what is older than a day
    assert await claim(store, 1), "update 1, a day old, is forgotten"
    assert not await claim(store, TRIM_EVERY), "update 100, taken 2 hours ago, is kept"
    await store.close()
