"""Reminder plans: the YAML model, and the pure rules that turn a procedure time into due times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from flows.models import ClinicSettings, Reviewed, TextId

PLAN_FILE = "reminders.yaml"
ACK_LABEL = "rem.got_it"
"""Label of the button under every reminder; the bot records the press as read."""
CHECKIN_QUESTION = "checkin.pain_question"
"""Added under a check-in's message, above the 0-10 buttons that replace "Got it"."""

REMINDER_PARAMS = frozenset(
    {
        "procedure_date",
        "procedure_time",
        "food_stop_time",
        "fluid_stop_time",
        "arrive_time",
        "leave_time",
        "about_time",
    }
)
"""Placeholders the bot fills at send time, allowed only in reminder messages."""

ReminderId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
# A quoted "HH:MM": unquoted, YAML 1.1 reads 18:00 as the number 1080.
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
HoursField = Literal["fasting_food_hours", "fasting_fluid_hours"]
MinutesField = Literal["arrival_minutes_before", "travel_minutes"]
Status = Literal["pending", "skipped"]

_WAYS = ("days_before", "days_after", "hours_before_from", "minutes_before_from")


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class ReminderTime(_Strict):
    """When a reminder is due: exactly one of the four ways."""

    days_before: Annotated[int, Field(ge=0, le=60)] | None = Field(
        default=None, description="Calendar days before the procedure's local date, at `local_time`."
    )
    days_after: Annotated[int, Field(ge=0, le=366)] | None = Field(
        default=None,
        description="Calendar days after the procedure's local date, at `local_time` (0: the evening "
        "of the day itself; not sent when the procedure starts later than that).",
    )
    local_time: LocalTime | None = Field(default=None, description='Local clock time, quoted: "18:00".')
    hours_before_from: HoursField | None = Field(
        default=None, description="That many hours before the start (a clinic setting)."
    )
    minutes_before_from: list[MinutesField] | None = Field(
        default=None,
        min_length=1,
        description="The sum of these clinic settings, in minutes before the start.",
    )

    @model_validator(mode="after")
    def _one_way(self) -> ReminderTime:
        given = [way for way in _WAYS if getattr(self, way) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of " + ", ".join(_WAYS))
        if (given[0] in _WAYS[:2]) != (self.local_time is not None):
            raise ValueError("`local_time` goes with `days_before` or `days_after`, and only with them")
        return self


class HoursAfterDue(_Strict):
    """How late a reminder may still go out."""

    hours_after_due: Annotated[float, Field(gt=0, le=336)]


class ReminderSpec(_Strict):
    """One reminder of the plan: what it says, when, and until when it is still worth sending."""

    id: ReminderId
    message: TextId = Field(description="Id of a sourced text in every locale.")
    message_if_same_cutoff: TextId | None = Field(
        default=None,
        description="Said instead of `message` when the clinic stops food and clear drinks at the same time.",
    )
    at: ReminderTime
    deadline: Literal["start"] | HoursAfterDue = Field(
        description="`start`: never at or after the procedure start; or how many hours late it may go "
        "(still never past the start when the reminder is about a moment before it).",
    )
    quiet_hours: Literal["move", "keep"] = Field(
        default="move",
        description="`move`: due in the clinic's quiet hours, it goes at the evening time before.",
    )
    only_if: Literal["separate_fluid_cutoff"] | None = Field(
        default=None, description="Planned only when the clinic's food and clear-drink cut-offs differ."
    )
    checkin: bool = Field(
        default=False,
        description="A check-in after the procedure: the message asks for a pain score 0-10 (buttons), "
        "then a yes/no warning-sign screen and an optional comment.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ReminderSpec:
        if self.checkin and self.at.days_after is None:
            raise ValueError("a check-in (`checkin: true`) comes after the procedure: use `days_after`")
        if self.deadline == "start" and self.at.days_after is not None:
            raise ValueError("a reminder after the procedure cannot have `deadline: start`")
        if self.only_if == "separate_fluid_cutoff" and self.message_if_same_cutoff is not None:
            raise ValueError("`message_if_same_cutoff` is never used with `only_if: separate_fluid_cutoff`")
        return self


class ReminderPlan(Reviewed, _Strict):
    """The reminders every procedure gets."""

    version: Literal[1]
    reminders: list[ReminderSpec]
    pain_sign: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")] = Field(
        default="back_pain",
        description="The warning sign whose guidance a check-in's severe or worsening pain gets.",
    )
    companion: list[ReminderSpec] = Field(
        default_factory=list,
        description="The reminders of each companion the patient invited (the person who drives them "
        "home), in the companion's language; no check-ins.",
    )

    @model_validator(mode="after")
    def _companion_plan(self) -> ReminderPlan:
        if any(spec.checkin for spec in self.companion):
            raise ValueError("a companion's reminder is never a check-in")
        return self

    def for_companion(self) -> ReminderPlan:
        """The companion's reminders as a plan of their own."""
        return ReminderPlan(version=1, reminders=list(self.companion), pain_sign=self.pain_sign)

    def entries(self) -> list[tuple[str, int, ReminderSpec]]:
        """Every entry with where it is: (`reminders` or `companion`, its index, the entry)."""
        return [("reminders", i, spec) for i, spec in enumerate(self.reminders)] + [
            ("companion", i, spec) for i, spec in enumerate(self.companion)
        ]

    @property
    def checkin_keys(self) -> frozenset[str]:
        """The ids of the plan's check-ins."""
        return frozenset(spec.id for spec in self.reminders if spec.checkin)


EMPTY_PLAN = ReminderPlan(version=1, reminders=[])


@dataclass(frozen=True)
class PlannedReminder:
    """One reminder of one procedure: a row for the store."""

    key: str
    message: str
    due_at: dt.datetime
    deadline: dt.datetime
    about_at: dt.datetime
    moved: bool
    status: Status


def local_times(start: dt.datetime, zone: ZoneInfo, clinic: ClinicSettings) -> dict[str, dt.datetime]:
    """The local moments the texts name: procedure, food_stop, fluid_stop, arrive, leave."""
    _require_aware(start, "start")
    # In UTC, because subtracting from a zoned datetime moves the wall clock, not real time.
    start = start.astimezone(dt.UTC)
    arrive = start - dt.timedelta(minutes=clinic.arrival_minutes_before)
    moments = {
        "procedure": start,
        "food_stop": start - dt.timedelta(hours=clinic.fasting_food_hours),
        "fluid_stop": start - dt.timedelta(hours=clinic.fasting_fluid_hours),
        "arrive": arrive,
        "leave": arrive - dt.timedelta(minutes=clinic.travel_minutes),
    }
    return {name: moment.astimezone(zone) for name, moment in moments.items()}


def plan_reminders(
    plan: ReminderPlan, start: dt.datetime, zone: ZoneInfo, clinic: ClinicSettings, now: dt.datetime
) -> list[PlannedReminder]:
    """The reminders of a procedure starting at `start`, planned at `now`, sorted by due time (UTC).

    Day-based times are local clock times in `zone`: one that a spring-forward skips
    moves on by the length of the gap (03:30 becomes 04:30); one that a fall-back
    repeats takes its first occurrence. Hour and minute offsets are absolute
    durations. A reminder due in quiet hours goes at the evening time before it
    (`moved`); one already due goes now while its message still holds; one past
    its deadline (never past the start for one about a moment before it) comes back
    `skipped` so the caller can record it. The function is
    pure: to reschedule, plan again for the new start and replace the pending rows;
    to cancel, the caller discards the pending rows.
    """
    _require_aware(start, "start")
    _require_aware(now, "now")
    start, now = start.astimezone(dt.UTC), now.astimezone(dt.UTC)
    separate = clinic.fasting_fluid_hours != clinic.fasting_food_hours
    planned = []
    for spec in plan.reminders:
        if spec.only_if == "separate_fluid_cutoff" and not separate:
            continue
        message = spec.message
        if spec.message_if_same_cutoff is not None and not separate:
            message = spec.message_if_same_cutoff
        planned.append(_plan_one(spec, message, start=start, zone=zone, clinic=clinic, now=now))
    return sorted(planned, key=lambda reminder: reminder.due_at)


def _plan_one(
    spec: ReminderSpec,
    message: str,
    *,
    start: dt.datetime,
    zone: ZoneInfo,
    clinic: ClinicSettings,
    now: dt.datetime,
) -> PlannedReminder:
    about = _about(spec.at, start, zone, clinic)
    if spec.deadline == "start":
        deadline = start
    else:
        deadline = about + dt.timedelta(hours=spec.deadline.hours_after_due)
        if about < start:
            # Words about getting ready are wrong once the procedure has begun.
            deadline = min(deadline, start)
    if spec.at.days_after is not None and about <= start:
        deadline = about  # "this evening, after the treatment" before it has even begun: not sent
    due, moved = about, False
    if spec.quiet_hours == "move" and _is_quiet(about.astimezone(zone).time(), clinic):
        due, moved = _evening_before(about, zone, clinic), True
    if moved and due < now and now >= about:
        # Past the moment itself it is no longer early, just late.
        due, moved = about, False
    if due < now < deadline:
        due = now
    status: Status = "pending" if now <= due < deadline else "skipped"
    return PlannedReminder(spec.id, message, due, deadline, about, moved, status)


def _about(at: ReminderTime, start: dt.datetime, zone: ZoneInfo, clinic: ClinicSettings) -> dt.datetime:
    """The UTC moment a reminder is about, before any quiet-hours move."""
    if at.local_time is not None:
        days = at.days_after if at.days_after is not None else -(at.days_before or 0)
        day = start.astimezone(zone).date() + dt.timedelta(days=days)
        return _wall(day, dt.time.fromisoformat(at.local_time), zone)
    if at.hours_before_from is not None:
        return start - dt.timedelta(hours=float(getattr(clinic, at.hours_before_from)))
    minutes = sum(int(getattr(clinic, name)) for name in at.minutes_before_from or ())
    return start - dt.timedelta(minutes=minutes)


def _wall(day: dt.date, clock: dt.time, zone: ZoneInfo) -> dt.datetime:
    """A local clock time on a local day, as UTC."""
    # fold=0 takes the first of two repeated times, and gives a skipped time the offset
    # from before the change, which lands it past the gap.
    local = dt.datetime.combine(day, _naive(clock)).replace(tzinfo=zone, fold=0)
    return local.astimezone(dt.UTC)


def _is_quiet(clock: dt.time, clinic: ClinicSettings) -> bool:
    """Whether a local clock time is in the clinic's quiet hours [quiet_start, quiet_end)."""
    begin, end = _naive(clinic.quiet_start), _naive(clinic.quiet_end)
    if begin <= end:
        return begin <= clock < end
    return clock >= begin or clock < end  # the night wraps past midnight


def _evening_before(moment: dt.datetime, zone: ZoneInfo, clinic: ClinicSettings) -> dt.datetime:
    """The latest local evening time at or before a moment, as UTC."""
    day = moment.astimezone(zone).date()
    evening = _wall(day, clinic.evening_time, zone)
    if evening > moment:
        evening = _wall(day - dt.timedelta(days=1), clinic.evening_time, zone)
    return evening


def _naive(clock: dt.time) -> dt.time:
    # Clock times are the patient's local ones; an offset written in a clinic file means nothing here.
    return clock.replace(tzinfo=None, fold=0)


def _require_aware(moment: dt.datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


__all__ = [
    "ACK_LABEL",
    "EMPTY_PLAN",
    "PLAN_FILE",
    "REMINDER_PARAMS",
    "HoursAfterDue",
    "PlannedReminder",
    "ReminderPlan",
    "ReminderSpec",
    "ReminderTime",
    "local_times",
    "plan_reminders",
]
