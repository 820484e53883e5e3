"""What the procedure flow's inputs and buttons do: schedule, list, pause, cancel, calendar."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import segno
from babel.dates import format_date, format_datetime
from icalendar import Alarm, Calendar, Event

from bot.db.checkin_repo import CheckinView
from bot.db.reminder_repo import Procedure
from bot.db.store import Transaction
from bot.services.pain_chart import PainPoint
from bot.services.reminder_text import MIDNIGHT, clock_time, time_params
from flows.models import ClinicSettings
from flows.outcome import ScheduleProcedure
from flows.planning import PlannedReminder, ReminderPlan, local_times, plan_reminders
from flows.render import RenderedMessage, Renderer, clinic_params
from flows.texts import REMINDER_TITLE_PREFIX

if TYPE_CHECKING:  # bot/services/clinics.py plans with this module's helpers
    from bot.services.clinics import Redemption


@dataclass(frozen=True)
class Document:
    """A file to send: the calendar entry."""

    filename: str
    data: bytes
    caption: str
    photo: bool = False  # shown as a picture in the chat rather than as a file


@dataclass
class EffectResult:
    """Extra messages and files an update's effects produced, and the procedure now known."""

    texts: list[str] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    procedure: Procedure | None = None
    scheduled: bool = False
    pain: list[PainPoint] = field(default_factory=list)  # for a /pain chart, drawn after the transaction
    invite: Redemption | None = None  # what became of an invite opened with /start
    alerts: list[tuple[int, str]] = field(default_factory=list)  # (staff chat, text) to send
    stale: bool = False  # a press that turned out not to be the patient's ("Got it" on another's)
    forgotten: bool = False  # the patient's data was deleted (/forget): nothing more is saved
    messages: list[RenderedMessage] = field(default_factory=list)  # messages with buttons of their own


def pain_points(checkins: list[CheckinView], zone: ZoneInfo, locale: str) -> list[PainPoint]:
    """The scored check-ins as chart points, labelled with their day in the patient's language."""
    return [
        PainPoint(format_date(item.due_at.astimezone(zone), "d MMM", locale=locale), item.pain)
        for item in checkins
        if item.pain is not None
    ]


QR_MIN_PX = 600  # wide enough to print on an appointment letter and scan from across a desk
QR_BORDER = 4  # the quiet zone the QR standard asks for, in modules


def qr_png(link: str) -> bytes:
    """A QR code of a link, as a PNG a phone camera reads from a screen or paper."""
    code = segno.make(link, error="m")
    width, _ = code.symbol_size(scale=1, border=QR_BORDER)
    buffer = io.BytesIO()
    # Whole pixels per module, as many as make it at least QR_MIN_PX wide: sharp when printed.
    code.save(buffer, kind="png", scale=-(-QR_MIN_PX // width), border=QR_BORDER)
    return buffer.getvalue()


def to_utc(local: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """A wall-clock time in a zone as UTC; a time skipped by a clock change moves past the gap."""
    aware = local.replace(tzinfo=zone)
    # A round trip through UTC normalises a wall time that does not exist (spring forward).
    return aware.astimezone(dt.UTC)


NOTICE_DEADLINE = dt.timedelta(days=2)  # a notice not sent by then is dropped
# The planned times a settings change can move, each named in the patient's notice.
MOVABLE_TIMES = ("food_stop", "fluid_stop", "arrive", "leave")
TIMES_CHANGED = "clinic.times_changed"


def replan(
    tx: Transaction,
    plan: ReminderPlan,
    procedure: Procedure,
    settings: ClinicSettings,
    now: dt.datetime,
    *,
    old: ClinicSettings | None,
) -> bool:
    """Plan a procedure's open reminders again with changed clinic settings, in its transaction.

    `old` are the settings it was planned with (None if not recorded). Nothing happens when they
    give the same plan. When a time the patient was told moves (stop eating, stop drinking,
    arrive, leave home), a notice says so. Returns whether anything was planned again.
    """
    if procedure.user_id is None or procedure.status != "scheduled" or procedure.starts_at <= now:
        return False
    if old is None:
        # Planned before the settings were recorded: with these, as far as anyone knows. Record
        # them; moving reminders on a guess could send one twice or drop it.
        tx.reminders.planned_with(procedure.id, settings)
        return False
    if old == settings:
        return False
    zone = ZoneInfo(procedure.timezone)
    planned = plan_reminders(plan, procedure.starts_at, zone, settings, now)
    tx.reminders.planned_with(procedure.id, settings)
    if planned == plan_reminders(plan, procedure.starts_at, zone, old, now):
        return False  # a new name or phone: the same reminders at the same times
    tx.reminders.cancel_open(procedure.id, "clinic settings changed")
    tx.reminders.add_plan(procedure.id, procedure.user_id, planned)
    plan_companions(tx, plan, procedure, settings, now)
    was, now_times = (
        local_times(procedure.starts_at, zone, old),
        local_times(procedure.starts_at, zone, settings),
    )
    if any(was[key] != now_times[key] for key in MOVABLE_TIMES):
        tx.reminders.add_plan(procedure.id, procedure.user_id, [notice(TIMES_CHANGED, now)])
    return True


WELCOME_HOLD = dt.timedelta(seconds=30)


def after_welcome(planned: list[PlannedReminder], now: dt.datetime) -> list[PlannedReminder]:
    """Reminders already due wait a moment, so the patient's welcome (sent as the reply to the
    update that planned them) always comes first."""
    hold = now + WELCOME_HOLD
    return [
        replace(item, due_at=hold)
        if item.status == "pending" and item.due_at < hold < item.deadline
        else item
        for item in planned
    ]


def plan_companions(
    tx: Transaction,
    plan: ReminderPlan,
    procedure: Procedure,
    settings: ClinicSettings,
    now: dt.datetime,
    *,
    only: int | None = None,
) -> None:
    """Plan the companion's reminders of a procedure for each of its companions (or the one
    with user id `only`), in the procedure's zone; the caller cancelled any earlier ones."""
    chosen = [c.user_id for c in tx.companions.of_procedure(procedure.id) if only in (None, c.user_id)]
    if not chosen or not plan.companion:
        return
    zone = ZoneInfo(procedure.timezone)
    planned = after_welcome(
        plan_reminders(plan.for_companion(), procedure.starts_at, zone, settings, now), now
    )
    for user_id in chosen:
        tx.reminders.add_plan(procedure.id, user_id, planned)


def tell_companions(tx: Transaction, procedure_id: int, message: str, now: dt.datetime) -> None:
    """A notice to each companion of a procedure (moved, cancelled, ready for pick-up)."""
    for companion in tx.companions.of_procedure(procedure_id):
        tx.reminders.add_plan(procedure_id, companion.user_id, [notice(message, now)])


def notice(message: str, now: dt.datetime) -> PlannedReminder:
    """A message to the patient, sent like a reminder so it survives restarts and limits."""
    return PlannedReminder(
        key="notice",
        message=message,
        due_at=now,
        deadline=now + NOTICE_DEADLINE,
        about_at=now,
        moved=False,
        status="pending",
    )


class ProcedureActions:
    """Applies the engine's effects inside the update's transaction."""

    def __init__(self, renderer: Renderer, clinic: ClinicSettings, plan: ReminderPlan) -> None:
        self.renderer = renderer
        self.clinic = clinic
        self.plan = plan

    def schedule(
        self, tx: Transaction, user_id: int, effect: ScheduleProcedure, now: dt.datetime, result: EffectResult
    ) -> None:
        """The patient's own date and time: plan the reminders, in the zone the procedure is in."""
        # Read in the clinic's zone, or the one the patient named when the clinic set none.
        zone = ZoneInfo(effect.zone)
        start = to_utc(effect.local_start, zone)
        planned = after_welcome(plan_reminders(self.plan, start, zone, self.clinic, now), now)
        before = tx.reminders.procedure(user_id)
        procedure_id = tx.reminders.schedule(
            user_id,
            start,
            effect.zone,
            planned,
            source="patient",
            now=now,
            clinic_id=tx.reminders.default_clinic_id(),
        )
        tx.reminders.planned_with(procedure_id, self.clinic)
        if before is not None and before.source == "patient" and tx.companions.move(before.id, procedure_id):
            # A new date for the same treatment: the companions follow it, and are told.
            moved = tx.reminders.procedure_by_id(procedure_id)
            assert moved is not None
            plan_companions(tx, self.plan, moved, self.clinic, now)
            tell_companions(tx, procedure_id, "companion.rescheduled", now)
        result.scheduled = True

    def action(
        self, tx: Transaction, user_id: int, name: str, locale: str, *, now: dt.datetime, result: EffectResult
    ) -> None:
        """A button's action (list, pause, resume, cancel, calendar, pain chart)."""
        settings = tx.reminders.clinic_of(user_id)
        extra = clinic_params(settings) if settings else {}

        def text(text_id: str, code: str) -> str:
            return self.renderer.text(text_id, code, extra)  # in the patient's clinic's numbers

        if name == "pain_chart":
            result.pain = self.pain_points(tx, user_id, locale)
            if not result.pain:
                result.texts.append(text("pain.none", locale))
            return
        procedure = tx.reminders.procedure(user_id)
        if name == "pause_reminders":
            tx.reminders.set_paused(user_id, True)
            result.texts.append(text("proc.paused", locale))
        elif name == "resume_reminders":
            tx.reminders.set_paused(user_id, False)
            result.texts.append(text("proc.resumed", locale))
        elif procedure is None:
            result.texts.append(text("proc.none", locale))
        elif name == "cancel_procedure" and procedure.source == "clinic":
            # The clinic's booking is the clinic's to cancel: stop its reminders, keep the record.
            tx.reminders.cancel_open(procedure.id, "stopped by the patient")
            tell_companions(tx, procedure.id, "companion.cancelled", now)
            result.texts.append(text("proc.cancelled_clinic", locale))
        elif name == "cancel_procedure":
            tx.reminders.cancel(user_id, now=now, source="patient")
            tell_companions(tx, procedure.id, "companion.cancelled", now)
            result.texts.append(text("proc.cancelled", locale))
        elif name == "list_reminders":
            result.texts.append(self.reminder_list(tx, user_id, procedure, locale))
        elif name == "calendar":
            # The procedure's clinic sets the fasting alarm.
            clinic = settings or self.clinic
            result.documents.append(self.calendar(procedure, locale, clinic))

    def pain_points(self, tx: Transaction, user_id: int, locale: str) -> list[PainPoint]:
        """The pain scores of the patient's latest procedure with check-ins, dated in its zone."""
        procedure_id = tx.checkins.latest_procedure(user_id)
        procedure = tx.reminders.procedure_by_id(procedure_id) if procedure_id is not None else None
        if procedure is None:
            return []
        return pain_points(tx.checkins.for_procedure(procedure.id), ZoneInfo(procedure.timezone), locale)

    def reminder_list(self, tx: Transaction, user_id: int, procedure: Procedure, locale: str) -> str:
        """The reminders still to come, in the patient's zone and language."""
        zone = ZoneInfo(procedure.timezone)
        upcoming = tx.reminders.upcoming(user_id)
        if not upcoming:
            return self.renderer.text("proc.list_empty", locale)
        lines = [self.renderer.text("proc.list_header", locale)]
        midnight = self.renderer.text(MIDNIGHT, locale)
        for item in upcoming:
            when = format_datetime(item.due_at.astimezone(zone), "EEE d MMM, HH:mm", locale=locale)
            # What it is about, not only when it comes: "Stop eating from 5:30 AM".
            about = {"about_time": clock_time(item.about_at, zone, locale, midnight)}
            lines.append(
                f"\u2022 {when}: {self.renderer.text(REMINDER_TITLE_PREFIX + item.key, locale, about)}"
            )
        return "\n".join(lines)

    def calendar(self, procedure: Procedure, locale: str, clinic: ClinicSettings) -> Document:
        """An .ics file with the procedure and an alarm at its clinic's fasting cut-off."""
        zone = ZoneInfo(procedure.timezone)
        times = local_times(procedure.starts_at, zone, clinic)
        calendar = Calendar()
        calendar.add("prodid", "-//vertebrobot//EN")
        calendar.add("version", "2.0")
        event = Event()
        event.add("uid", f"procedure-{procedure.id}@vertebrobot")
        event.add("dtstamp", procedure.starts_at)
        event.add("dtstart", procedure.starts_at)  # UTC: every calendar app converts it
        event.add("dtend", procedure.starts_at + dt.timedelta(hours=1))
        event.add("summary", self.renderer.text("proc.calendar_event", locale))
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        stop = {
            "about_time": clock_time(times["food_stop"], zone, locale, self.renderer.text(MIDNIGHT, locale))
        }
        alarm.add("description", self.renderer.text(f"{REMINDER_TITLE_PREFIX}fasting_food", locale, stop))
        alarm.add("trigger", times["food_stop"] - times["procedure"])
        event.add_component(alarm)
        calendar.add_component(event)
        return Document(
            "procedure.ics", calendar.to_ical(), self.renderer.text("proc.calendar_caption", locale)
        )

    def params(
        self, procedure: Procedure | None, locale: str, clinic: ClinicSettings | None = None
    ) -> dict[str, str]:
        """The procedure's times for texts of the procedure flow, in its clinic's numbers."""
        if procedure is None:
            return {}
        midnight = self.renderer.text(MIDNIGHT, locale)
        zone = ZoneInfo(procedure.timezone)
        return time_params(procedure.starts_at, zone, clinic or self.clinic, locale, midnight=midnight)
