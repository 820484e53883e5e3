"""Clinics end to end: registered through the API, the invite opened in Telegram, moved, cancelled."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.entrypoints.api import create_api
from bot.testing.fake_bot_api import FakeBotAPI
from flows.models import ClinicSettings
from flows.render import Renderer
from tests.e2e.conftest import Patient, RunningBot, start_bot
from tests.support import FakeClock, reminder_messages

PATIENT, OTHER = 401, 402
UTC = dt.UTC


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC))


@pytest.fixture
async def running(telegram: FakeBotAPI, tmp_path: Path, clock: FakeClock) -> AsyncIterator[RunningBot]:
    bot = await start_bot(
        telegram, tmp_path / "bot.db", clock=clock, dispatcher_options={"idle_seconds": 0.2}
    )
    bot.wiring.clinics.clock = clock
    yield bot
    await bot.stop()


@pytest.fixture
async def api(running: RunningBot) -> AsyncIterator[httpx.AsyncClient]:
    clinics = running.wiring.clinics
    defaults = running.wiring.content.clinic.model_dump()
    settings = {
        **defaults,
        "name": "Sofia Spine Centre",
        "timezone": "Europe/Sofia",
        "phone": "+359 2 111 2222",
    }
    await clinics.save_clinic(
        "sofia", ClinicSettings.model_validate(settings | {"fasting_food_hours": 6, "fasting_fluid_hours": 2})
    )
    token = await clinics.issue_token("sofia")
    transport = httpx.ASGITransport(app=create_api(clinics))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://clinic.test", headers=headers
    ) as client:
        yield client


def said_then_menu(renderer: Renderer, text_id: str) -> str:
    """The end of the greeting's one message: what the invite said, then the menu."""
    return f"\n\n{renderer.text(text_id, 'en')}\n\n{renderer.text('menu.intro', 'en')}"


def due(procedure: dict[str, Any], key: str, status: str = "pending") -> list[str]:
    return [r["due_at"] for r in procedure["reminders"] if r["key"] == key and r["status"] == status]


async def test_registered_invited_joined_moved_and_cancelled(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    created = await api.post("/api/procedures", json={"start": "2026-12-10T14:30", "reference": "SP-0042"})
    assert created.status_code == 201, created.text
    body = created.json()
    procedure_id = body["procedure"]["id"]
    assert body["procedure"]["starts_at"] == "2026-12-10T12:30:00Z"  # Sofia is UTC+2 in November
    link = body["invite"]["link"]
    assert link.startswith("https://t.me/vertebrobot_test_bot?start="), "the bot Telegram's getMe named"
    assert body["procedure"]["reminders"] == [], "no reminders before the patient joins"

    # The patient opens the link: Telegram sends "/start <token>".
    patient = Patient(telegram, PATIENT)
    (invited,) = await patient.send(f"/start {link.split('start=')[1]}")
    assert (
        "\n\nWelcome. Sofia Spine Centre has booked your procedure for "
        "Thursday, December 10, 2026 at 2:30\u202fPM."
    ) in invited["text"], "one greeting that says what the clinic booked"
    assert "+359 2 111 2222" in invited["text"], "the clinic's own phone number"
    assert invited["text"].endswith("\n\n" + running.wiring.renderer.text("menu.intro", "en")), (
        "then the menu"
    )
    assert invited["reply_markup"]["inline_keyboard"], "one message: the greeting carries the menu's buttons"

    procedure = (await api.get(f"/api/procedures/{procedure_id}")).json()
    assert procedure["patient_joined"] is True
    # The clinic's numbers in the clinic's zone: food stops 6 h before, clear fluids 2 h before.
    assert due(procedure, "fasting_food") == ["2026-12-10T06:30:00Z"]
    assert due(procedure, "fasting_fluid") == ["2026-12-10T10:30:00Z"]
    assert due(procedure, "evening_before") == ["2026-12-09T16:00:00Z"]  # 18:00 in Sofia

    # The clinic moves it a day later: reminders move, and the patient is told.
    moved = await api.patch(f"/api/procedures/{procedure_id}", json={"start": "2026-12-11T14:30"})
    assert moved.status_code == 200, moved.text
    procedure = moved.json()
    assert due(procedure, "fasting_food") == ["2026-12-11T06:30:00Z"]
    assert due(procedure, "fasting_food", "cancelled") == ["2026-12-10T06:30:00Z"]
    await running.dispatcher.settle()
    (notice,) = reminder_messages(telegram, PATIENT)
    assert notice["text"].startswith(
        "Sofia Spine Centre has moved your procedure to Friday, December 11, 2026 at 2:30\u202fPM."
    )

    # At 08:30 in Sofia on the day the fasting reminder comes, with the clinic's times.
    clock.set(dt.datetime(2026, 12, 11, 6, 30, tzinfo=UTC))
    await running.dispatcher.settle()
    fasting = reminder_messages(telegram, PATIENT)[-1]
    assert fasting["text"].startswith("From 8:30\u202fAM, do not eat anything more.")
    assert "stop at 12:30\u202fPM" in fasting["text"]
    sent = (await api.get(f"/api/procedures/{procedure_id}/reminders")).json()["reminders"]
    assert [
        r["status"] for r in sent if r["key"] == "fasting_food" and r["due_at"].startswith("2026-12-11")
    ] == ["sent"]

    # Then the clinic cancels: the patient is told kindly and nothing more comes.
    cancelled = await api.post(f"/api/procedures/{procedure_id}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    await running.dispatcher.settle()
    told = reminder_messages(telegram, PATIENT)[-1]
    assert told["text"].startswith(
        "Sofia Spine Centre has cancelled your procedure on Friday, December 11, 2026."
    )
    count = len(reminder_messages(telegram, PATIENT))
    clock.set(dt.datetime(2026, 12, 12, 12, 0, tzinfo=UTC))
    await running.dispatcher.settle()
    assert len(reminder_messages(telegram, PATIENT)) == count


async def test_an_invite_used_twice_and_an_expired_invite_are_refused_kindly(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    renderer = running.wiring.renderer
    first = (await api.post("/api/procedures", json={"start": "2026-12-10T14:30", "reference": "A"})).json()
    token = first["invite"]["link"].split("start=")[1]
    await Patient(telegram, PATIENT).send(f"/start {token}")
    (refused,) = await Patient(telegram, OTHER).send(f"/start {token}")
    assert refused["text"].endswith(said_then_menu(renderer, "invite.used")), "the bot still helps"

    second = (await api.post("/api/procedures", json={"start": "2027-01-30T14:30", "reference": "B"})).json()
    clock.set(dt.datetime(2026, 12, 25, 10, 0, tzinfo=UTC))  # more than 30 days later
    (expired,) = await Patient(telegram, 403).send(f"/start {second['invite']['link'].split('start=')[1]}")
    assert expired["text"].endswith(said_then_menu(renderer, "invite.expired"))


async def test_guessing_invite_tokens_is_slowed_down(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient
) -> None:
    renderer = running.wiring.renderer
    real = (await api.post("/api/procedures", json={"start": "2026-12-10T14:30", "reference": "C"})).json()
    guesser = Patient(telegram, 404)
    for attempt in range(5):
        (said,) = await guesser.send(f"/start guess{attempt:027d}")
        assert said["text"].endswith(said_then_menu(renderer, "invite.unknown"))
    (said,) = await guesser.send(f"/start {real['invite']['link'].split('start=')[1]}")
    assert said["text"].endswith(said_then_menu(renderer, "invite.throttled")), (
        "even a right token waits after five wrong ones"
    )


async def test_a_patient_stopping_a_clinic_booking_stops_reminders_but_not_the_clinics_record(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient, content: object
) -> None:
    labels = running.wiring.content.locales["en"].labels
    created = (await api.post("/api/procedures", json={"start": "2026-12-10T14:30", "reference": "D"})).json()
    patient = Patient(telegram, PATIENT)
    await patient.send(f"/start {created['invite']['link'].split('start=')[1]}")
    await patient.press(labels["menu.procedure"])
    await patient.press(labels["proc.btn.cancel"])
    (said,) = await patient.press_and_read(labels["proc.btn.cancel_yes"])
    assert said["text"].startswith(
        "I have stopped the reminders for this procedure. Please also tell Sofia Spine Centre"
    )
    procedure = (await api.get(f"/api/procedures/{created['procedure']['id']}")).json()
    assert procedure["status"] == "scheduled", "the clinic's booking is the clinic's to cancel"
    assert {r["status"] for r in procedure["reminders"]} == {"cancelled"}


async def test_a_changed_fluid_cut_off_moves_the_pending_reminder_and_its_text_names_the_new_time(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    # Sofia Spine Centre: food 6 h, clear fluids 2 h. A procedure at 14:30 Sofia time (12:30 UTC).
    created = (await api.post("/api/procedures", json={"start": "2026-12-10T14:30", "reference": "F"})).json()
    patient = Patient(telegram, PATIENT)
    await patient.send(f"/start {created['invite']['link'].split('start=')[1]}")
    procedure_id = created["procedure"]["id"]
    assert due((await api.get(f"/api/procedures/{procedure_id}")).json(), "fasting_fluid") == [
        "2026-12-10T10:30:00Z"
    ]

    # The clinic now asks for clear drinks to stop 4 hours before.
    clinics = running.wiring.clinics
    (sofia,) = [c for c in await clinics.clinics() if c.slug == "sofia"]
    await clinics.save_clinic("sofia", sofia.settings.model_copy(update={"fasting_fluid_hours": 4}))
    procedure = (await api.get(f"/api/procedures/{procedure_id}")).json()
    assert due(procedure, "fasting_fluid") == ["2026-12-10T08:30:00Z"], "the pending reminder moved"
    assert due(procedure, "fasting_fluid", "cancelled") == ["2026-12-10T10:30:00Z"]

    await running.dispatcher.settle()
    (notice,) = reminder_messages(telegram, PATIENT)
    assert notice["text"].startswith("Sofia Spine Centre has changed its times for your procedure")
    assert "Stop clear drinks at 10:30\u202fAM." in notice["text"], "the new time, in Sofia's clock"

    # The reminder comes at the new moment (not before) and names the new time.
    def fluid_messages() -> list[str]:
        return [
            m["text"]
            for m in reminder_messages(telegram, PATIENT)
            if "do not drink anything more" in m["text"]
        ]

    clock.set(dt.datetime(2026, 12, 10, 8, 29, 59, tzinfo=UTC))
    await running.dispatcher.settle()
    assert fluid_messages() == []
    clock.set(dt.datetime(2026, 12, 10, 8, 30, tzinfo=UTC))
    running.dispatcher.wake.set()
    await telegram.wait_for(lambda: len(fluid_messages()) == 1, 5)
    assert fluid_messages()[0].startswith("From 10:30\u202fAM, do not drink anything more")

    # Saving the same settings again plans nothing and tells the patient nothing.
    sent = len(reminder_messages(telegram, PATIENT))
    (sofia,) = [c for c in await clinics.clinics() if c.slug == "sofia"]
    await clinics.save_clinic("sofia", sofia.settings)
    await running.dispatcher.settle()
    assert len(reminder_messages(telegram, PATIENT)) == sent

    # A new phone number moves no reminder: none is cancelled and planned again.
    cancelled = len(due((await api.get(f"/api/procedures/{procedure_id}")).json(), "day_after", "cancelled"))
    await clinics.save_clinic("sofia", sofia.settings.model_copy(update={"phone": "+359 2 111 1111"}))
    procedure = (await api.get(f"/api/procedures/{procedure_id}")).json()
    assert len(due(procedure, "day_after", "cancelled")) == cancelled
    assert len(due(procedure, "day_after")) == 1
