"""Several instances on one database share one send budget: together they never send more than
29 in any second (Telegram allows 30) yet lose none of the rate, a waiting reply goes before reminders,
and a 429 seen by one pauses all."""

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
from tests.support import SharedVirtualTime, VirtualTime

KEY = "bot123456"


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    store = Store(database_url(tmp_path / "budget.db"))
    await store.migrate()
    yield store  # type: ignore[misc]
    await store.close()


def instance(store: Store, time: VirtualTime, rate: int = 29) -> SharedSendBudget:
    return SharedSendBudget(store, KEY, rate, wall_clock=time.clock, clock=time.clock, sleep=time.sleep)


async def test_two_instances_together_never_send_more_than_29_in_a_second(store: Store) -> None:
    time = VirtualTime(1_800_000_000.0)
    first, second = instance(store, time), instance(store, time)
    sent: list[float] = []
    for number in range(150):
        await (first if number % 2 else second).turn(10_000 + number, background=number % 3 == 0)
        sent.append(time.now)
    for index in range(len(sent) - 29):
        assert sent[index + 29] - sent[index] >= 1.0 - 1e-6, "a 30th send in one second waits"
    assert (len(sent) - 1) / (sent[-1] - sent[0]) > 27.9, "and the shared rate is used, not wasted"


async def test_instances_busy_between_sends_still_use_the_whole_rate(store: Store) -> None:
    """Each instance spends 50 ms on every send (the request, recording it): more than a turn
    (36 ms at 28/s). Turns taken ahead keep the rate; asking only when a token is there lost
    the turns that came while both were busy."""
    time = SharedVirtualTime(1_800_000_000.0)
    sent: list[float] = []

    async def sending(budget: SharedSendBudget, first_chat: int) -> None:
        for number in range(60):
            await budget.turn(first_chat + number, background=True)
            sent.append(time.now)
            await time.sleep(0.05)

    budgets = [
        SharedSendBudget(store, KEY, 29, wall_clock=time.clock, clock=time.clock, sleep=time.sleep)
        for _ in range(3)
    ]
    await time.run(*(sending(budget, 10_000 * n) for n, budget in enumerate(budgets, 1)))
    sent.sort()
    assert len(sent) == 180
    assert (len(sent) - 1) / (sent[-1] - sent[0]) > 27.9, "the rate (28) is used, not wasted"
    for index in range(len(sent) - 29):
        assert sent[index + 29] - sent[index] >= 1.0 - 1e-6, "and never more than 29 in a second"


async def test_a_reply_that_has_to_wait_goes_before_every_reminder(store: Store) -> None:
    rate = 29.0

    async def take(now: float, background: bool) -> tuple[bool, float]:
        turn = await store.run(
            lambda tx: tx.send_budget.take(KEY, now, rate=rate, capacity=1.0, background=background)
        )
        return turn.taken, turn.wait

    assert await take(100.0, background=True) == (True, 0.0)  # the one token, at once
    assert await take(100.0, background=True) == (True, pytest.approx(1 / rate)), "the next, ahead"
    assert await take(100.0, background=False) == (True, pytest.approx(2 / rate)), "a reply: after it..."
    taken, _ = await take(100.0 + 1 / rate, background=True)
    assert not taken, "...and no reminder takes a turn before the reply has had its own"
    assert await take(100.0 + 2 / rate, background=True) == (True, pytest.approx(1 / rate)), "then on"


async def test_reminders_take_no_more_than_two_turns_ahead(store: Store) -> None:
    """So a reply is never queued behind more than two of them (70 ms at 29/s)."""
    turns = [
        await store.run(lambda tx: tx.send_budget.take(KEY, 100.0, rate=29.0, capacity=1.0, background=True))
        for _ in range(4)
    ]
    assert [turn.taken for turn in turns] == [True, True, True, False]


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
    _, wait, _ = await store.run(lambda tx: tx.send_budget.take(KEY, time.now, rate=28.0, capacity=1.0))
    assert wait > 0, "the third send took the bucket's token"


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
    taken, wait, _ = await store.run(lambda tx: tx.send_budget.take(KEY, None, rate=28.0, capacity=1.0))
    assert not taken
    assert 2.0 < wait <= 3.0, "the others wait three seconds by the database's clock, not a minute more"


async def test_a_turn_asked_with_an_older_clock_reading_still_comes_a_full_turn_after_the_last(
    store: Store,
) -> None:
    """An instance reads its clock, then its statement waits for another's: its turn is reckoned
    from the later moment the bucket was last taken from, never squeezed in before it."""

    async def take(now: float) -> tuple[bool, float]:
        turn = await store.run(
            lambda tx: tx.send_budget.take(KEY, now, rate=29.0, capacity=1.0, background=True)
        )
        return turn.taken, turn.wait

    await take(100.0)
    assert await take(100.05) == (True, 0.0)  # the bucket had refilled: at once, at 100.05
    taken, wait = await take(100.0)  # asked with a reading from before that
    assert taken
    assert 100.0 + wait == pytest.approx(100.05 + 1 / 29), "a full turn after the send at 100.05"


async def test_a_send_answered_late_costs_every_instance_one_turn(store: Store) -> None:
    """The turn after a send that may have reached Telegram late (answered 100 ms after it left)
    comes two turns on, whichever instance takes it, not one."""
    time = VirtualTime(1_800_000_000.0)
    first, second = instance(store, time), instance(store, time)
    await first.turn(1)
    began = time.now
    await first.sent(0.1)
    await second.turn(2)
    assert time.now - began == pytest.approx(2 / 28, abs=1e-3)
    await second.sent(0.005)  # answered at once: nothing spent
    await first.turn(3)
    assert time.now - began == pytest.approx(3 / 28, abs=1e-3)
