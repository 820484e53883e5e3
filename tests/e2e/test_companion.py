"""The companion who drives the patient home, end to end: invited from "My procedure", joined in
their own language, their own reminders (moved with the procedure), the clinic's "ready for
pick-up", a warning sign they report, removal; and the links that are refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.entrypoints.api import create_api
from bot.services.staff import issue_staff_code
from bot.testing.fake_bot_api import FakeBotAPI
from flows.models import ClinicSettings
from tests.e2e.conftest import Patient, RunningBot
from tests.support import FakeClock, reminder_messages

PATIENT, COMPANION, STRANGER, STAFF = 601, 602, 603, 604
UTC = dt.UTC


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 20, 10, 0, tzinfo=UTC))


@pytest.fixture
async def api(running: RunningBot) -> AsyncIterator[httpx.AsyncClient]:
    clinics = running.wiring.clinics
    defaults = running.wiring.content.clinic.model_dump()
    # Arrive 60 minutes before, travel 50: leave home 110 minutes before the start.
    settings = defaults | {
        "name": "Sofia Spine Centre",
        "timezone": "Europe/Sofia",
        "phone": "+359 2 111 2222",
        "arrival_minutes_before": 60,
        "travel_minutes": 50,
    }
    await clinics.save_clinic("sofia", ClinicSettings.model_validate(settings))
    token = await clinics.issue_token("sofia")
    transport = httpx.ASGITransport(app=create_api(clinics))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://clinic.test", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def text(running: RunningBot, text_id: str, locale: str) -> str:
    return running.wiring.renderer.text(text_id, locale)


def messages(telegram: FakeBotAPI, chat: int) -> list[str]:
    return [m["text"] for m in telegram.bot_messages(chat)]


async def joined_patient(
    telegram: FakeBotAPI, api: httpx.AsyncClient, start: str, language: str = "tr"
) -> tuple[Patient, int]:
    created = (await api.post("/api/procedures", json={"start": start})).json()
    patient = Patient(telegram, PATIENT, language)
    await patient.send(f"/start {created['invite']['link'].split('start=')[1]}")
    return patient, created["procedure"]["id"]


async def companion_link(telegram: FakeBotAPI, running: RunningBot, patient: Patient) -> str:
    """The patient opens "My procedure" and taps "Invite my companion": the link to forward."""
    locale = patient.language
    if text(running, "menu.procedure", locale) in patient.labels():
        await patient.press(text(running, "menu.procedure", locale))
    before = len(telegram.bot_messages(patient.chat_id))
    await patient.press(text(running, "proc.btn.companion_invite", locale))
    await telegram.wait_for(lambda: len(telegram.bot_messages(patient.chat_id)) > before, 10, what="link")
    said = telegram.bot_messages(patient.chat_id)[-1]["text"]
    assert said.startswith(text(running, "companion.link", locale))
    return said.rsplit("\n", 1)[1]


def token_of(link: str) -> str:
    assert link.startswith("https://t.me/vertebrobot_test_bot?start=")
    return link.split("start=")[1]


def companion_due(procedure: dict[str, Any], key: str) -> list[str]:
    return [r["due_at"] for r in procedure["reminders"] if r["key"] == key and r["status"] == "pending"]


async def test_the_companion_is_invited_reminded_told_of_pick_up_and_can_report_a_sign(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    staff = Patient(telegram, STAFF)
    await staff.send(f"/staff {await issue_staff_code(running.wiring.clinics, 'sofia')}")
    # 09:30 in Sofia (UTC+2): leave home at 07:40, be there by 08:30.
    patient, procedure_id = await joined_patient(telegram, api, "2026-12-10T09:30")
    link = await companion_link(telegram, running, patient)

    # The companion's Telegram is in English: greeted in English, with the day, time and place.
    companion = Patient(telegram, COMPANION, "en")
    _greeting, welcome = await companion.send(f"/start {token_of(link)}", replies=2)
    assert welcome["text"].startswith(
        "Hello! You have been invited as the companion of someone having a vertebroplasty at "
        "Sofia Spine Centre on Thursday, December 10, 2026 at 9:30\u202fAM."
    )
    assert "Please leave home at 7:40\u202fAM to be there by 8:30\u202fAM." in welcome["text"]
    assert "stay with them the first night" in welcome["text"]
    assert [b["text"] for row in welcome["reply_markup"]["inline_keyboard"] for b in row] == [
        "Stop being the companion"
    ]

    procedure = (await api.get(f"/api/procedures/{procedure_id}")).json()
    assert companion_due(procedure, "companion_leave_home") == ["2026-12-10T05:40:00Z"]

    # The clinic moves it a day later: the companion is told and their reminders move.
    moved = await api.patch(f"/api/procedures/{procedure_id}", json={"start": "2026-12-11T09:30"})
    assert companion_due(moved.json(), "companion_leave_home") == ["2026-12-11T05:40:00Z"]
    await running.dispatcher.settle()
    assert reminder_messages(telegram, COMPANION)[-1]["text"].startswith(
        "The procedure you are accompanying has been moved to Friday, December 11, 2026 at 9:30\u202fAM."
    )

    # At 07:40 in Sofia on the new day, the companion is told to leave, in English.
    clock.set(dt.datetime(2026, 12, 11, 5, 40, tzinfo=UTC))
    await running.dispatcher.settle()
    assert reminder_messages(telegram, COMPANION)[-1]["text"] == (
        "Time to set off for Sofia Spine Centre, to be there by 8:30\u202fAM.\n\n"
        "You drive: the patient must not drive today."
    )

    # After the procedure the clinic says the patient is ready for pick-up, through the API.
    clock.set(dt.datetime(2026, 12, 11, 10, 0, tzinfo=UTC))
    told = await api.post(f"/api/procedures/{procedure_id}/pickup-ready")
    assert told.status_code == 200, told.text
    assert told.json() == {"companions_told": 1}
    await running.dispatcher.settle()
    assert reminder_messages(telegram, COMPANION)[-1]["text"].startswith(
        "Sofia Spine Centre: the patient is ready to be picked up."
    )
    assert not any("ready to be picked up" in m for m in messages(telegram, PATIENT)), "the companion's"
    # The same from the staff chat.
    (reply,) = await staff.send(f"/pickup #{procedure_id}")
    assert reply["text"] == f"#{procedure_id}: 1 companion(s) told the patient is ready to be picked up."
    await running.dispatcher.settle()
    picked = [m for m in messages(telegram, COMPANION) if m.startswith("Sofia Spine Centre: the patient")]
    assert len(picked) == 2

    # That evening the companion sees a warning sign: urgent guidance, and the clinic alerted.
    sign = running.wiring.engine.matcher("en").sign("fainting")  # type: ignore[union-attr]
    assert sign is not None
    (guidance,) = await companion.send("he fainted")
    assert guidance["text"].startswith(text(running, sign.text, "en"))
    await telegram.wait_for(
        lambda: "Warning sign reported" in messages(telegram, STAFF)[-1], 10, what="alert"
    )
    alert = messages(telegram, STAFF)[-1]
    assert alert.startswith("\u26a0\ufe0f Warning sign reported by the companion: fainting.")
    assert f"Procedure #{procedure_id}" in alert
    signs = (await api.get(f"/api/procedures/{procedure_id}")).json()["warning_signs"]
    assert [s["sign"] for s in signs] == ["fainting"]

    # The companion never sees the patient's answers: /pain shows them nothing of the patient's.
    (pain,) = await companion.send("/pain")
    assert pain["text"] == text(running, "pain.none", "en")


async def test_after_removal_nothing_more_reaches_the_companion(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    patient, procedure_id = await joined_patient(telegram, api, "2026-12-10T09:30")
    companion = Patient(telegram, COMPANION, "en")
    await companion.send(f"/start {token_of(await companion_link(telegram, running, patient))}", replies=2)

    (listing,) = await patient.press_and_read(text(running, "proc.btn.companions", "tr"))
    assert listing["text"].startswith(text(running, "companion.list", "tr"))
    removed = await patient.press_and_read("Refakatçiyi çıkar 1")
    assert removed[0]["text"] == text(running, "companion.removed", "tr")
    await telegram.wait_for(
        lambda: messages(telegram, COMPANION)[-1] == text(running, "companion.removed_you", "en"),
        10,
        what="the companion told",
    )
    heard = len(telegram.bot_messages(COMPANION))

    await api.patch(f"/api/procedures/{procedure_id}", json={"start": "2026-12-11T09:30"})
    assert (await api.post(f"/api/procedures/{procedure_id}/pickup-ready")).status_code == 422
    for day in (10, 11, 12):
        clock.set(dt.datetime(2026, 12, day, 20, 0, tzinfo=UTC))
        await running.dispatcher.settle()
    assert len(telegram.bot_messages(COMPANION)) == heard, "nothing more after removal"
    assert reminder_messages(telegram, PATIENT), "the patient's own reminders go on"


async def test_used_expired_and_forged_companion_links_get_a_kind_refusal(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    patient, _ = await joined_patient(telegram, api, "2026-12-10T09:30", language="en")
    link = await companion_link(telegram, running, patient)
    await Patient(telegram, COMPANION).send(f"/start {token_of(link)}", replies=2)

    (used,) = await Patient(telegram, STRANGER).send(f"/start {token_of(link)}")
    assert text(running, "companion.used", "en") in used["text"]

    (forged,) = await Patient(telegram, STRANGER + 1).send("/start Xq3vYb8Lm2Nk5Rt7Wp9Zc4Hd6Jf1Gs0A")
    assert text(running, "invite.unknown", "en") in forged["text"]

    late = await companion_link(telegram, running, patient)
    clock.set(dt.datetime(2026, 12, 11, 9, 0, tzinfo=UTC))  # the procedure was the day before
    (expired,) = await Patient(telegram, STRANGER + 2).send(f"/start {token_of(late)}")
    assert text(running, "companion.expired", "en") in expired["text"]


async def test_at_most_two_companions_and_the_companion_can_leave(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient
) -> None:
    patient, _ = await joined_patient(telegram, api, "2026-12-10T09:30", language="en")
    for chat in (COMPANION, STRANGER):
        await Patient(telegram, chat).send(
            f"/start {token_of(await companion_link(telegram, running, patient))}", replies=2
        )
    await patient.press(text(running, "proc.btn.companion_invite", "en"))
    await telegram.wait_for(
        lambda: messages(telegram, PATIENT)[-1] == text(running, "companion.full", "en"), 10, what="full"
    )

    leaving = Patient(telegram, STRANGER)
    welcome = telegram.bot_messages(STRANGER)[-1]
    (button,) = [b for row in welcome["reply_markup"]["inline_keyboard"] for b in row]
    await leaving.press_data(welcome["message_id"], button["callback_data"])
    assert messages(telegram, STRANGER)[-1] == text(running, "companion.left", "en")
    await telegram.wait_for(
        lambda: messages(telegram, PATIENT)[-1] == text(running, "companion.left_patient", "en"),
        10,
        what="the patient told",
    )
    # "Remove" is the patient's to press: a companion forging it on their own link changes nothing.
    mine = telegram.bot_messages(COMPANION)[-1]
    (leave,) = [b for row in mine["reply_markup"]["inline_keyboard"] for b in row]
    await Patient(telegram, COMPANION).press_data(
        mine["message_id"], leave["callback_data"].replace(".l", ".r"), expect_answer=False
    )
    assert telegram.callback_answers[-1].get("text") == text(running, "bot.stale_button", "en")
    (listing,) = await patient.press_and_read(text(running, "proc.btn.companions", "en"))
    assert len(listing["reply_markup"]["inline_keyboard"]) == 1, "one companion still linked"


async def test_a_new_date_the_patient_enters_takes_their_companion_along(
    telegram: FakeBotAPI, running: RunningBot
) -> None:
    patient = Patient(telegram, PATIENT)
    await patient.send("/start")
    for step in (text(running, "menu.procedure", "en"), text(running, "proc.btn.set", "en"), "Tue 24 Nov"):
        await patient.press(step)
    await patient.send("9:30")
    await patient.send("/menu")
    link = await companion_link(telegram, running, patient)
    await Patient(telegram, COMPANION).send(f"/start {token_of(link)}", replies=2)

    for step in (text(running, "proc.btn.set", "en"), "Wed 25 Nov"):
        await patient.press(step)
    await patient.send("10:00")
    await running.dispatcher.settle()
    assert reminder_messages(telegram, COMPANION)[-1]["text"].startswith(
        "The procedure you are accompanying has been moved to Wednesday, November 25, 2026 at 10:00\u202fAM."
    )
    upcoming = await running.wiring.store.run(lambda tx: tx.reminders.upcoming(COMPANION))
    leave = [r.due_at for r in upcoming if r.key == "companion_leave_home"]
    assert leave == [dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC)], "the clinic's 60 + 60 minutes before"
