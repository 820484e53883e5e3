"""Several instances on one database share one send budget: together they never send more than
the rate in any second, reminders leave a token for replies, and a 429 seen by one pauses all."""

from __future__ import annotations

import asyncio
import logging
import time as wall_time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.store import Store
from bot.db.tables import SEND_BUDGET
from bot.services.ratelimit import SharedSendBudget
from tests.databases import database_url, on_postgres
from tests.support import VirtualTime

KEY = "bot123456"


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    store = Store(database_url(tmp_path / "budget.db"))
    await store.migrate()
    yield store  # type: ignore[misc]
    await store.close()


def instance(store: Store, time: VirtualTime, rate: int = 29) -> SharedSendBudget:
    return SharedSendBudget(store, KEY, rate, wall_clock=time.clock, clock=time.clock, sleep=time.sleep)


async def test_two_instances_together_never_send_more_than_the_rate_in_a_second(store: Store) -> None:
    time = VirtualTime(1_800_000_000.0)
    first, second = instance(store, time), instance(store, time)
    sent: list[float] = []
    for number in range(150):
        await (first if number % 2 else second).turn(10_000 + number, background=number % 3 == 0)
        sent.append(time.now)
    for index in range(len(sent) - 29):
        assert sent[index + 29] - sent[index] >= 1.0 - 1e-6, "a 30th send in one second waits"
    assert sent[-1] - sent[0] < 150 / 28 + 1, "and the shared rate is used, not wasted"


async def test_a_reply_that_finds_the_bucket_empty_goes_before_every_reminder(store: Store) -> None:
    async def take(now: float, background: bool) -> float:
        return await store.run(
            lambda tx: tx.send_budget.take(KEY, now, rate=28.0, capacity=1.0, background=background)
        )

    assert await take(100.0, background=True) == 0.0  # a reminder takes the one token
    assert await take(100.0, background=False) > 0, "the reply finds the bucket empty..."
    later = 100.0 + 1 / 28  # a token later
    assert await take(later, background=True) > 0, "...so the next token is not a reminder's"
    assert await take(later, background=False) == 0.0, "but the reply's"
    assert await take(later + 1 / 28, background=True) == 0.0, "and then reminders go on"


async def test_a_429_seen_by_one_instance_pauses_the_others(store: Store) -> None:
    time = VirtualTime(1_800_000_000.0)
    first, second = instance(store, time), instance(store, time)
    await second.turn(1)  # the bucket exists
    start = time.now
    await first.halt(3)
    await second.turn(2)
    assert time.now - start >= 3.0


postgres_only = pytest.mark.skipif(not on_postgres(), reason="several instances share PostgreSQL only")


@postgres_only
async def test_a_send_that_finds_the_shared_row_locked_goes_at_this_instance_s_share_after_a_bounded_wait(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    time = VirtualTime(1_800_000_000.0)
    budget = SharedSendBudget(
        store, KEY, 29, timeout=0.2, wall_clock=time.clock, clock=time.clock, sleep=time.sleep
    )
    await budget.turn(1)  # the bucket exists
    engine = store.engine
    assert isinstance(engine, AsyncEngine)
    async with engine.connect() as other:  # another instance's transaction holds the row
        await other.execute(select(SEND_BUDGET).where(SEND_BUDGET.c.key == KEY).with_for_update())
        started = asyncio.get_running_loop().time()
        await budget.turn(2)
        waited = asyncio.get_running_loop().time() - started
        await other.rollback()
    assert waited < 2.0, f"the reply waited {waited:.2f} s for the shared row"
    assert "shared send budget could not be reached" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    time.now += budget.fallback_seconds
    await budget.turn(3)  # the bucket is used again, over a sound connection
    assert await store.run(lambda tx: tx.send_budget.take(KEY, time.now, rate=28.0, capacity=1.0)) > 0


@postgres_only
async def test_a_429_seen_by_an_instance_whose_clock_runs_fast_pauses_the_others_for_its_retry_after_only(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    time = VirtualTime(1_800_000_000.0)
    first = SharedSendBudget(store, KEY, 29, clock=time.clock, sleep=time.sleep)  # the database's clock
    await store.run(lambda tx: tx.send_budget.take(KEY, None, rate=28.0, capacity=1.0))  # the bucket exists
    real = wall_time.time
    monkeypatch.setattr(wall_time, "time", lambda: real() + 60)  # the first instance's clock
    await first.halt(3)
    monkeypatch.setattr(wall_time, "time", real)
    wait = await store.run(lambda tx: tx.send_budget.take(KEY, None, rate=28.0, capacity=1.0))
    assert 2.0 < wait <= 3.0, "the others wait three seconds by the database's clock, not a minute more"
