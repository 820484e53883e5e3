"""Reminders end to end: a patient sets their procedure, reminders go at their time, once."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from icalendar import Calendar

from bot.testing.fake_bot_api import FakeBotAPI
from flows.content import Content
from flows.models import ClinicSettings
from tests.e2e.conftest import Patient, RunningBot, start_bot
from tests.support import FakeClock, reminder_messages

CHAT = 301


async def set_procedure(patient: Patient, labels: dict[str, str], time_typed: str) -> list[dict]:  # type: ignore[type-arg]
    await patient.send("/start")
    await patient.press(labels["menu.procedure"])
    await patient.press(labels["proc.btn.set"])
    await patient.press("Mon 23 Nov")
    return await patient.send(time_typed)


async def test_set_by_the_patient_the_fasting_reminder_comes_on_time_and_once(
    telegram: FakeBotAPI, running: RunningBot, clock: FakeClock, content: Content
) -> None:
    labels = content.locales["en"].labels
    patient = Patient(telegram, CHAT)
    (done,) = await set_procedure(patient, labels, "2:10 pm")
    assert done["text"].startswith("Your procedure: Monday, November 23, 2026 at 2:10\u202fPM.")
    store = running.wiring.store
    rows = {r.key: r for r in await store.run(lambda tx: tx.reminders.for_procedure(1))}
    assert rows["week_before"].status == "skipped"
    assert rows["evening_before"].status == "skipped"
    assert rows["fasting_food"].due_at == dt.datetime(2026, 11, 23, 10, 10, tzinfo=dt.UTC)
    assert rows["leave_home"].due_at == dt.datetime(2026, 11, 23, 12, 10, tzinfo=dt.UTC)
    assert "fasting_fluid" not in rows, "one cut-off for food and drink: one message"

    clock.set(dt.datetime(2026, 11, 23, 10, 9, 59, tzinfo=dt.UTC))
    await running.dispatcher.settle()
    assert reminder_messages(telegram, CHAT) == []

    clock.set(dt.datetime(2026, 11, 23, 10, 10, tzinfo=dt.UTC))
    started = time.monotonic()
    running.dispatcher.wake.set()
    await telegram.wait_for(lambda: len(reminder_messages(telegram, CHAT)) == 1, 5)
    assert time.monotonic() - started < 2.0, "sent within seconds of its due time"
    (fasting,) = reminder_messages(telegram, CHAT)
    assert fasting["text"] == running.wiring.renderer.text(
        "rem.fasting_all", "en", {"food_stop_time": "10:10\u202fAM"}
    )
    assert fasting["text"].startswith("From 10:10\u202fAM")

    clock.set(dt.datetime(2026, 11, 23, 10, 40, tzinfo=dt.UTC))
    await running.dispatcher.settle()
    assert len(reminder_messages(telegram, CHAT)) == 1, "sent once"

    got_it = fasting["reply_markup"]["inline_keyboard"][0][0]
    assert got_it["text"] == labels["rem.got_it"]
    await patient.press_data(fasting["message_id"], got_it["callback_data"], expect_answer=False)
    assert telegram.callback_answers[-1]["text"] == running.wiring.renderer.text("rem.acknowledged", "en")
    rows = {r.key: r for r in await store.run(lambda tx: tx.reminders.for_procedure(1))}
    assert rows["fasting_food"].status == "sent"
    assert rows["fasting_food"].acknowledged is True
    await telegram.wait_for(
        lambda: "reply_markup" not in telegram.messages(CHAT)[fasting["message_id"] - 1], 5
    )


async def test_typed_times_in_the_forms_people_use_and_clear_words_for_bad_ones(
    telegram: FakeBotAPI, running: RunningBot, content: Content
) -> None:
    labels = content.locales["en"].labels
    renderer = running.wiring.renderer
    patient = Patient(telegram, CHAT)
    await patient.send("/start")
    await patient.press(labels["menu.procedure"])
    await patient.press(labels["proc.btn.set"])
    (unclear_date,) = await patient.send("the 31st of February")
    assert unclear_date["text"].startswith(renderer.text("proc.unclear_date", "en") + "\n\n")
    await patient.send("24.11")
    for typed, answer in (("25:99", "proc.unclear_time"), ("soon", "proc.unclear_time")):
        (said,) = await patient.send(typed)
        assert said["text"] == answer_text(renderer, answer) + "\n\n" + renderer.text("proc.ask_time", "en")
    assert await running.wiring.store.run(lambda tx: tx.reminders.procedure(CHAT)) is None, "nothing changed"
    (done,) = await patient.send("09.30")
    assert "Tuesday, November 24, 2026 at 9:30\u202fAM" in done["text"]


def answer_text(renderer, text_id: str) -> str:  # type: ignore[no-untyped-def]
    return renderer.text(text_id, "en")


async def test_a_time_already_past_today_is_refused(
    telegram: FakeBotAPI, running: RunningBot, content: Content
) -> None:
    labels = content.locales["en"].labels
    patient = Patient(telegram, CHAT)
    await patient.send("/start")
    await patient.press(labels["menu.procedure"])
    await patient.press(labels["proc.btn.set"])
    await patient.press("Mon 23 Nov")
    (said,) = await patient.send("9:00")
    assert said["text"].startswith(running.wiring.renderer.text("proc.time_past", "en") + "\n\n")


async def test_list_reschedule_calendar_and_cancel(
    telegram: FakeBotAPI, running: RunningBot, clock: FakeClock, content: Content
) -> None:
    labels = content.locales["en"].labels
    renderer = running.wiring.renderer
    patient = Patient(telegram, CHAT)
    await set_procedure(patient, labels, "16:00")
    (listing,) = await patient.send("/reminders")
    lines = listing["text"].splitlines()
    assert lines[0] == renderer.text("proc.list_header", "en")
    # Each says what it is about, not only when it comes (clinic: 4 h fasting, arrive 1 h before).
    assert lines[1] == "\u2022 Mon 23 Nov, 12:00: Stop eating from 12:00\u202fPM"
    assert lines[2] == "\u2022 Mon 23 Nov, 14:00: Time to leave home: 2:00\u202fPM"

    # Reschedule to the next day: the old reminders are replaced by the new day's.
    await patient.press(labels["proc.btn.set"])
    await patient.press("Tue 24 Nov")
    await patient.send("16:00")
    (listing,) = await patient.send("/reminders")
    assert f"\u2022 Mon 23 Nov, 18:00: {labels['rem.title.evening_before']}" in listing["text"]
    assert "\u2022 Tue 24 Nov, 12:00: Stop eating from 12:00\u202fPM" in listing["text"]
    assert "Mon 23 Nov, 12:00" not in listing["text"]

    await patient.press(labels["proc.btn.calendar"])
    await telegram.wait_for(lambda: bool(telegram.uploads), 5)
    calendar = Calendar.from_ical(telegram.uploads[-1].data)
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == dt.datetime(2026, 11, 24, 16, 0, tzinfo=dt.UTC)
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("trigger") == -dt.timedelta(hours=4)

    await patient.send("/menu")
    await patient.press(labels["menu.procedure"])
    await patient.press(labels["proc.btn.cancel"])
    (cancelled,) = await patient.press_and_read(labels["proc.btn.cancel_yes"])
    assert cancelled["text"] == renderer.text("proc.cancelled", "en")
    clock.set(dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC))
    await running.dispatcher.settle()
    assert reminder_messages(telegram, CHAT) == [], "a cancelled procedure sends nothing"


async def test_an_istanbul_clinic_at_noon_sends_stop_eating_at_eight_istanbul_time(
    telegram: FakeBotAPI, tmp_path: Path, content: Content
) -> None:
    clinic_file = tmp_path / "istanbul.yaml"
    clinic_file.write_text(
        'clinic:\n  timezone: "Europe/Istanbul"\n  fasting_food_hours: 4\n  fasting_fluid_hours: 4\n',
        encoding="utf-8",
    )
    clock = FakeClock(dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC))  # 10:00 in Istanbul (UTC+3)
    running = await start_bot(
        telegram,
        tmp_path / "ist.db",
        clock=clock,
        dispatcher_options={"idle_seconds": 0.2},
        VERTEBROBOT_CLINIC_FILE=clinic_file,
    )
    try:
        labels = content.locales["en"].labels
        patient = Patient(telegram, CHAT)
        await patient.send("/start")
        await patient.press(labels["menu.procedure"])
        await patient.press(labels["proc.btn.set"])
        await patient.press("Tue 24 Nov")
        (done,) = await patient.send("12:00")
        assert done["text"].startswith("Your procedure: Tuesday, November 24, 2026 at 12:00\u202fPM.")
        rows = {r.key: r for r in await running.wiring.store.run(lambda tx: tx.reminders.for_procedure(1))}
        # 08:00 in Istanbul is 05:00 UTC: never 08:00 UTC (11:00 local, an hour before the procedure).
        assert rows["fasting_food"].due_at == dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.UTC)
        clock.set(dt.datetime(2026, 11, 24, 5, 0, tzinfo=dt.UTC))
        running.dispatcher.wake.set()
        await telegram.wait_for(lambda: len(reminder_messages(telegram, CHAT)) >= 1, 5)
        assert reminder_messages(telegram, CHAT)[-1]["text"].startswith("From 8:00\u202fAM")
    finally:
        await running.stop()


async def test_without_a_clinic_time_zone_the_patient_names_the_place_and_is_planned_there(
    telegram: FakeBotAPI, tmp_path: Path, content: Content
) -> None:
    clinic_file = tmp_path / "nozone.yaml"
    clinic_file.write_text('clinic:\n  name: "Test clinic"\n', encoding="utf-8")
    clock = FakeClock(dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC))
    running = await start_bot(
        telegram, tmp_path / "nozone.db", clock=clock, VERTEBROBOT_CLINIC_FILE=clinic_file
    )
    try:
        istanbul = ClinicSettings.model_validate(
            content.clinic.model_dump() | {"timezone": "Europe/Istanbul", "name": "Bosphorus Spine"}
        )
        await running.wiring.clinics.save_clinic("bosphorus", istanbul)
        labels = content.locales["en"].labels
        patient = Patient(telegram, CHAT)
        await patient.send("/start")
        await patient.press(labels["menu.procedure"])
        asked = await patient.press(labels["proc.btn.set"])
        assert asked["text"].startswith("Where will you have your procedure?")
        places = [b["text"] for row in asked["reply_markup"]["inline_keyboard"] for b in row]
        assert places[0] == "Istanbul"  # the clinics the bot knows, as places
        (unknown,) = await patient.send("the big hospital")
        assert unknown["text"].startswith("Sorry, I do not know that place.")
        await patient.send("Sofia, Bulgaria")
        await patient.send("18.12")
        await patient.send("half past eleven")
        await telegram.wait_for(lambda: "Your procedure" in telegram.bot_messages(CHAT)[-1]["text"], 5)
        done = telegram.bot_messages(CHAT)[-1]
        assert done["text"].startswith("Your procedure: Friday, December 18, 2026 at 11:30\u202fAM.")
        procedure = await running.wiring.store.run(lambda tx: tx.reminders.procedure(CHAT))
        assert procedure is not None
        assert procedure.timezone == "Europe/Sofia"
        assert procedure.starts_at == dt.datetime(2026, 12, 18, 9, 30, tzinfo=dt.UTC)  # 11:30 in Sofia
        # One place for clinic settings: the default clinic is a row like every other clinic.
        default = await running.wiring.clinics.clinic("default")
        assert procedure.clinic_id == default.id
        assert default.settings.name == "Test clinic"
        (listed,) = await patient.press_and_read(labels["proc.btn.list"])
        assert "Thu 17 Dec, 20:00: Stop eating from 5:30\u202fAM" in listed["text"]  # Sofia time
    finally:
        await running.stop()
