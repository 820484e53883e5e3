"""A patient who blocked the bot and comes back: the reminders still to come come back, once."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.store import Transaction, UserRecord
from bot.entrypoints.bootstrap import Wiring, wire
from bot.entrypoints.config import Settings
from bot.services.reachability import Return, patient_blocked, patient_returned
from bot.services.service import Incoming
from flows.engine import Event, Session
from flows.planning import PlannedReminder
from tests.databases import database_url
from tests.support import FakeClock

PATIENT = 77
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def reminder(key: str, due: dt.datetime) -> PlannedReminder:
    return PlannedReminder(key, f"rem.{key}", due, due + 2 * HOUR, due, False, "pending")


@pytest.fixture
async def wiring(tmp_path: Path) -> AsyncIterator[Wiring]:
    wiring = wire(Settings(DATABASE_URL=database_url(tmp_path / "reach.db")))
    await wiring.store.migrate()
    wiring.service.clock = FakeClock(NOW)
    yield wiring
    await wiring.store.close()


async def blocked_with_two_reminders(wiring: Wiring) -> None:
    """The patient's own procedure tomorrow, with a reminder in 2 hours and one in 20; then a 403."""

    def plan_and_block(tx: Transaction) -> None:
        tx.save_user(UserRecord(PATIENT, PATIENT, "en", Session("menu", "main"), is_new=True))
        planned = [reminder("evening_before", NOW + 2 * HOUR), reminder("fasting_food", NOW + 20 * HOUR)]
        tx.reminders.schedule(PATIENT, NOW + 26 * HOUR, "UTC", planned, source="patient", now=NOW)
        assert patient_blocked(tx, PATIENT, NOW) == 2  # what the dispatcher does on a 403

    await wiring.store.run(plan_and_block)


async def statuses(wiring: Wiring) -> dict[str, str]:
    return {r.key: r.status for r in await wiring.store.run(lambda tx: tx.reminders.for_procedure(1))}


async def test_writing_again_after_a_403_brings_back_the_reminders_still_to_come(wiring: Wiring) -> None:
    await blocked_with_two_reminders(wiring)
    assert isinstance(wiring.service.clock, FakeClock)
    wiring.service.clock.set(NOW + 3 * HOUR)  # the first one's time passed while blocked

    await wiring.service.handle(Incoming(PATIENT, PATIENT, "en", Event("command", "menu")))

    assert await statuses(wiring) == {"evening_before": "cancelled", "fasting_food": "pending"}
    procedure = await wiring.store.run(lambda tx: tx.reminders.procedure_by_id(1))
    assert procedure is not None
    assert procedure.unreachable_at is None, "the clinic sees the patient reachable again"


async def test_a_patient_back_after_every_stopped_reminder_passed_is_told_once(wiring: Wiring) -> None:
    await blocked_with_two_reminders(wiring)
    later = NOW + 21 * HOUR

    back = await wiring.store.run(lambda tx: patient_returned(tx, PATIENT, later))
    again = await wiring.store.run(lambda tx: patient_returned(tx, PATIENT, later))

    assert (back, again) == (Return(back=0, missed=2, told=True), Return())
    upcoming = await wiring.store.run(lambda tx: tx.reminders.upcoming(PATIENT))
    assert [(r.key, r.message) for r in upcoming] == [("notice", "proc.stopped_while_blocked")]


async def test_reminders_another_change_cancelled_while_blocked_do_not_come_back(wiring: Wiring) -> None:
    await blocked_with_two_reminders(wiring)

    def moved_a_day_later(tx: Transaction) -> None:  # as a clinic's reschedule does
        tx.reminders.cancel_open(1, "rescheduled")
        tx.reminders.add_plan(1, PATIENT, [reminder("fasting_food", NOW + 44 * HOUR)])

    await wiring.store.run(moved_a_day_later)
    back = await wiring.store.run(lambda tx: patient_returned(tx, PATIENT, NOW + HOUR))

    assert back == Return()
    rows = await wiring.store.run(lambda tx: tx.reminders.for_procedure(1))
    assert [(r.key, r.due_at - NOW, r.status) for r in rows] == [
        ("evening_before", 2 * HOUR, "cancelled"),
        ("fasting_food", 20 * HOUR, "cancelled"),
        ("fasting_food", 44 * HOUR, "pending"),
    ]
