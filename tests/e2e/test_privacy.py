"""Patients own their data, end to end: /mydata shows all of it, /forget deletes all of it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import JSON, Integer, String, func, select

from bot.db.store import Transaction
from bot.db.tables import Base
from bot.entrypoints.api import create_api
from bot.testing.fake_bot_api import FakeBotAPI
from flows.content import Content
from flows.models import ClinicSettings
from tests.e2e.conftest import Patient, RunningBot
from tests.support import FakeClock

PATIENT = 918273645  # distinctive: no other id or number in the database looks like it
UTC = dt.UTC
CHECKIN_DUE = dt.datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # day_after of a procedure on the 24th
COMMENT = "The bruise is smaller today"


def holding(tx: Transaction, ids: set[int]) -> list[str]:
    """Every table.column (of every table in the metadata) with a value that is or names one of the ids."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, Integer | String | JSON)]
        for row in tx.conn.execute(select(*columns)):
            for column, value in zip(columns, row, strict=True):
                text = json.dumps(value) if isinstance(value, dict | list) else str(value)
                if (isinstance(value, int) and value in ids) or any(str(i) in text for i in ids):
                    found.append(f"{table.name}.{column.name}")
    return found


# Tables of the bot as a whole that change with every message sent and name no patient: the send
# budget shared by instances (a row per bot, on PostgreSQL only). Counted and compared without them.
BOT_WIDE = {"send_budget"}


def counts(tx: Transaction) -> dict[str, int]:
    """How many rows each table has (tables with none, and BOT_WIDE, left out)."""
    found = {}
    for table in Base.metadata.sorted_tables:
        if table.name in BOT_WIDE:
            continue
        if n := tx.conn.execute(select(func.count()).select_from(table)).scalar_one():
            found[table.name] = n
    return found


def dump(tx: Transaction) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but BOT_WIDE, to compare before and after."""
    return {
        table.name: [tuple(row) for row in tx.conn.execute(select(table).order_by(*table.primary_key))]
        for table in Base.metadata.sorted_tables
        if table.name not in BOT_WIDE
    }


async def check_in_arrives(running: RunningBot, telegram: FakeBotAPI, clock: FakeClock) -> None:
    clock.set(CHECKIN_DUE)
    running.dispatcher.wake.set()
    await telegram.wait_for(
        lambda: "How bad is your back pain today?" in telegram.bot_messages(PATIENT)[-1].get("text", ""),
        10,
        what="the check-in",
    )


async def use_every_feature(
    patient: Patient, running: RunningBot, telegram: FakeBotAPI, clock: FakeClock, content: Content
) -> None:
    """Language, questionnaire, checklist, own date and reminders, a check-in, a warning sign."""
    labels = content.locales["en"].labels
    await patient.send("/start")
    await patient.send("/language")
    await patient.press_and_read("English")
    await patient.send("/menu")
    await patient.press(labels["menu.candidacy"])
    await patient.press(labels["btn.start"])
    await patient.press(labels["btn.yes"])
    await patient.press(labels["cand.btn.osteoporosis"])
    await patient.send("/menu")
    await patient.press(labels["menu.prepare"])
    await patient.press(labels["btn.next"])
    await patient.press(f"\u2b1c {labels['prep.item.consent']}")
    await patient.send("/menu")
    await patient.press(labels["menu.procedure"])
    await patient.press(labels["proc.btn.set"])
    await patient.press("Tue 24 Nov")
    (planned,) = await patient.send("9:30")
    assert planned["text"].startswith("Your procedure: Tuesday, November 24, 2026 at 9:30")
    await check_in_arrives(running, telegram, clock)
    await patient.press_and_read("3")
    await patient.press_and_read("No")
    await patient.send(COMMENT)
    (urgent,) = await patient.send("I have chest pain")
    assert "chest pain" in urgent["text"].lower()


async def test_mydata_gives_every_kind_of_data_the_bot_holds_as_a_message_and_a_json_file(
    telegram: FakeBotAPI, running: RunningBot, clock: FakeClock, content: Content
) -> None:
    patient = Patient(telegram, PATIENT)
    await use_every_feature(patient, running, telegram, clock, content)

    uploads = len(telegram.uploads)
    (message, document) = await patient.send("/mydata", replies=2)
    text = message["text"]
    assert document["document"]["file_name"] == "my-data.json"
    assert len(telegram.uploads) == uploads + 1
    data = json.loads(telegram.uploads[-1].data)

    assert (data["telegram_user_id"], data["chat_id"]) == (PATIENT, PATIENT)
    assert data["language"] == "en"
    assert "Language: English" in text
    (procedure,) = data["procedures"]
    assert procedure | {"id": 0} == {
        "id": 0,
        "starts_at": "2026-11-24T09:30:00+00:00",
        "timezone": "UTC",
        "clinic": "",
        "clinic_reference": None,
        "status": "scheduled",
        "entered_by": "patient",
    }
    assert "Your procedure:\n\u2022 24 Nov 2026, 09:30 (UTC), planned, date entered by you" in text
    assert {"flow": "candidacy", "question": "fracture", "answer": "yes"} in data["questionnaire_answers"]
    assert {"flow": "candidacy", "question": "cause", "answer": "osteoporosis"} in data[
        "questionnaire_answers"
    ]
    assert "Has a doctor told you that you have a broken bone (a fracture) in your spine? Yes" in text
    cause = content.locales["en"].labels["cand.btn.osteoporosis"]
    assert f"What caused the break, as far as you know? {cause}" in text
    assert data["checklist_ticks"] == [{"flow": "prepare", "item": "consent"}]
    assert "What you ticked off:\n\u2022 Consent explained" in text
    reminders = {r["reminder"]: r for r in data["reminders"]}
    assert reminders["day_after"]["status"] == "sent"
    assert reminders["day_after"]["got_it_at"] == "2026-11-25T10:00:00+00:00"
    assert reminders["fasting_food"]["status"] == "skipped"
    assert reminders["week_after"] == {
        "procedure_id": procedure["id"],
        "reminder": "week_after",
        "due_at": "2026-12-01T10:00:00+00:00",
        "about": "2026-12-01T10:00:00+00:00",
        "status": "pending",
        "got_it_at": None,
    }
    assert "25 Nov 2026, 10:00: Check-in the next day (sent, you tapped \u201cGot it\u201d)" in text
    assert "1 Dec 2026, 10:00: Check-in after a week (still to come)" in text
    assert "23 Nov 2026, 20:00: Stop eating from 5:30\u202fAM (not sent)" in text
    (checkin,) = data["checkins"]
    assert (checkin["checkin"], checkin["pain"], checkin["warning_signs"], checkin["comment"]) == (
        "day_after",
        3,
        [],
        COMMENT,
    )
    assert (
        f"Check-in the next day; pain 3/10; none of the warning signs; your message: \u201c{COMMENT}\u201d"
        in text
    )
    assert [s["sign"] for s in data["warning_signs_reported"]] == ["chest_pain"]
    sign_label = content.locales["en"].labels["sign.chest_pain"]
    assert f"Warning signs you reported:\n\u2022 {sign_label}: 25 Nov 2026, 10:00" in text
    assert text.endswith("To delete all of this, send /forget.")


async def test_after_forget_no_table_holds_the_patient_and_no_reminder_is_sent(
    telegram: FakeBotAPI, running: RunningBot, clock: FakeClock, content: Content
) -> None:
    patient = Patient(telegram, PATIENT)
    await use_every_feature(patient, running, telegram, clock, content)
    store = running.wiring.store
    assert await store.run(lambda tx: [r.key for r in tx.reminders.upcoming(PATIENT)]) == [
        "day_two",
        "week_after",
    ]

    (question,) = await patient.send("/forget")
    assert question["text"].startswith("Delete everything I keep about you?")
    assert "your reminders stop" in question["text"]
    assert "the clinic keeps its own record of the appointment" in question["text"]
    assert patient.labels() == ["Delete", "Keep"]
    await patient.press_data(
        question["message_id"], patient.screen()["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    )
    confirmed = telegram.messages(PATIENT)[question["message_id"] - 1]
    assert confirmed["text"].startswith("Done. Everything I kept about you is deleted")
    assert "reply_markup" not in confirmed

    assert await store.run(lambda tx: holding(tx, {PATIENT})) == []
    assert await store.run(counts) == {"bot_settings": 1, "clinics": 1}, (
        "only the bot's username and the default clinic's settings are left"
    )

    # The check-ins that were still to come never arrive.
    before = len(telegram.bot_messages(PATIENT))
    for moment in (dt.datetime(2026, 11, 26, 10, 0, tzinfo=UTC), dt.datetime(2026, 12, 1, 10, 0, tzinfo=UTC)):
        clock.set(moment)
        await running.dispatcher.settle()
    assert len(telegram.bot_messages(PATIENT)) == before

    # A later /start is someone new: welcomed, nothing known.
    (welcome,) = await patient.send("/start")
    assert welcome["text"].startswith("Hello.")
    record = await store.run(lambda tx: tx.load_user(PATIENT))
    assert record is not None
    assert record.session.answers == {}
    assert await store.run(lambda tx: tx.reminders.procedure(PATIENT)) is None
    assert await store.run(counts) == {"bot_settings": 1, "clinics": 1, "users": 1}


@pytest.fixture
async def clinic_api(running: RunningBot) -> AsyncIterator[httpx.AsyncClient]:
    settings = running.wiring.content.clinic.model_dump() | {
        "name": "Sofia Spine",
        "timezone": "Europe/Sofia",
    }
    await running.wiring.clinics.save_clinic("sofia", ClinicSettings.model_validate(settings))
    token = await running.wiring.clinics.issue_token("sofia")
    transport = httpx.ASGITransport(app=create_api(running.wiring.clinics))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://clinic.test", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


async def test_after_forget_the_clinic_keeps_its_appointment_without_the_telegram_link(
    telegram: FakeBotAPI, running: RunningBot, clock: FakeClock, clinic_api: httpx.AsyncClient
) -> None:
    created = (
        await clinic_api.post("/api/procedures", json={"start": "2026-11-24T11:30", "reference": "SOF-7"})
    ).json()
    patient = Patient(telegram, PATIENT)
    await patient.send(f"/start {created['invite']['link'].split('start=')[1]}")
    await check_in_arrives(running, telegram, clock)
    await patient.press_and_read("2")
    await patient.press_and_read("No")
    await patient.send(COMMENT)
    (mine, _file) = await patient.send("/mydata", replies=2)
    assert (
        "24 Nov 2026, 11:30 (Europe/Sofia), Sofia Spine, planned, registered by your clinic" in mine["text"]
    )

    (question,) = await patient.send("/forget")
    delete = patient.screen()["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await patient.press_data(question["message_id"], delete)

    assert await running.wiring.store.run(lambda tx: holding(tx, {PATIENT})) == []
    # The clinic's reads were audited; no audit row names the patient (checked above, every table).
    assert (await running.wiring.store.run(counts))["audit_log"] == 2  # token_issued, registered
    appointment = (await clinic_api.get(f"/api/procedures/{created['procedure']['id']}")).json()
    assert appointment["status"] == "scheduled"
    assert appointment["reference"] == "SOF-7"
    assert appointment["patient_joined"] is False
    assert appointment["starts_at"] == created["procedure"]["starts_at"]
    assert (appointment["reminders"], appointment["warning_signs"]) == ([], [])
    assert (await clinic_api.get(f"/api/procedures/{created['procedure']['id']}/checkins")).json()[
        "checkins"
    ] == []
    # The invite it was opened with stays used: it cannot link anyone again.
    await patient.send(f"/start {created['invite']['link'].split('start=')[1]}")
    assert "This invitation link has already been used." in telegram.bot_messages(PATIENT)[-1]["text"]
    assert (await clinic_api.get(f"/api/procedures/{created['procedure']['id']}")).json()[
        "patient_joined"
    ] is False


async def test_keep_deletes_nothing_and_a_stale_or_forged_delete_deletes_nothing(
    telegram: FakeBotAPI, running: RunningBot, clock: FakeClock, content: Content
) -> None:
    labels = content.locales["en"].labels
    patient = Patient(telegram, PATIENT)
    await patient.send("/start")
    await patient.press(labels["menu.procedure"])
    await patient.press(labels["proc.btn.set"])
    await patient.press("Tue 24 Nov")
    await patient.send("9:30")
    store = running.wiring.store
    before = await store.run(dump)

    def unchanged(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
        return {name: table for name, table in rows.items() if name != "users"}

    (first,) = await patient.send("/forget")
    old_delete = patient.screen()["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    (menu,) = await patient.press_and_read("Keep")
    kept = telegram.messages(PATIENT)[first["message_id"] - 1]
    assert kept["text"] == "Nothing was deleted. Everything stays as it was."
    assert "reply_markup" not in kept
    assert menu["text"] == "What would you like to know? Tap a button below."
    assert labels["menu.procedure"] in patient.labels()
    assert unchanged(await store.run(dump)) == unchanged(before)

    # The Delete of a question already answered, a forged one, and one pressed too late.
    (second,) = await patient.send("/forget")
    await patient.press_data(first["message_id"], old_delete, expect_answer=False)
    await patient.press_data(second["message_id"], "forget.0badc0de", expect_answer=False)
    clock.set(clock.now + dt.timedelta(minutes=16))
    fresh_delete = patient.screen()["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await patient.press_data(second["message_id"], fresh_delete, expect_answer=False)
    stale = "That question is no longer open, so nothing was deleted. Send /forget to be asked again."
    assert [a.get("text") for a in telegram.callback_answers[-3:]] == [stale, stale, stale]
    assert unchanged(await store.run(dump)) == unchanged(before)
    assert await store.run(lambda tx: tx.load_user(PATIENT)) is not None


COMPANION = 827364519  # distinctive too


async def invited_companion(patient: Patient, telegram: FakeBotAPI, content: Content) -> Patient:
    """The patient sets their date and invites a companion from "My procedure"; the companion
    opens the link."""
    labels = content.locales["en"].labels
    await patient.send("/start")
    await patient.press(labels["menu.procedure"])
    await patient.press(labels["proc.btn.set"])
    await patient.press("Tue 24 Nov")
    await patient.send("9:30")
    await patient.send("/menu")
    await patient.press(labels["menu.procedure"])
    (link,) = await patient.press_and_read(labels["proc.btn.companion_invite"])
    companion = Patient(telegram, COMPANION)
    await companion.send(f"/start {link['text'].rsplit('start=', 1)[1]}", replies=2)
    return companion


async def test_after_the_patient_forgets_no_table_holds_their_companion_either(
    telegram: FakeBotAPI, running: RunningBot, clock: FakeClock, content: Content
) -> None:
    patient = Patient(telegram, PATIENT)
    companion = await invited_companion(patient, telegram, content)
    await check_in_arrives(running, telegram, clock)
    await patient.press_and_read("3")
    (urgent,) = await companion.send("he fainted")
    assert "faint" in urgent["text"].lower()
    store = running.wiring.store
    assert await store.run(lambda tx: holding(tx, {COMPANION})) != []

    (question,) = await patient.send("/forget")
    delete = patient.screen()["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await patient.press_data(question["message_id"], delete)
    await telegram.wait_for(
        lambda: (
            telegram.bot_messages(COMPANION)[-1]["text"]
            == running.wiring.renderer.text("companion.gone", "en")
        ),
        10,
        what="the companion told",
    )
    assert await store.run(lambda tx: holding(tx, {PATIENT, COMPANION})) == []
    assert await store.run(counts) == {"bot_settings": 1, "clinics": 1}


async def test_a_companion_can_forget_themselves_and_the_patient_is_told(
    telegram: FakeBotAPI, running: RunningBot, clock: FakeClock, content: Content
) -> None:
    patient = Patient(telegram, PATIENT)
    companion = await invited_companion(patient, telegram, content)
    (theirs, _file) = await companion.send("/mydata", replies=2)
    assert (
        "You are the companion for (the procedure; when you joined):\n\u2022 24 Nov 2026, 09:30 (UTC)"
        in (theirs["text"])
    )
    assert "Stop eating from" not in theirs["text"], "none of the patient's reminders"
    (mine, _file) = await patient.send("/mydata", replies=2)
    assert "People linked as your companions (when each one joined):\n\u2022 " in mine["text"]

    (question,) = await companion.send("/forget")
    delete = companion.screen()["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await companion.press_data(question["message_id"], delete)
    await telegram.wait_for(
        lambda: (
            telegram.bot_messages(PATIENT)[-1].get("text")
            == running.wiring.renderer.text("companion.left_patient", "en")
        ),
        10,
        what="the patient told",
    )
    store = running.wiring.store
    assert await store.run(lambda tx: holding(tx, {COMPANION})) == []
    assert await store.run(lambda tx: tx.reminders.procedure(PATIENT)) is not None, "the patient's stays"
