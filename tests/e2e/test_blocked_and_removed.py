"""The clinic side of patients' data in Telegram: a patient who blocks the bot, a removed staff member."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.services.staff import issue_staff_code
from bot.testing.fake_bot_api import FakeBotAPI
from flows.models import ClinicSettings
from tests.e2e.conftest import Patient, RunningBot, start_bot
from tests.support import FakeClock

STAFF, PATIENT = 601, 602


@pytest.fixture
async def running(telegram: FakeBotAPI, tmp_path: Path) -> AsyncIterator[RunningBot]:
    clock = FakeClock(dt.datetime(2026, 12, 10, 7, 0, tzinfo=dt.UTC))
    bot = await start_bot(
        telegram, tmp_path / "bot.db", clock=clock, dispatcher_options={"idle_seconds": 0.2}
    )
    settings = bot.wiring.content.clinic.model_dump() | {
        "name": "Istanbul Omurga",
        "timezone": "Europe/Istanbul",
    }
    await bot.wiring.clinics.save_clinic("istanbul", ClinicSettings.model_validate(settings))
    yield bot
    await bot.stop()


async def staff_and_patient(telegram: FakeBotAPI, running: RunningBot) -> tuple[Patient, Patient]:
    """An approved staff member who registered a procedure, and its patient, who joined."""
    staff = Patient(telegram, STAFF)
    await staff.send(f"/staff {await issue_staff_code(running.wiring.clinics, 'istanbul')}")
    (registered,) = await staff.send("/register 2026-12-10 15:00 IST-7")
    link = registered["text"].split("(or the QR code): ")[1]
    patient = Patient(telegram, PATIENT)
    await patient.send(f"/start {link.split('start=')[1]}")
    return staff, patient


def alerts(telegram: FakeBotAPI) -> int:
    """How many warning-sign alerts the staff member received."""
    return sum("Warning sign reported" in m.get("text", "") for m in telegram.bot_messages(STAFF))


async def test_a_patient_who_blocks_the_bot_has_reminders_cancelled_and_shows_unreachable(
    telegram: FakeBotAPI, running: RunningBot
) -> None:
    staff, patient = await staff_and_patient(telegram, running)
    clinics = running.wiring.clinics
    istanbul = await clinics.clinic("istanbul")
    before = await clinics.details(istanbul, 1)
    assert not before.unreachable
    assert any(r.status == "pending" for r in before.reminders)

    telegram.user_blocks_bot(PATIENT)  # Telegram sends my_chat_member: "kicked"
    # Updates are handled in order: the staff's answer comes after the block was handled.
    (today,) = await staff.send("/today")
    assert (
        today["text"].splitlines()[1] == "• 15:00 #1 IST-7 (scheduled, joined, blocked the bot: unreachable)"
    )
    after = await clinics.details(istanbul, 1)
    assert after.unreachable
    assert "pending" not in {r.status for r in after.reminders}
    assert {r.key for r in after.reminders if r.status == "cancelled"} >= {
        "day_after",
        "day_two",
        "week_after",
    }

    await patient.send("/menu")  # writing again unblocks the bot (my_chat_member: "member")
    assert not (await clinics.details(istanbul, 1)).unreachable


async def test_a_removed_staff_member_gets_no_more_alerts_and_no_staff_commands(
    telegram: FakeBotAPI, running: RunningBot
) -> None:
    staff, patient = await staff_and_patient(telegram, running)
    await patient.send("I have a fever and chills")
    await telegram.wait_for(lambda: alerts(telegram) == 1, 5, what="the staff alert")
    heard = len(telegram.bot_messages(STAFF))

    assert await running.wiring.clinics.remove_staff("istanbul", STAFF)
    await patient.send("I have a fever and chills")
    await patient.send("/menu")  # handled after the sign's update, alerts included
    assert len(telegram.bot_messages(STAFF)) == heard
    assert alerts(telegram) == 1, "no alert after removal"
    (refused,) = await staff.send("/today")
    assert refused["text"].startswith("This command is for clinic staff.")
    assert not await running.wiring.clinics.remove_staff("istanbul", STAFF), "removed once"


async def test_after_unblocking_the_reminders_still_to_come_are_sent_and_those_past_are_not(
    telegram: FakeBotAPI, running: RunningBot
) -> None:
    staff, patient = await staff_and_patient(telegram, running)  # 15:00 Istanbul is 12:00 UTC
    clinics, clock = running.wiring.clinics, running.wiring.service.clock
    assert isinstance(clock, FakeClock)
    istanbul = await clinics.clinic("istanbul")
    due = {r.key: r.due_at for r in (await clinics.details(istanbul, 1)).reminders}
    assert due["fasting_fluid"] == dt.datetime(2026, 12, 10, 8, 0, tzinfo=dt.UTC)
    assert due["leave_home"] == dt.datetime(2026, 12, 10, 10, 0, tzinfo=dt.UTC)

    telegram.user_blocks_bot(PATIENT)
    await staff.send("/today")  # handled after the block
    clock.set(dt.datetime(2026, 12, 10, 9, 0, tzinfo=dt.UTC))  # the fluid cut-off passed while blocked
    await running.dispatcher.settle()
    heard = len(telegram.bot_messages(PATIENT))

    await patient.send("/menu")  # unblocks the bot (my_chat_member: "member"), then writes
    status = {r.key: r.status for r in (await clinics.details(istanbul, 1)).reminders}
    assert status["fasting_fluid"] == "cancelled", "its time passed while blocked: not sent late"
    assert {status[key] for key in ("leave_home", "day_after", "day_two", "week_after")} == {"pending"}

    clock.set(due["leave_home"])
    await running.dispatcher.settle()
    sent = [m["text"] for m in telegram.bot_messages(PATIENT)[heard + 1 :]]
    assert len(sent) == 1, sent
    assert sent[0].startswith("Time to set off for Istanbul Omurga"), "the leave-home reminder, at its time"
    assert not any("do not drink" in text for text in sent)
    assert not (await clinics.details(istanbul, 1)).unreachable
