"""What goes into the engine (a session and an event) and what comes out (an outcome: replies in
text ids, and effects for the service to carry out in the update's transaction).

Effects are plain records: the engine decides, the service's appliers (bot/services/effects.py) write.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from flows.replies import Reply

EventKind = Literal["command", "button", "text", "other"]


@dataclass
class Session:
    """Where one user is: flow, state and answers. A plain record, no machine of its own."""

    flow: str
    state: str
    answers: dict[str, Any] = field(default_factory=dict)

    def flow_answers(self) -> dict[str, Any]:
        """The answers given in the current flow."""
        return self.answers.setdefault(self.flow, {})  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CheckinTarget:
    """A sent check-in reminder of the patient's own, which a press or a comment is about."""

    reminder_id: int
    procedure_id: int
    key: str
    due_at: dt.datetime


@dataclass(frozen=True)
class CheckinContext:
    """What the service loaded for a check-in press or comment: the check-in, the score before,
    and the alert rule of the patient's clinic."""

    target: CheckinTarget
    previous_pain: int | None
    severe_from: int
    rise_alert: int


@dataclass(frozen=True)
class Event:
    """What the user did, free of any Telegram types, and what the service loaded for it."""

    kind: EventKind
    payload: str = ""
    local_now: dt.datetime | None = None
    argument: str = ""  # after a command: /start <invite token>
    # Whether the patient's procedure has happened: before it, severe back pain is why they
    # are here, so it is asked about rather than alarmed. None: no procedure known.
    after_procedure: bool | None = None
    # The moment itself (aware, UTC): dates are read in the zone the patient chose, when they chose.
    now: dt.datetime | None = None
    # The time zone of the clinic running the bot; empty: the patient is asked where their
    # procedure is (a wrong zone would send "stop eating" at the wrong hour).
    zone: str = ""
    # The zones of the clinics the bot knows, offered as buttons when the patient is asked.
    zones: tuple[str, ...] = ()
    # A check-in press, or a comment awaited: the patient's own check-in (None: not theirs, or gone).
    checkin: CheckinContext | None = None


# ----------------------------------------------------------------------------------- effects


@dataclass(frozen=True)
class ScheduleProcedure:
    """The patient gave their procedure's local date and time, and the zone they are in."""

    local_start: dt.datetime
    zone: str


@dataclass(frozen=True)
class DoAction:
    """A button asked for something besides moving on (list, pause, cancel, calendar, chart)."""

    name: str


@dataclass(frozen=True)
class ReportSign:
    """A warning sign the patient reported: recorded, and the clinic's staff alerted."""

    sign: str
    note: str = ""  # said in the staff alert: where it came from ("at the day_after check-in")
    procedure_id: int | None = None  # None: the patient's current procedure


@dataclass(frozen=True)
class RecordPain:
    """A check-in's pain score (0-10); the check-in reminder counts as read."""

    target: CheckinTarget
    pain: int


@dataclass(frozen=True)
class RecordSign:
    """A check-in's warning-sign screen: the sign tapped, or None for "none of these"."""

    target: CheckinTarget
    sign: str | None


@dataclass(frozen=True)
class StoreComment:
    """A comment for the clinic, under the check-in it answers."""

    target: CheckinTarget
    text: str


@dataclass(frozen=True)
class Acknowledge:
    """ "Got it" under a reminder: recorded for the patient's own reminders only."""

    reminder_id: int


@dataclass(frozen=True)
class SetLanguage:
    """The patient chose the language the bot writes in."""

    code: str


@dataclass(frozen=True)
class RedeemInvite:
    """/start with a clinic's invite: link the patient to the procedure it was made for."""

    token: str


@dataclass(frozen=True)
class EndCompanion:
    """A companion link ends: the patient removed them, or the companion left; both are told."""

    companion: int
    leave: bool


@dataclass(frozen=True)
class ExportData:
    """/mydata: everything kept about the patient, as a message and a file."""


@dataclass(frozen=True)
class ForgetPatient:
    """The patient confirmed /forget: everything tied to their Telegram id goes, at once."""


Effect = (
    ScheduleProcedure
    | DoAction
    | ReportSign
    | RecordPain
    | RecordSign
    | StoreComment
    | Acknowledge
    | SetLanguage
    | RedeemInvite
    | EndCompanion
    | ExportData
    | ForgetPatient
)


@dataclass(frozen=True)
class Outcome:
    """What handling one event produced: the replies, a toast, a warning sign seen, effects."""

    replies: tuple[Reply, ...]
    notice: str | None = None
    warning_sign: str | None = None
    changed: bool = True
    effects: tuple[Effect, ...] = ()
    clear_buttons: bool = False  # the pressed message's buttons are taken away (answered)


STALE = "bot.stale_button"


def stale() -> Outcome:
    """A press of a button that no longer means anything: a toast, nothing changes."""
    return Outcome((), notice=STALE, changed=False)
