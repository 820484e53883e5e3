"""The dispatcher against the fake Bot API: 429 storms, 5xx answers, leases, two senders."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Bot

from bot.db.store import Store, utcnow
from bot.entrypoints.telegram_sender import TelegramSender
from bot.services.dispatcher import Dispatcher
from bot.services.ratelimit import SendBudget
from bot.testing.fake_bot_api import FakeBotAPI
from flows.check import load_content
from flows.planning import PlannedReminder
from flows.render import Renderer, clinic_params
from tests.databases import database_url
from tests.support import delivered, schedule_due_now

TOKEN = "555:DISPATCH"


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(TOKEN) as fake:
        yield fake


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store(database_url(tmp_path / "reminders.db"))
    await store.migrate()
    yield store
    await store.close()


def day_after(now: dt.datetime) -> PlannedReminder:
    """The next day's check-in, still to come."""
    tomorrow = now + dt.timedelta(days=1)
    return PlannedReminder(
        "day_after", "rem.day_after", tomorrow, tomorrow + dt.timedelta(days=1), tomorrow, False, "pending"
    )


def make_dispatcher(store: Store, bot: Bot, **options: object) -> Dispatcher:
    content = load_content()
    renderer = Renderer(content, clinic_params(content.clinic))
    return Dispatcher(store, TelegramSender(bot), renderer, content.clinic, **options)  # type: ignore[arg-type]


async def run_until(dispatcher: Dispatcher, server: FakeBotAPI, done: object, seconds: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    try:
        await server.wait_for(done, seconds)  # type: ignore[arg-type]
    finally:
        stop.set()
        await task


async def test_429_storms_and_failing_answers_lose_nothing_and_send_nothing_twice(
    server: FakeBotAPI, store: Store
) -> None:
    server.global_rate = 4  # far below our budget of 29 a second: a storm of 429s
    server.error_rate = 0.2  # and one send in five answered 502 Bad Gateway (seeded)...
    server.fail_next(
        "sendMessage", status=500, description="Internal Server Error", count=2
    )  # ...and two 500s
    patients = 12
    await schedule_due_now(store, server, patients, utcnow())
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        dispatcher = make_dispatcher(store, bot, idle_seconds=0.1, backoff_base=0.05)
        await run_until(dispatcher, server, lambda: len(delivered(server)) == patients, 60)
    assert server.too_many_requests > 0, "the storm happened"
    attempts = sum(1 for name, _ in server.calls if name == "sendMessage")
    assert attempts - server.too_many_requests > patients, "and 5xx answers too"
    counts = delivered(server)
    assert sorted(counts) == list(range(1, patients + 1)), "every reminder arrived"
    assert set(counts.values()) == {1}, "none twice"
    statuses: Counter[str] = Counter()
    for user in range(1, patients + 1):
        rows = await store.run(lambda tx, user=user: tx.reminders.for_procedure(user))
        statuses.update(row.status for row in rows)
    assert statuses == Counter({"sent": patients})


async def test_two_senders_on_one_database_send_each_reminder_once(
    server: FakeBotAPI, store: Store, tmp_path: Path
) -> None:
    patients = 30
    await schedule_due_now(store, server, patients, utcnow())
    other = Store(database_url(tmp_path / "reminders.db"))
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        first = make_dispatcher(store, bot, idle_seconds=0.05, batch=5)
        second = make_dispatcher(other, bot, idle_seconds=0.05, batch=5)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(d.run(stop)) for d in (first, second)]
        try:
            await server.wait_for(lambda: len(delivered(server)) == patients, 30)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    await other.close()
    assert set(delivered(server).values()) == {1}
    assert first.sent > 0
    assert second.sent > 0, "both took a share"
    assert first.sent + second.sent == patients


async def test_a_crashed_senders_rows_are_sent_after_its_lease_runs_out(
    server: FakeBotAPI, store: Store
) -> None:
    now = utcnow()
    await schedule_due_now(store, server, 3, now)
    lease = dt.timedelta(seconds=30)
    # A sender claims everything, then dies before sending anything.
    claimed = await store.run(lambda tx: tx.reminders.claim_due(now, lease=lease, limit=10))
    assert len(claimed) == 3
    clock_now = now

    def clock() -> dt.datetime:
        return clock_now

    async with Bot(TOKEN, base_url=server.base_url) as bot:
        survivor = make_dispatcher(store, bot, clock=clock, budget=SendBudget(29))
        assert await survivor.dispatch_due() == 0, "leased rows are not taken while the lease holds"
        clock_now = now + lease + dt.timedelta(seconds=1)
        assert await survivor.dispatch_due() == 3
    assert sorted(delivered(server)) == [1, 2, 3]


async def test_a_patient_who_blocked_the_bot_gets_nothing_more(server: FakeBotAPI, store: Store) -> None:
    now = utcnow()
    await schedule_due_now(store, server, 1, now)
    await store.run(lambda tx: tx.reminders.add_plan(1, 1, [day_after(now)]))
    server.user_blocks_bot(1)
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        dispatcher = make_dispatcher(store, bot)
        assert await dispatcher.dispatch_due() == 1
    rows = {r.key: r.status for r in await store.run(lambda tx: tx.reminders.for_procedure(1))}
    assert rows == {"fasting_food": "failed", "day_after": "cancelled"}
    procedure = await store.run(lambda tx: tx.reminders.procedure_by_id(1))
    assert procedure is not None
    assert procedure.unreachable_at is not None, "the 403 marks the patient unreachable for the clinic"


async def test_a_reminder_cancelled_after_it_was_claimed_is_not_sent(
    server: FakeBotAPI, store: Store
) -> None:
    now = utcnow()
    await schedule_due_now(store, server, 2, now)
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        dispatcher = make_dispatcher(store, bot)
        claimed = await store.run(
            lambda tx: tx.reminders.claim_due(
                now, lease=dispatcher.lease, limit=10, sender=dispatcher.instance
            )
        )
        # The clinic cancels patient 1's procedure while the sender holds the batch.
        await store.run(lambda tx: tx.reminders.cancel(1, now=now))
        for reminder in claimed:
            await dispatcher._deliver(reminder)
    assert sorted(delivered(server)) == [2]


async def test_a_reminder_claimed_before_the_patient_forgot_their_data_is_not_sent(
    server: FakeBotAPI, store: Store
) -> None:
    now = utcnow()
    await schedule_due_now(store, server, 2, now)
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        dispatcher = make_dispatcher(store, bot)
        claimed = await store.run(
            lambda tx: tx.reminders.claim_due(
                now, lease=dispatcher.lease, limit=10, sender=dispatcher.instance
            )
        )
        # Patient 1 sends /forget and taps Delete while the sender holds the batch.
        await store.run(lambda tx: tx.privacy.forget(1, now))
        for reminder in claimed:
            await dispatcher._deliver(reminder)
    assert sorted(delivered(server)) == [2]
    assert await store.run(lambda tx: tx.reminders.upcoming(1)) == []


async def test_a_message_telegram_refuses_fails_alone_and_the_patient_keeps_the_rest(
    server: FakeBotAPI, store: Store
) -> None:
    now = utcnow()
    await schedule_due_now(store, server, 1, now)
    await store.run(lambda tx: tx.reminders.add_plan(1, 1, [day_after(now)]))
    server.fail_next("sendMessage", status=400, description="Bad Request: message is too long")
    async with Bot(TOKEN, base_url=server.base_url) as bot:
        assert await make_dispatcher(store, bot).dispatch_due() == 1
    rows = {r.key: r.status for r in await store.run(lambda tx: tx.reminders.for_procedure(1))}
    assert rows == {"fasting_food": "failed", "day_after": "pending"}


def test_a_reminder_sent_after_its_moment_says_so_and_names_the_times_it_was_planned_with() -> None:
    from bot.db.reminder_repo import ClaimedReminder
    from bot.services.reminder_text import render_reminder

    content = load_content()
    clinic = content.clinic.model_copy(
        update={"timezone": "UTC", "fasting_food_hours": 4, "fasting_fluid_hours": 2}
    )
    renderer = Renderer(content, clinic_params(clinic))
    start = dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC)
    reminder = ClaimedReminder(
        id=1,
        user_id=5,
        chat_id=5,
        locale="en",
        paused=False,
        key="fasting_fluid",
        message="rem.fasting_fluid",
        due_at=start - dt.timedelta(hours=3),
        deadline=start,
        about_at=start - dt.timedelta(hours=3),
        attempts=1,
        starts_at=start,
        timezone="UTC",
        # planned with a 3-hour fluid cut-off; the clinic says 2 hours now
        planned_with=clinic.model_copy(update={"fasting_fluid_hours": 3}),
    )
    on_time = render_reminder(renderer, clinic, reminder, start - dt.timedelta(hours=3)).text
    assert on_time.startswith("From 9:00\u202fAM, do not drink anything more"), "the planned time, not 10:00"
    late = render_reminder(renderer, clinic, reminder, start - dt.timedelta(hours=2)).text
    assert late.startswith("This message comes late: the time it is about, 9:00\u202fAM, has already passed.")
    assert late.endswith(on_time)
