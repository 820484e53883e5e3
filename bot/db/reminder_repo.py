"""Procedures and reminder rows: scheduling, claiming due rows with a lease, outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection

from bot.db.tables import CLINICS, PROCEDURES, REMINDERS, USERS
from flows.models import ClinicSettings

OPEN = ("pending", "sending")
# A reminder whose buttons can be pressed: sent, or still "sending" when the press comes between
# Telegram's answer and the "sent" record (a press proves the message arrived).
PRESSABLE = ("sent", "sending")
# The outcome of reminders stopped because the patient blocked the bot: they come back when the
# patient does (bot/db/retention_repo.py), unless another cancellation took them meanwhile.
UNREACHABLE = "patient unreachable"
_CANCELLABLE = or_(
    REMINDERS.c.status.in_(OPEN), and_(REMINDERS.c.status == "cancelled", REMINDERS.c.outcome == UNREACHABLE)
)


class Planned(Protocol):
    """What the planner gives for one reminder (flows.planning.PlannedReminder)."""

    @property
    def key(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def due_at(self) -> dt.datetime: ...
    @property
    def deadline(self) -> dt.datetime: ...
    @property
    def about_at(self) -> dt.datetime: ...
    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class Procedure:
    """A procedure: set by the patient, or registered by a clinic (maybe awaiting its patient)."""

    id: int
    user_id: int | None
    starts_at: dt.datetime
    timezone: str
    source: str
    clinic_id: int | None = None
    reference: str | None = None
    status: str = "scheduled"
    unreachable_at: dt.datetime | None = None  # the patient blocked the bot then


@dataclass(frozen=True)
class ClaimedReminder:
    """A due reminder this sender now holds a lease on, with what it needs to render it."""

    id: int
    user_id: int
    chat_id: int
    locale: str
    paused: bool
    key: str
    message: str
    due_at: dt.datetime
    deadline: dt.datetime
    about_at: dt.datetime
    attempts: int
    starts_at: dt.datetime
    timezone: str
    clinic_settings: ClinicSettings | None = None  # the procedure's clinic, if a clinic registered it
    planned_with: ClinicSettings | None = None  # the settings its times were planned with


@dataclass(frozen=True)
class ReminderView:
    """A reminder as the patient or the clinic sees it in a list."""

    id: int
    key: str
    message: str
    due_at: dt.datetime
    about_at: dt.datetime
    status: str
    acknowledged: bool
    timezone: str


# The slug of the clinic row that holds the default clinic's settings (content/clinic.yaml or
# VERTEBROBOT_CLINIC_FILE), copied in at every start-up: the clinic of patients without an invite.
DEFAULT_CLINIC = "default"

# Built once: this runs on every update (a clinic's patients hear that clinic's numbers).
_CLINIC_OF = (
    select(CLINICS.c.settings)
    .join(PROCEDURES, PROCEDURES.c.clinic_id == CLINICS.c.id)
    .where(PROCEDURES.c.user_id == bindparam("user_id"), PROCEDURES.c.status == "scheduled")
    .order_by(PROCEDURES.c.id.desc())
    .limit(1)
)


def procedure_from_row(row: Any) -> Procedure:
    """A procedure from a row of the procedures table."""
    return Procedure(**{item.name: row._mapping[item.name] for item in fields(Procedure)})


def stored_settings(value: dict[str, Any] | None) -> ClinicSettings | None:
    """Clinic settings as stored (JSON), validated; None when none are stored."""
    return None if value is None else ClinicSettings.model_validate(value)


class Reminders:
    """Procedure and reminder rows, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def procedure(self, user_id: int) -> Procedure | None:
        """The user's scheduled procedure, if any."""
        row = self.conn.execute(
            select(PROCEDURES)
            .where(PROCEDURES.c.user_id == user_id, PROCEDURES.c.status == "scheduled")
            .order_by(PROCEDURES.c.id.desc())
        ).first()
        return None if row is None else procedure_from_row(row)

    def clinic_of(self, user_id: int) -> ClinicSettings | None:
        """The settings of the clinic of the user's scheduled procedure, if any."""
        return stored_settings(self.conn.execute(_CLINIC_OF, {"user_id": user_id}).scalar_one_or_none())

    def default_clinic_id(self) -> int | None:
        """The row that holds the default clinic's settings (written at start-up), if there is one."""
        found: int | None = self.conn.execute(
            select(CLINICS.c.id).where(CLINICS.c.slug == DEFAULT_CLINIC)
        ).scalar_one_or_none()
        return found

    def clinic_zones(self) -> list[str]:
        """The time zones of the clinics the bot knows, oldest clinic first."""
        rows = self.conn.execute(select(CLINICS.c.settings).order_by(CLINICS.c.id))
        return [zone for (settings,) in rows if (zone := (settings or {}).get("timezone"))]

    def procedure_by_id(self, procedure_id: int) -> Procedure | None:
        """Any procedure by its id."""
        row = self.conn.execute(select(PROCEDURES).where(PROCEDURES.c.id == procedure_id)).first()
        return None if row is None else procedure_from_row(row)

    def schedule(
        self,
        user_id: int,
        starts_at: dt.datetime,
        timezone: str,
        planned: Iterable[Planned],
        *,
        source: str,
        now: dt.datetime,
        clinic_id: int | None = None,
    ) -> int:
        """Replace the user's procedure and its open reminders with a new plan; returns its id."""
        # Only the patient's own earlier date is replaced; a clinic's booking is the clinic's.
        self.cancel(user_id, now=now, reason="replaced", source="patient")
        procedure_id = self.conn.execute(
            insert(PROCEDURES)
            .values(
                user_id=user_id,
                starts_at=starts_at,
                timezone=timezone,
                status="scheduled",
                source=source,
                clinic_id=clinic_id,
                created_at=now,
                updated_at=now,
            )
            .returning(PROCEDURES.c.id)
        ).scalar_one()
        self.add_plan(procedure_id, user_id, planned)
        return int(procedure_id)

    def planned_with(self, procedure_id: int, settings: ClinicSettings) -> None:
        """Record the clinic settings a procedure's reminders were (re)planned with."""
        self.conn.execute(
            update(PROCEDURES)
            .where(PROCEDURES.c.id == procedure_id)
            .values(planned_with=settings.model_dump(mode="json"))
        )

    def add_plan(self, procedure_id: int, user_id: int, planned: Iterable[Planned]) -> None:
        """Store a procedure's planned reminders as rows."""
        rows = [
            {
                "procedure_id": procedure_id,
                "user_id": user_id,
                "key": item.key,
                "message": item.message,
                "due_at": item.due_at,
                "deadline": item.deadline,
                "about_at": item.about_at,
                "status": item.status,
                "next_attempt_at": item.due_at,
                "attempts": 0,
                "outcome": "planned too late" if item.status == "skipped" else None,
            }
            for item in planned
        ]
        if rows:
            self.conn.execute(insert(REMINDERS), rows)

    def cancel_open(self, procedure_id: int, reason: str) -> int:
        """Cancel a procedure's reminders not yet sent (or stopped by a block); returns how many."""
        result = self.conn.execute(
            update(REMINDERS)
            .where(REMINDERS.c.procedure_id == procedure_id, _CANCELLABLE)
            .values(status="cancelled", outcome=reason, lease_until=None)
        )
        return int(result.rowcount)

    def cancel(
        self, user_id: int, *, now: dt.datetime, reason: str = "cancelled", source: str | None = None
    ) -> int:
        """Cancel the user's procedures (of one source, if given) and their open reminders."""
        chosen = [PROCEDURES.c.user_id == user_id, PROCEDURES.c.status == "scheduled"]
        if source is not None:
            chosen.append(PROCEDURES.c.source == source)
        scheduled = select(PROCEDURES.c.id).where(*chosen)
        result = self.conn.execute(
            update(REMINDERS)
            .where(REMINDERS.c.procedure_id.in_(scheduled), _CANCELLABLE)
            .values(status="cancelled", outcome=reason, lease_until=None)
        )
        self.conn.execute(update(PROCEDURES).where(*chosen).values(status="cancelled", updated_at=now))
        return int(result.rowcount)

    def claim_due(
        self, now: dt.datetime, *, lease: dt.timedelta, limit: int, sender: str = ""
    ) -> list[ClaimedReminder]:
        """Take up to `limit` due rows (or rows whose sender's lease ran out) for this sender."""
        claimable = or_(
            and_(REMINDERS.c.status == "pending", REMINDERS.c.next_attempt_at <= now),
            and_(REMINDERS.c.status == "sending", REMINDERS.c.lease_until < now),
        )
        ids = list(
            self.conn.execute(
                select(REMINDERS.c.id)
                .where(claimable)
                .order_by(REMINDERS.c.next_attempt_at, REMINDERS.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)  # PostgreSQL; SQLite locks the whole file anyway
            ).scalars()
        )
        if not ids:
            return []
        self.conn.execute(
            update(REMINDERS)
            .where(REMINDERS.c.id.in_(ids), claimable)
            .values(
                status="sending",
                lease_until=now + lease,
                claimed_by=sender,
                attempts=REMINDERS.c.attempts + 1,
            )
        )
        rows = self.conn.execute(
            select(
                REMINDERS.c.id,
                REMINDERS.c.user_id,
                USERS.c.chat_id,
                USERS.c.locale,
                USERS.c.reminders_paused.label("paused"),
                REMINDERS.c.key,
                REMINDERS.c.message,
                REMINDERS.c.due_at,
                REMINDERS.c.deadline,
                REMINDERS.c.about_at,
                REMINDERS.c.attempts,
                PROCEDURES.c.starts_at,
                PROCEDURES.c.timezone,
                CLINICS.c.settings.label("clinic_settings"),
                PROCEDURES.c.planned_with,
            )
            .join(USERS, USERS.c.user_id == REMINDERS.c.user_id)
            .join(PROCEDURES, PROCEDURES.c.id == REMINDERS.c.procedure_id)
            .outerjoin(CLINICS, CLINICS.c.id == PROCEDURES.c.clinic_id)
            .where(REMINDERS.c.id.in_(ids))
            .order_by(REMINDERS.c.next_attempt_at, REMINDERS.c.id)
        )
        # The settings are validated here, once: the sender gets models, never raw JSON.
        settings = ("clinic_settings", "planned_with")
        return [
            ClaimedReminder(
                **{**row._mapping, **{key: stored_settings(row._mapping[key]) for key in settings}}
            )
            for row in rows
        ]

    def still_mine(self, reminder_id: int, sender: str, now: dt.datetime, lease: dt.timedelta) -> bool:
        """Just before sending: the row is still this sender's (not cancelled, not taken over); renew it."""
        result = self.conn.execute(
            update(REMINDERS)
            .where(
                REMINDERS.c.id == reminder_id,
                REMINDERS.c.status == "sending",
                REMINDERS.c.claimed_by == sender,
            )
            .values(lease_until=now + lease)
        )
        return result.rowcount == 1

    def _finish(
        self, reminder_id: int, *, statuses: tuple[str, ...] = ("sending",), **values: object
    ) -> None:
        self.conn.execute(
            update(REMINDERS)
            .where(REMINDERS.c.id == reminder_id, REMINDERS.c.status.in_(statuses))
            .values(lease_until=None, claimed_by=None, **values)
        )

    def mark_sent(self, reminder_id: int, *, message_id: int, now: dt.datetime) -> None:
        """Record a delivered reminder (also one cancelled while it was on its way: it did arrive)."""
        self._finish(
            reminder_id,
            statuses=("sending", "cancelled"),
            status="sent",
            sent_at=now,
            telegram_message_id=message_id,
            outcome="sent",
        )

    def mark_skipped(self, reminder_id: int, reason: str) -> None:
        """Record a reminder that was not sent on purpose (too late, paused)."""
        self._finish(reminder_id, status="skipped", outcome=reason)

    def mark_failed(self, reminder_id: int, reason: str) -> None:
        """Record a reminder that could not be delivered."""
        self._finish(reminder_id, status="failed", outcome=reason[:120])

    def retry_at(self, reminder_id: int, when: dt.datetime, reason: str) -> None:
        """Put a reminder back to be tried again at `when`."""
        self._finish(reminder_id, status="pending", next_attempt_at=when, outcome=reason[:120])

    def acknowledge(self, reminder_id: int, user_id: int, now: dt.datetime) -> bool:
        """Record "Got it" from the reminder's own patient; False for anyone else's or unknown."""
        result = self.conn.execute(
            update(REMINDERS)
            .where(
                REMINDERS.c.id == reminder_id,
                REMINDERS.c.user_id == user_id,
                REMINDERS.c.status.in_(PRESSABLE),
            )
            .values(acknowledged_at=func.coalesce(REMINDERS.c.acknowledged_at, now))
        )
        return result.rowcount == 1

    def upcoming(self, user_id: int) -> list[ReminderView]:
        """The user's reminders still to come, soonest first."""
        return self._views(REMINDERS.c.user_id == user_id, REMINDERS.c.status.in_(OPEN))

    def for_procedure(self, procedure_id: int) -> list[ReminderView]:
        """Every reminder of a procedure, whatever became of it."""
        return self._views(REMINDERS.c.procedure_id == procedure_id)

    def _views(self, *where: object) -> list[ReminderView]:
        rows = self.conn.execute(
            select(
                REMINDERS.c.id,
                REMINDERS.c.key,
                REMINDERS.c.message,
                REMINDERS.c.due_at,
                REMINDERS.c.about_at,
                REMINDERS.c.status,
                REMINDERS.c.acknowledged_at.is_not(None).label("acknowledged"),
                PROCEDURES.c.timezone,
            )
            .join(PROCEDURES, PROCEDURES.c.id == REMINDERS.c.procedure_id)
            .where(*where)  # type: ignore[arg-type]
            .order_by(REMINDERS.c.due_at, REMINDERS.c.id)
        )
        return [ReminderView(**row._mapping) for row in rows]

    def next_due(self) -> dt.datetime | None:
        """When the next pending reminder falls due, so the dispatcher can sleep until then."""
        return self.conn.execute(
            select(func.min(REMINDERS.c.next_attempt_at)).where(REMINDERS.c.status == "pending")
        ).scalar_one_or_none()

    def set_paused(self, user_id: int, paused: bool) -> None:
        """Pause or resume a user's reminders."""
        self.conn.execute(update(USERS).where(USERS.c.user_id == user_id).values(reminders_paused=paused))
