"""Clinic staff in Telegram: approved with a one-time code, registering, today's list, alerts."""

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

STAFF, PATIENT, STRANGER = 501, 502, 503


@pytest.fixture
async def running(telegram: FakeBotAPI, tmp_path: Path) -> AsyncIterator[RunningBot]:
    clock = FakeClock(dt.datetime(2026, 12, 10, 7, 0, tzinfo=dt.UTC))
    bot = await start_bot(
        telegram, tmp_path / "bot.db", clock=clock, dispatcher_options={"idle_seconds": 0.2}
    )
    bot.wiring.clinics.clock = clock
    settings = bot.wiring.content.clinic.model_dump() | {
        "name": "Istanbul Omurga",
        "timezone": "Europe/Istanbul",
    }
    await bot.wiring.clinics.save_clinic("istanbul", ClinicSettings.model_validate(settings))
    yield bot
    await bot.stop()


async def test_staff_register_a_patient_see_today_and_hear_warning_signs(
    telegram: FakeBotAPI, running: RunningBot
) -> None:
    stranger = Patient(telegram, STRANGER)
    (refused,) = await stranger.send("/today")
    assert refused["text"].startswith("This command is for clinic staff.")

    code = await issue_staff_code(running.wiring.clinics, "istanbul")
    staff = Patient(telegram, STAFF)
    (wrong,) = await staff.send("/staff NOTACODE")
    assert wrong["text"].startswith("That staff code is not valid.")
    (approved,) = await staff.send(f"/staff {code.lower()}")
    assert approved["text"].startswith("You are now staff of Istanbul Omurga.")
    (again,) = await Patient(telegram, 504).send(f"/staff {code}")
    assert again["text"].startswith("That staff code is not valid."), "a code works once"

    uploads = len(telegram.uploads)
    (registered,) = await staff.send("/register 2026-12-10 15:00 IST-7")
    assert registered["text"].startswith("Registered #1 for 2026-12-10 15:00.")
    link = registered["text"].split("(or the QR code): ")[1]
    await telegram.wait_for(lambda: len(telegram.uploads) > uploads, 5)
    assert telegram.uploads[-1].data.startswith(b"\x89PNG"), "the invite as a QR code"
    (bad,) = await staff.send("/register tomorrow morning")
    assert bad["text"].startswith("Not registered:")

    patient = Patient(telegram, PATIENT)
    await patient.send(f"/start {link.split('start=')[1]}")
    (today,) = await staff.send("/today")
    assert today["text"].splitlines() == [
        "Procedures today (2026-12-10):",
        "• 15:00 #1 IST-7 (scheduled, joined)",
    ]

    await patient.send("I have a fever and chills", replies=1)
    await telegram.wait_for(
        lambda: "Warning sign reported" in staff.server.bot_messages(STAFF)[-1]["text"], 5
    )
    alert = telegram.bot_messages(STAFF)[-1]["text"]
    assert alert.startswith(
        "\u26a0\ufe0f Warning sign reported: fever. Procedure #1 (ref IST-7), reported 2026-12-10 10:00."
    )
    assert str(PATIENT) not in alert, "no patient identifiers beyond the clinic's reference"
    (today,) = await staff.send("/today")
    assert today["text"].endswith("(scheduled, joined, warning signs: fever)")
