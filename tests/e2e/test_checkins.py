"""Check-ins after the procedure, end to end: pain score, warning-sign screen, comment, /pain."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.db.tables import CHECKINS, SAFETY_EVENTS
from bot.entrypoints.api import create_api
from bot.services.staff import issue_staff_code
from bot.testing.fake_bot_api import FakeBotAPI
from flows.models import ClinicSettings
from tests.e2e.conftest import Patient, RunningBot, start_bot
from tests.support import FakeClock

STAFF, PATIENT = 701, 702
UTC = dt.UTC
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 12, 1, 7, 0, tzinfo=UTC))


@pytest.fixture
async def running(telegram: FakeBotAPI, tmp_path: Path, clock: FakeClock) -> AsyncIterator[RunningBot]:
    bot = await start_bot(
        telegram, tmp_path / "bot.db", clock=clock, dispatcher_options={"idle_seconds": 0.2}
    )
    settings = bot.wiring.content.clinic.model_dump() | {
        "name": "Istanbul Omurga",
        "timezone": "Europe/Istanbul",
        "phone": "+90 212 000 0000",
    }
    await bot.wiring.clinics.save_clinic("istanbul", ClinicSettings.model_validate(settings))
    yield bot
    await bot.stop()


@pytest.fixture
async def api(running: RunningBot) -> AsyncIterator[httpx.AsyncClient]:
    token = await running.wiring.clinics.issue_token("istanbul")
    transport = httpx.ASGITransport(app=create_api(running.wiring.clinics))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://clinic.test", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def buttons(message: dict[str, Any]) -> list[list[str]]:
    return [[b["text"] for b in row] for row in message.get("reply_markup", {}).get("inline_keyboard", [])]


async def checkin_arrives(running: RunningBot, telegram: FakeBotAPI, before: int) -> dict[str, Any]:
    running.dispatcher.wake.set()
    await telegram.wait_for(lambda: len(telegram.bot_messages(PATIENT)) > before, 5, what="check-in")
    return telegram.bot_messages(PATIENT)[-1]


async def test_day_one_pain_8_and_a_fever_give_urgent_advice_and_alert_the_clinic_chat(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    staff = Patient(telegram, STAFF)
    code = await issue_staff_code(running.wiring.clinics, "istanbul")
    await staff.send(f"/staff {code}")
    created = (
        await api.post("/api/procedures", json={"start": "2026-12-01T14:30", "reference": "IST-9"})
    ).json()
    patient = Patient(telegram, PATIENT)
    await patient.send(f"/start {created['invite']['link'].split('start=')[1]}")

    # The next day at 10:00 in Istanbul (07:00 UTC) the first check-in asks for today's pain.
    clock.set(dt.datetime(2026, 12, 2, 6, 59, 59, tzinfo=UTC))
    await running.dispatcher.settle()
    before = len(telegram.bot_messages(PATIENT))
    clock.set(dt.datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    checkin = await checkin_arrives(running, telegram, before)
    assert "How bad is your back pain today? Tap a number" in checkin["text"]
    assert buttons(checkin) == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]

    staff_before = len(telegram.bot_messages(STAFF))
    (severe,) = await patient.press_and_read("8")  # the advice, then the screen's question
    assert severe["text"].startswith("If your back pain is severe, getting worse, or new and sudden")
    assert "Istanbul Omurga today on +90 212 000 0000" in severe["text"]
    assert "\n\nSince the treatment, have you had any of these?" in severe["text"]
    assert buttons(severe) == [["Yes"], ["No"]]
    assert telegram.callback_answers[-1].get("text") == "Thank you, saved."
    assert buttons(telegram.bot_messages(PATIENT)[before]) == [], "the score buttons are gone once answered"
    await telegram.wait_for(lambda: len(telegram.bot_messages(STAFF)) > staff_before, 5, what="pain alert")
    pain_alert = telegram.bot_messages(STAFF)[-1]["text"]
    assert pain_alert.startswith(
        "\u26a0\ufe0f Warning sign reported: back_pain at the day_after check-in: pain 8/10. "
        "Procedure #1 (ref IST-9), reported 2026-12-02 10:00."
    )

    (which,) = await patient.press_and_read("Yes")
    assert which["text"].startswith("Which one? Tap it below.")
    assert ["Fever or chills"] in buttons(which)
    (fever,) = await patient.press_and_read("Fever or chills")
    assert fever["text"].startswith("If you have a fever of 38 °C or more, chills")
    assert "Please call Istanbul Omurga today on +90 212 000 0000" in fever["text"]
    await telegram.wait_for(
        lambda: "fever at the day_after check-in" in telegram.bot_messages(STAFF)[-1]["text"], 5, what="alert"
    )
    assert str(PATIENT) not in telegram.bot_messages(STAFF)[-1]["text"]

    def stored(tx: Any) -> tuple[list[Any], list[str]]:
        rows = tx.conn.execute(select(CHECKINS.c.key, CHECKINS.c.pain, CHECKINS.c.signs)).all()
        signs = tx.conn.execute(select(SAFETY_EVENTS.c.sign).order_by(SAFETY_EVENTS.c.id)).scalars().all()
        return [tuple(r) for r in rows], list(signs)

    rows, signs = await running.wiring.store.run(stored)
    assert rows == [("day_after", 8, ["fever"])]
    assert signs == ["back_pain", "fever"]
    answered = (await api.get(f"/api/procedures/{created['procedure']['id']}/checkins")).json()["checkins"]
    assert [(c["key"], c["pain"], c["warning_signs"]) for c in answered] == [("day_after", 8, ["fever"])]

    # /pain sends the patient a picture of their scores.
    uploads = len(telegram.uploads)
    await patient.send("/pain")
    photo = telegram.bot_messages(PATIENT)[-1]
    assert photo["photo"]
    assert photo["caption"] == "Your pain scores from the check-ins."
    assert telegram.uploads[uploads].kind == "photo"
    assert telegram.uploads[uploads].data.startswith(PNG)


async def test_day_two_no_signs_a_comment_and_the_charts_for_patient_and_clinic(
    telegram: FakeBotAPI, running: RunningBot, api: httpx.AsyncClient, clock: FakeClock
) -> None:
    created = (
        await api.post("/api/procedures", json={"start": "2026-12-01T14:30", "reference": "IST-10"})
    ).json()
    patient = Patient(telegram, PATIENT)
    (nothing,) = await patient.send("/pain")
    assert nothing["text"].startswith("There are no pain scores yet.")
    await patient.send(f"/start {created['invite']['link'].split('start=')[1]}")
    no_chart = await api.get(f"/api/procedures/{created['procedure']['id']}/pain-chart.png")
    assert no_chart.status_code == 404
    assert no_chart.json()["detail"] == f"no pain scores yet for procedure {created['procedure']['id']}"

    clock.set(dt.datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    await checkin_arrives(running, telegram, len(telegram.bot_messages(PATIENT)))
    (screen,) = await patient.press_and_read("3")
    assert screen["text"].startswith("Since the treatment"), "pain 3: no advice needed"

    clock.set(dt.datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    day_two = await checkin_arrives(running, telegram, len(telegram.bot_messages(PATIENT)))
    assert day_two["text"].startswith("It is two days since your treatment.")
    # 4 after 3: one point higher is not "worsening" (the clinic's rise alert is 2 by default).
    (screen,) = await patient.press_and_read("4")
    assert screen["text"].startswith("Since the treatment")
    (prompt,) = await patient.press_and_read("No")
    assert prompt["text"].startswith("Is there anything you would like your clinic to know?")
    (saved,) = await patient.send("Slept better, a bit stiff in the morning")
    assert saved["text"].startswith("Thank you. Your clinic can read what you wrote.")
    assert buttons(saved), "the patient's current step comes back with its buttons"
    (plain,) = (await patient.send("hello"))[-1:]
    assert not plain["text"].startswith("Thank you. Your clinic can read"), "only one message is the comment"

    answered = (await api.get(f"/api/procedures/{created['procedure']['id']}/checkins")).json()["checkins"]
    assert [(c["key"], c["pain"], c["warning_signs"], c["comment"]) for c in answered] == [
        ("day_after", 3, None, None),
        ("day_two", 4, [], "Slept better, a bit stiff in the morning"),
    ]
    chart = await api.get(f"/api/procedures/{created['procedure']['id']}/pain-chart.png")
    assert chart.status_code == 200
    assert chart.headers["content-type"] == "image/png"
    assert chart.content.startswith(PNG)
    uploads = len(telegram.uploads)
    await patient.send("/pain")
    assert telegram.uploads[uploads].data.startswith(PNG)

    # A week after: 6 is below "severe" (7) but 2 points up on day two: worsening pain.
    clock.set(dt.datetime(2026, 12, 8, 7, 0, tzinfo=UTC))
    week = await checkin_arrives(running, telegram, len(telegram.bot_messages(PATIENT)))
    assert week["text"].startswith("It is one week since your treatment.")
    (worse,) = await patient.press_and_read("6")
    assert worse["text"].startswith("If your back pain is severe, getting worse, or new and sudden")
    assert "\n\nSince the treatment" in worse["text"]
    assert buttons(worse) == [["Yes"], ["No"]]

    # A forged or foreign check-in press changes nothing.
    other = Patient(telegram, 703)
    await other.send("/start")
    reminder_id = int(day_two["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(".")[1])
    await other.press_data(other.screen()["message_id"], f"ci.{reminder_id}.p9", expect_answer=False)
    assert telegram.callback_answers[-1].get("text", "").startswith("That button is from an older message.")
    answered = (await api.get(f"/api/procedures/{created['procedure']['id']}/checkins")).json()["checkins"]
    assert [c["pain"] for c in answered] == [3, 4, 6]


async def test_a_what_if_is_answered_and_a_vague_complaint_or_a_half_named_sign_gets_a_one_tap_question(
    telegram: FakeBotAPI, running: RunningBot
) -> None:
    patient = Patient(telegram, PATIENT)
    await patient.send("/start")
    (what_if,) = await patient.send("what if my legs go numb tonight?")
    assert what_if["text"].startswith("Warning signs: call 112 now"), "the answer about the signs, no alarm"
    assert buttons(what_if)[0] == ["What is vertebroplasty?"], "with the patient's step"

    (question,) = await patient.send("my feet feel odd and heavy")
    assert question["text"].startswith("What you wrote can be a warning sign. Do you have it now?")
    assert buttons(question) == [["Weak, numb or tingly legs"], ["No, not now"]]
    (thanks,) = await patient.press_and_read("No, not now")
    assert thanks["text"].startswith("Thank you. If anything changes, call ")
    assert buttons(thanks)[0] == ["What is vertebroplasty?"], "the patient's step comes back"

    (screen,) = await patient.send("I feel awful today")
    assert screen["text"].startswith("Do you have any of these now?")
    assert len(buttons(screen)) == 10, "every warning sign, and No"
    (fever,) = await patient.press_and_read("Fever or chills")
    assert fever["text"].startswith("If you have a fever of 38 °C or more")

    def signs(tx: Any) -> list[str]:
        return list(tx.conn.execute(select(SAFETY_EVENTS.c.sign)).scalars())

    assert await running.wiring.store.run(signs) == ["fever"], "only the confirmed sign is recorded"
