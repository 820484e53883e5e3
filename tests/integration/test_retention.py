"""Nothing kept forever: a clinic's retention purges its patients' data, table by table."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db.retention_repo import Removed
from bot.db.store import Store, Transaction, UserRecord
from bot.db.tables import CHECKINS, COMPANIONS, INVITES, PROCEDURES, REMINDERS, SAFETY_EVENTS, USERS
from bot.services.clinic_model import digest
from bot.services.clinics import ClinicService
from bot.services.dispatcher import Dispatcher
from bot.services.retention import Purger
from flows.content import Content
from flows.engine import Session
from flows.models import ClinicSettings
from flows.outcome import CheckinTarget
from flows.render import RenderedMessage, Renderer, clinic_params
from tests.databases import database_url
from tests.support import FakeClock

NOW = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
OLD, RECENT = 101, 102  # the patients: procedure 1 ends up 31 days past, procedure 2 29 days past


@dataclass
class Clinic:
    store: Store
    clinics: ClinicService
    clock: FakeClock


@pytest.fixture
async def clinic(tmp_path: Path, content: Content) -> AsyncIterator[Clinic]:
    clock = FakeClock(NOW)
    store = Store(database_url(tmp_path / "retention.db"), clock=clock)
    await store.migrate()
    clinics = ClinicService(store, content.plan, bot_username="vertebrobot_test_bot", clock=clock)
    settings = content.clinic.model_dump() | {"timezone": "Europe/Sofia", "retention_days": 30}
    await clinics.save_clinic("sofia", ClinicSettings.model_validate(settings))
    yield Clinic(store, clinics, clock)
    await store.close()


async def procedure_with_data(world: Clinic, start: str, user_id: int, slug: str = "sofia") -> int:
    """A procedure whose patient joined, answered a check-in (pain, comment) and reported a sign."""
    sofia = await world.clinics.clinic(slug)
    details, invite = await world.clinics.register(sofia, start, reference=f"R-{user_id}")
    procedure_id = details.procedure.id
    now = world.clock.now

    def join_and_answer(tx: Transaction) -> None:
        record = UserRecord(user_id, user_id, "en", Session("menu", "main", {"age": "over_70"}), is_new=True)
        tx.save_user(record)
        assert world.clinics.redeem(tx, user_id, invite.token, now).result == "linked"
        reminder = tx.reminders.for_procedure(procedure_id)[-1]
        target = CheckinTarget(reminder.id, procedure_id, reminder.key, reminder.due_at)
        tx.checkins.set_pain(target, user_id, 6, now)
        tx.checkins.set_comment(target, user_id, "my back hurts at night", now)
        tx.record_warning_sign(user_id, "fever", record.session, procedure_id)

    await world.store.run(join_and_answer)
    return procedure_id


async def rows(world: Clinic, table: Any, *where: Any) -> int:
    def count(tx: Transaction) -> int:
        return int(tx.conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())

    return await world.store.run(count)


async def test_data_31_days_past_the_procedure_is_purged_and_29_days_past_is_kept(clinic: Clinic) -> None:
    old = await procedure_with_data(clinic, "2026-11-24T14:00", OLD)
    recent = await procedure_with_data(clinic, "2026-11-26T14:00", RECENT)
    sofia = await clinic.clinics.clinic("sofia")
    cancelled, _ = await clinic.clinics.register(sofia, "2026-12-30T14:00")
    await clinic.clinics.cancel(sofia, cancelled.procedure.id)  # cancelled on 1 November
    assert await rows(clinic, REMINDERS, REMINDERS.c.procedure_id == old) == 8

    clinic.clock.set(dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC) + dt.timedelta(days=31))
    purger = Purger(clinic.store, clock=clinic.clock)
    report = await purger.purge()

    assert report == {"sofia": Removed(procedures=2, reminders=8, checkins=1, warning_signs=1, patients=1)}
    # 31 days past: the patient's answers, chat, reminders, check-ins and invite are gone ...
    assert await rows(clinic, USERS, USERS.c.user_id == OLD) == 0
    assert await rows(clinic, REMINDERS, REMINDERS.c.procedure_id == old) == 0
    assert await rows(clinic, CHECKINS, CHECKINS.c.procedure_id == old) == 0
    assert await rows(clinic, INVITES, INVITES.c.procedure_id == old) == 0
    assert await rows(clinic, PROCEDURES, PROCEDURES.c.user_id == OLD) == 0
    assert await rows(clinic, SAFETY_EVENTS, SAFETY_EVENTS.c.user_id == OLD) == 0
    # ... while the procedure and its sign stay, unlinked, to be counted.
    assert await rows(clinic, PROCEDURES, PROCEDURES.c.id == old, PROCEDURES.c.purged_at.is_not(None)) == 1
    assert await rows(clinic, SAFETY_EVENTS, SAFETY_EVENTS.c.procedure_id == old) == 1
    # 29 days past: everything is kept.
    assert await rows(clinic, USERS, USERS.c.user_id == RECENT) == 1
    assert await rows(clinic, PROCEDURES, PROCEDURES.c.id == recent, PROCEDURES.c.user_id == RECENT) == 1
    assert await rows(clinic, REMINDERS, REMINDERS.c.procedure_id == recent) == 8
    assert (
        await rows(clinic, CHECKINS, CHECKINS.c.procedure_id == recent, CHECKINS.c.comment.is_not(None)) == 1
    )
    assert await rows(clinic, SAFETY_EVENTS, SAFETY_EVENTS.c.user_id == RECENT) == 1
    # Cancelled over 30 days ago, though it was to be in December: purged too.
    assert await rows(clinic, INVITES, INVITES.c.procedure_id == cancelled.procedure.id) == 0

    counts = await clinic.clinics.counts(sofia)
    assert (counts.procedures, counts.purged, counts.warning_signs) == (3, 2, 2)
    audit = await clinic.clinics.audit_log(sofia, NOW)
    assert [(e.actor_kind, e.action, e.procedure_id) for e in audit if e.action == "purged"] == [
        ("system", "purged", old),
        ("system", "purged", cancelled.procedure.id),
    ]
    assert await purger.purge() == {}, "purging again finds nothing"

    clinic.clock.set(clinic.clock.now + dt.timedelta(days=2))
    assert (await purger.purge())["sofia"].patients == 1
    assert await rows(clinic, USERS) == 0


async def test_a_patient_with_a_later_procedure_keeps_their_answers(clinic: Clinic, content: Content) -> None:
    await procedure_with_data(clinic, "2026-11-24T14:00", OLD)
    sofia = await clinic.clinics.clinic("sofia")
    _, invite = await clinic.clinics.register(sofia, "2027-01-20T14:00")
    await clinic.store.run(lambda tx: clinic.clinics.redeem(tx, OLD, invite.token, clinic.clock.now))
    clinic.clock.set(dt.datetime(2026, 12, 26, 8, 0, tzinfo=dt.UTC))
    report = await Purger(clinic.store, clock=clinic.clock).purge()
    assert report["sofia"].patients == 0
    assert await rows(clinic, USERS, USERS.c.user_id == OLD) == 1


async def test_run_purges_at_once_and_then_every_interval(clinic: Clinic) -> None:
    await procedure_with_data(clinic, "2026-11-24T14:00", OLD)
    clinic.clock.set(dt.datetime(2026, 12, 26, 8, 0, tzinfo=dt.UTC))
    purger = Purger(clinic.store, clock=clinic.clock, every=dt.timedelta(hours=1))
    stop = asyncio.Event()
    task = asyncio.create_task(purger.run(stop))
    await purger.purged.wait()
    stop.set()
    await task
    assert await rows(clinic, USERS, USERS.c.user_id == OLD) == 0


class Recorder:
    """A Sender that delivers every message to a list."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send(self, chat_id: int, message: RenderedMessage) -> int:
        self.sent.append((chat_id, message.text))
        return len(self.sent)


async def test_a_retention_shorter_than_the_plan_keeps_the_data_until_its_last_check_in_was_answerable(
    clinic: Clinic, content: Content
) -> None:
    settings = content.clinic.model_dump() | {"timezone": "Europe/Sofia", "retention_days": 1}
    await clinic.clinics.save_clinic("brief", ClinicSettings.model_validate(settings))
    procedure = await procedure_with_data(clinic, "2026-11-03T14:00", OLD, slug="brief")
    reminders = await clinic.store.run(lambda tx: tx.reminders.for_procedure(procedure))
    week_after = next(r for r in reminders if r.key == "week_after")
    assert week_after.due_at == dt.datetime(2026, 11, 10, 8, 0, tzinfo=dt.UTC)  # 10:00 in Sofia
    purger = Purger(clinic.store, clock=clinic.clock)

    clinic.clock.set(dt.datetime(2026, 11, 5, 12, 0, tzinfo=dt.UTC))  # 2 days past, retention 1 day
    assert await purger.purge() == {}
    assert await rows(clinic, USERS, USERS.c.user_id == OLD) == 1
    assert await rows(clinic, REMINDERS, REMINDERS.c.procedure_id == procedure) == 8

    clinic.clock.set(week_after.due_at)
    sender = Recorder()
    renderer = Renderer(content, clinic_params(content.clinic))
    dispatcher = Dispatcher(clinic.store, sender, renderer, content.clinic, clock=clinic.clock)
    while await dispatcher.dispatch_due():
        pass
    assert [chat for chat, _ in sender.sent] == [OLD], "the week-after check-in alone: the rest came too late"
    assert "How bad is your back pain today?" in sender.sent[0][1]

    clinic.clock.set(week_after.due_at + dt.timedelta(days=1))  # its buttons still answerable
    assert await purger.purge() == {}
    clinic.clock.set(week_after.due_at + dt.timedelta(days=2))
    assert (await purger.purge())["brief"] == Removed(
        procedures=1, reminders=8, checkins=1, warning_signs=1, patients=1
    )
    assert await rows(clinic, USERS, USERS.c.user_id == OLD) == 0


async def test_the_purge_takes_the_companion_and_their_account_too(clinic: Clinic) -> None:
    old = await procedure_with_data(clinic, "2026-11-24T14:00", OLD)
    companion, token, now = 201, "a-companion-link-token", clinic.clock.now

    def companion_joins(tx: Transaction) -> None:
        tx.save_user(UserRecord(companion, companion, "tr", Session("menu", "main"), is_new=True))
        tx.bookings.add_invite(old, digest(token), now + dt.timedelta(days=1), now, role="companion")
        assert clinic.clinics.redeem(tx, companion, token, now).result == "companion"

    await clinic.store.run(companion_joins)
    assert await rows(clinic, REMINDERS, REMINDERS.c.user_id == companion) == 3

    clinic.clock.set(dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC) + dt.timedelta(days=31))
    await Purger(clinic.store, clock=clinic.clock).purge()
    assert await rows(clinic, COMPANIONS) == 0
    assert await rows(clinic, USERS, USERS.c.user_id == companion) == 0
    assert await rows(clinic, REMINDERS, REMINDERS.c.user_id == companion) == 0
    assert await rows(clinic, INVITES, INVITES.c.procedure_id == old) == 0
