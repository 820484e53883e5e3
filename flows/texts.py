"""The text and label ids the code shows, beside those the YAML flows name.

The content check (flows/check.py) makes sure every locale has each of them, and names the
line here when one is missing. Group by who shows them: the engine, the service around it, the
check-ins, the command menu.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

# Text ids the engine itself uses; the content check makes sure every locale has them.
ENGINE_TEXTS = (
    "bot.welcome",
    "bot.help",
    "bot.unknown_text",
    "bot.non_text",
    "bot.stale_button",
    "bot.unknown_command",
    "cand.result.fits",
    "cand.result.check",
    "cand.result.ask",
    "cand.result.urgent",
    "cand.result.nothing",
    "cand.result.service",
    "proc.unclear_date",
    "proc.unclear_time",
    "proc.date_past",
    "proc.time_past",
    "proc.no_timezone",
    "proc.unclear_zone",
    "proc.time_gap",
    "red.ask_one",
    "red.ask_any",
    "red.none",
    "forget.confirm",
    "forget.kept",
    "forget.done",
    "forget.stale",
)
# Texts and labels the bot's service shows (reminder lists, pausing, the calendar file...).
SERVICE_TEXTS = (
    "proc.none",
    "proc.list_header",
    "proc.list_empty",
    "proc.paused",
    "proc.resumed",
    "proc.stopped_while_blocked",
    "proc.cancelled",
    "proc.cancelled_clinic",
    "proc.calendar_caption",
    "proc.calendar_event",
    "rem.acknowledged",
    "time.midnight",
    "lang.choose",
    "lang.changed",
    "bot.slow_down",
    "default.clinic_name",
    "default.clinic_phone",
    "fasting.intro.clinic",
    "fasting.intro.usual",
    "fasting.outro.clinic",
    "fasting.outro.usual",
    "invite.welcome",
    "invite.used",
    "invite.expired",
    "invite.unknown",
    "invite.throttled",
    "clinic.rescheduled",
    "clinic.cancelled",
    "clinic.times_changed",
    "rem.late",
    "pain.none",
    "pain.chart_title",
    "pain.chart_caption",
    "mydata.title",
    "mydata.language",
    "mydata.procedures",
    "mydata.proc.scheduled",
    "mydata.proc.cancelled",
    "mydata.source.patient",
    "mydata.source.clinic",
    "mydata.answers",
    "mydata.ticks",
    "mydata.reminders",
    "mydata.status.pending",
    "mydata.status.sending",
    "mydata.status.sent",
    "mydata.status.skipped",
    "mydata.status.failed",
    "mydata.status.cancelled",
    "mydata.acknowledged",
    "mydata.checkins",
    "mydata.pain",
    "mydata.no_signs",
    "mydata.comment",
    "mydata.signs",
    "mydata.paused",
    "mydata.footer",
    "mydata.file_caption",
)
# What check-ins say and show: needed when the reminder plan has a check-in.
CHECKIN_TEXTS = (
    "checkin.pain_question",
    "checkin.pain_saved",
    "checkin.screen",
    "checkin.which",
    "checkin.comment_prompt",
    "checkin.comment_saved",
    "checkin.thanks",
)
CHECKIN_LABELS = ("checkin.yes", "checkin.no", "checkin.skip")
# What the patient and their companions read about the companion link: needed when the reminder
# plan has companion reminders.
COMPANION_TEXTS = (
    "companion.link",
    "companion.no_procedure",
    "companion.full",
    "companion.none",
    "companion.list",
    "companion.removed",
    "companion.removed_you",
    "companion.left",
    "companion.left_patient",
    "companion.gone",
    "companion.used",
    "companion.expired",
    "companion.room",
    "companion.own",
    "companion.already",
    "companion.welcome",
    "companion.rescheduled",
    "companion.cancelled",
    "companion.pickup",
    "companion.past",
    "mydata.companions",
    "mydata.companion_of",
)
COMPANION_LABELS = ("companion.btn.remove", "companion.btn.leave")
# Service texts that show a procedure's date and times.
DATED_SERVICE_TEXTS = (
    "invite.welcome",
    "clinic.rescheduled",
    "clinic.cancelled",
    "clinic.times_changed",
    "rem.late",
    "companion.welcome",
    "companion.rescheduled",
    "companion.cancelled",
    "companion.pickup",
)
# Labels the bot's service shows: the command menu (per language) and each language's own name.
SERVICE_LABELS = (
    "sign.no",
    "cmd.pain",
    "cmd.start",
    "cmd.menu",
    "cmd.reminders",
    "cmd.language",
    "cmd.help",
    "cmd.mydata",
    "cmd.forget",
    "forget.btn.delete",
    "forget.btn.keep",
    "lang.name",
)
REMINDER_TITLE_PREFIX = "rem.title."  # + a plan entry's id: its name in the patient's list


@cache
def _lines() -> dict[str, int]:
    found: dict[str, int] = {}
    for number, line in enumerate(Path(__file__).read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if text.startswith('"') and text.endswith('",'):
            found.setdefault(text[1:-2], number)
    return found


def line_of(text_id: str) -> int:
    """The line of this file that names a text or label id (1 when it is not listed here)."""
    return _lines().get(text_id, 1)
