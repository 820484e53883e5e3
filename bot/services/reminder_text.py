"""Reminder messages in the patient's language and time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from bot.db.reminder_repo import ClaimedReminder
from flows.callbacks import ack_data, checkin_data
from flows.models import ClinicSettings
from flows.planning import ACK_LABEL, CHECKIN_QUESTION, local_times
from flows.render import RenderedButton, RenderedMessage, Renderer, clinic_params

MIDNIGHT = "time.midnight"
LATE = "rem.late"  # said first when a reminder goes out after the moment it is about
LATE_AFTER = dt.timedelta(minutes=5)  # the word a clock time of 00:00 is written as
PAIN_SCORES = range(11)


def clock_time(moment: dt.datetime, zone: ZoneInfo, locale: str, midnight: str = "") -> str:
    """A clock time the way the patient's language writes it, in their zone; 00:00 as the
    language's word for midnight ("12:00 AM" is read as noon by many)."""
    local = moment.astimezone(zone)
    if midnight and (local.hour, local.minute) == (0, 0):
        return midnight
    return format_time(local, "short", locale=locale)


def time_params(
    starts_at: dt.datetime,
    zone: ZoneInfo,
    clinic: ClinicSettings,
    locale: str,
    about_at: dt.datetime | None = None,
    *,
    midnight: str = "",
) -> dict[str, str]:
    """The time placeholders of reminder texts, filled in."""
    times = local_times(starts_at, zone, clinic)
    params = {
        "procedure_date": format_date(times["procedure"], "full", locale=locale),
        "procedure_time": clock_time(times["procedure"], zone, locale, midnight),
        "food_stop_time": clock_time(times["food_stop"], zone, locale, midnight),
        "fluid_stop_time": clock_time(times["fluid_stop"], zone, locale, midnight),
        "arrive_time": clock_time(times["arrive"], zone, locale, midnight),
        "leave_time": clock_time(times["leave"], zone, locale, midnight),
    }
    if about_at is not None:
        params["about_time"] = clock_time(about_at, zone, locale, midnight)
    return params


def render_reminder(
    renderer: Renderer, clinic: ClinicSettings, reminder: ClaimedReminder, now: dt.datetime | None = None
) -> RenderedMessage:
    """The message for a claimed reminder, in its clinic's numbers and the times it was planned with.

    Under it a "Got it" button, or for a check-in the pain question and buttons 0 to 10. Sent
    after the moment it is about (a late invite, a restart), it first says that moment has passed.
    """
    clinic = reminder.clinic_settings or clinic
    planned = reminder.planned_with or clinic
    zone = ZoneInfo(reminder.timezone)
    locale = renderer.locale(reminder.locale).code
    midnight = renderer.text(MIDNIGHT, locale)
    params = clinic_params(clinic) | time_params(
        reminder.starts_at, zone, planned, locale, reminder.about_at, midnight=midnight
    )
    text = renderer.text(reminder.message, locale, params)
    if now is not None and reminder.key != "notice" and now - reminder.about_at > LATE_AFTER:
        text = f"{renderer.text(LATE, locale, params)}\n\n{text}"
    if reminder.key in renderer.content.plan.checkin_keys:
        question = renderer.text(CHECKIN_QUESTION, locale, params)
        scores = tuple(
            RenderedButton(str(score), checkin_data(reminder.id, f"p{score}"), compact=True)
            for score in PAIN_SCORES
        )
        return RenderedMessage(f"{text}\n\n{question}", scores)
    return RenderedMessage(text, (RenderedButton(renderer.text(ACK_LABEL, locale), ack_data(reminder.id)),))
