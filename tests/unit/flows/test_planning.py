"""Reminder planning: exact UTC due times across zones, DST, quiet hours and late bookings."""

from __future__ import annotations

import datetime as dt
import itertools
import typing
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from pydantic import ValidationError

from flows.check import read_content
from flows.content import Content
from flows.models import ClinicSettings
from flows.planning import (
    ACK_LABEL,
    HoursField,
    MinutesField,
    PlannedReminder,
    ReminderPlan,
    ReminderSpec,
    local_times,
    plan_reminders,
)

ISTANBUL = ZoneInfo("Europe/Istanbul")
SOFIA = ZoneInfo("Europe/Sofia")
NEW_YORK = ZoneInfo("America/New_York")
LONG_BEFORE = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)

# The rules are tested on this plan, so that editing the shipped plan's clock times does
# not change what these tests mean; the shipped plan has tests of its own below.
TEST_PLAN = ReminderPlan.model_validate(
    yaml.safe_load(
        """
version: 1
reminders:
  - {id: week_before, message: rem.week_before, at: {days_before: 7, local_time: "10:00"},
     deadline: {hours_after_due: 120}}
  - {id: evening_before, message: rem.evening_before, at: {days_before: 1, local_time: "18:00"},
     deadline: {hours_after_due: 3}}
  - {id: fasting_food, message: rem.fasting_food, message_if_same_cutoff: rem.fasting_all,
     at: {hours_before_from: fasting_food_hours}, deadline: start}
  - {id: fasting_fluid, message: rem.fasting_fluid, only_if: separate_fluid_cutoff,
     at: {hours_before_from: fasting_fluid_hours}, deadline: start}
  - {id: leave_home, message: rem.leave_home, quiet_hours: keep,
     at: {minutes_before_from: [arrival_minutes_before, travel_minutes]},
     deadline: {hours_after_due: 0.5}}
  - {id: day_after, message: rem.day_after, at: {days_after: 1, local_time: "10:00"},
     deadline: {hours_after_due: 10}}
  - {id: week_after, message: rem.week_after, at: {days_after: 7, local_time: "10:00"},
     deadline: {hours_after_due: 10}}
"""
    )
)


def clinic(food: float = 4, fluid: float = 4) -> ClinicSettings:
    """The default clinic numbers: arrive 60 min early, 60 min travel, quiet 21-08, evening 20:00."""
    return ClinicSettings(
        phone="0", emergency_number="112", fasting_food_hours=food, fasting_fluid_hours=fluid
    )


def utc(month: int, day: int, hour: int, minute: int = 0, year: int = 2027) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def at(zone: ZoneInfo, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2027, month, day, hour, minute, tzinfo=zone)


def by_key(reminders: list[PlannedReminder]) -> dict[str, PlannedReminder]:
    return {r.key: r for r in reminders}


def due_times(reminders: list[PlannedReminder]) -> dict[str, dt.datetime]:
    return {r.key: r.due_at for r in reminders}


# (zone, procedure start in local time, expected due times in UTC)
DUE_TABLE = {
    "Istanbul, no DST": (
        at(ISTANBUL, 3, 10, 9),
        {
            "week_before": utc(3, 3, 7),
            "evening_before": utc(3, 9, 15),
            "fasting_food": utc(3, 9, 17),  # 05:00 is in the night: 20:00 the evening before
            "leave_home": utc(3, 10, 4),  # 07:00 local: kept, early mornings are normal on the day
            "day_after": utc(3, 11, 7),
            "week_after": utc(3, 17, 7),
        },
    ),
    "Sofia, procedure on the spring-forward day": (
        at(SOFIA, 3, 28, 10),  # EEST, +03:00
        {
            "week_before": utc(3, 21, 8),  # 10:00 EET, +02:00
            "evening_before": utc(3, 27, 16),  # 18:00 EET
            "fasting_food": utc(3, 27, 18),  # 20:00 EET
            "leave_home": utc(3, 28, 5),
            "day_after": utc(3, 29, 7),  # 10:00 EEST
            "week_after": utc(4, 4, 7),
        },
    ),
    "Sofia, procedure the day after spring-forward": (
        at(SOFIA, 3, 29, 9),
        {
            "week_before": utc(3, 22, 8),  # 10:00 EET
            "evening_before": utc(3, 28, 15),  # 18:00 EEST on the change day
            "fasting_food": utc(3, 28, 17),  # 20:00 EEST on the change day
            "leave_home": utc(3, 29, 4),
            "day_after": utc(3, 30, 7),
            "week_after": utc(4, 5, 7),
        },
    ),
    "Sofia, procedure on the fall-back day": (
        at(SOFIA, 10, 31, 10),  # EET, +02:00
        {
            "week_before": utc(10, 24, 7),  # 10:00 EEST, +03:00
            "evening_before": utc(10, 30, 15),  # 18:00 EEST
            "fasting_food": utc(10, 30, 17),  # 20:00 EEST
            "leave_home": utc(10, 31, 6),
            "day_after": utc(11, 1, 8),  # 10:00 EET
            "week_after": utc(11, 7, 8),
        },
    ),
    "Sofia, procedure the day after fall-back": (
        at(SOFIA, 11, 1, 9),
        {
            "week_before": utc(10, 25, 7),  # 10:00 EEST, still summer time
            "evening_before": utc(10, 31, 16),  # 18:00 EET on the change day
            "fasting_food": utc(10, 31, 18),  # 20:00 EET on the change day
            "leave_home": utc(11, 1, 5),
            "day_after": utc(11, 2, 8),
            "week_after": utc(11, 8, 8),
        },
    ),
    "New York, week_before in EST, the rest in EDT": (
        at(NEW_YORK, 3, 15, 9),  # EDT, -04:00; DST began on 14 March
        {
            "week_before": utc(3, 8, 15),  # 10:00 EST, -05:00
            "evening_before": utc(3, 14, 22),  # 18:00 EDT
            "fasting_food": utc(3, 15, 0),  # 20:00 EDT on the 14th
            "leave_home": utc(3, 15, 11),
            "day_after": utc(3, 16, 14),
            "week_after": utc(3, 22, 14),
        },
    ),
}


@pytest.mark.parametrize(("start", "expected"), DUE_TABLE.values(), ids=DUE_TABLE.keys())
def test_due_times_are_local_clock_times_in_utc(start: dt.datetime, expected: dict[str, dt.datetime]) -> None:
    planned = plan_reminders(TEST_PLAN, start, typing.cast(ZoneInfo, start.tzinfo), clinic(), LONG_BEFORE)
    assert due_times(planned) == expected
    assert [r.due_at for r in planned] == sorted(expected.values())
    assert {r.status for r in planned} == {"pending"}
    assert all(r.due_at.tzinfo is dt.UTC for r in planned)


def night_plan(days_before: int, clock: str) -> ReminderPlan:
    """One reminder at a night-time clock time, kept there."""
    at = {"days_before": days_before, "local_time": clock}
    entry = {"id": "night", "message": "rem.x", "at": at, "deadline": "start", "quiet_hours": "keep"}
    return ReminderPlan.model_validate({"version": 1, "reminders": [entry]})


@pytest.mark.parametrize(
    ("start", "days_before", "clock", "expected"),
    [
        # 03:30 does not exist on 28 March (03:00 -> 04:00): it goes past the gap, to 04:30 EEST.
        (at(SOFIA, 3, 28, 10), 0, "03:30", utc(3, 28, 1, 30)),
        (at(SOFIA, 3, 29, 10), 1, "03:30", utc(3, 28, 1, 30)),
        (at(SOFIA, 3, 28, 10), 0, "02:59", utc(3, 28, 0, 59)),  # just before the gap: EET
        # 03:30 happens twice on 31 October: the first one, still EEST.
        (at(SOFIA, 10, 31, 10), 0, "03:30", utc(10, 31, 0, 30)),
        (at(SOFIA, 11, 1, 10), 1, "03:30", utc(10, 31, 0, 30)),
        (at(SOFIA, 10, 31, 10), 0, "04:00", utc(10, 31, 2)),  # after the repeat: EET
        # New York changes at 02:00: 02:30 is skipped on 14 March, 01:30 repeated on 7 November.
        (at(NEW_YORK, 3, 14, 10), 0, "02:30", utc(3, 14, 7, 30)),  # 03:30 EDT
        (at(NEW_YORK, 11, 7, 10), 0, "01:30", utc(11, 7, 5, 30)),  # the first 01:30, EDT
    ],
)
def test_skipped_and_repeated_clock_times(
    start: dt.datetime, days_before: int, clock: str, expected: dt.datetime
) -> None:
    zone = typing.cast(ZoneInfo, start.tzinfo)
    (planned,) = plan_reminders(night_plan(days_before, clock), start, zone, clinic(), LONG_BEFORE)
    assert (planned.due_at, planned.moved, planned.status) == (expected, False, "pending")


@pytest.mark.parametrize(
    ("start", "food_hours", "food_stop"),
    [
        # Six real hours before 08:00 EEST on the spring-forward day is 01:00 EET: seven on the clock.
        (at(SOFIA, 3, 28, 8), 6, "2027-03-28T01:00:00+02:00"),
        # Four real hours before 06:00 EET on the fall-back day is the first 03:00 (EEST).
        (at(SOFIA, 10, 31, 6), 4, "2027-10-31T03:00:00+03:00"),
        (at(ISTANBUL, 3, 10, 9), 4, "2027-03-10T05:00:00+03:00"),
    ],
)
def test_hour_offsets_are_real_durations_across_dst(
    start: dt.datetime, food_hours: float, food_stop: str
) -> None:
    times = local_times(start, typing.cast(ZoneInfo, start.tzinfo), clinic(food=food_hours, fluid=2))
    assert times["food_stop"].isoformat() == food_stop
    assert times["food_stop"].utcoffset() == dt.datetime.fromisoformat(food_stop).utcoffset()


def test_local_times_name_every_moment_the_texts_use() -> None:
    times = local_times(at(ISTANBUL, 3, 10, 9).astimezone(dt.UTC), ISTANBUL, clinic(food=6, fluid=2))
    assert {name: t.strftime("%d %H:%M %z") for name, t in times.items()} == {
        "procedure": "10 09:00 +0300",
        "food_stop": "10 03:00 +0300",
        "fluid_stop": "10 07:00 +0300",
        "arrive": "10 08:00 +0300",
        "leave": "10 07:00 +0300",
    }


def test_night_time_cut_off_goes_the_evening_before() -> None:
    start = at(ISTANBUL, 3, 10, 8)
    fasting = by_key(plan_reminders(TEST_PLAN, start, ISTANBUL, clinic(), LONG_BEFORE))["fasting_food"]
    assert fasting == PlannedReminder(
        key="fasting_food",
        message="rem.fasting_all",
        due_at=utc(3, 9, 17),  # 20:00 the evening before
        deadline=utc(3, 10, 5),  # the procedure start
        about_at=utc(3, 10, 1),  # 04:00 local
        moved=True,
        status="pending",
    )


def test_booked_less_than_four_hours_ahead_sends_fasting_at_once() -> None:
    now = at(ISTANBUL, 3, 10, 10)
    planned = plan_reminders(TEST_PLAN, at(ISTANBUL, 3, 10, 13), ISTANBUL, clinic(), now)
    assert [(r.key, r.due_at, r.status) for r in planned] == [
        ("week_before", utc(3, 3, 7), "skipped"),
        ("evening_before", utc(3, 9, 15), "skipped"),
        ("fasting_food", utc(3, 10, 7), "pending"),  # now
        ("leave_home", utc(3, 10, 8), "pending"),
        ("day_after", utc(3, 11, 7), "pending"),
        ("week_after", utc(3, 17, 7), "pending"),
    ]


@pytest.mark.parametrize(
    ("now_local", "due", "moved", "status"),
    [
        (at(ISTANBUL, 3, 9, 19), utc(3, 9, 17), True, "pending"),  # before the evening time
        (at(ISTANBUL, 3, 9, 22), utc(3, 9, 19), True, "pending"),  # evening time passed: now
        (at(ISTANBUL, 3, 10, 5), utc(3, 10, 2), False, "pending"),  # cut-off passed: now, late
        (at(ISTANBUL, 3, 10, 8), utc(3, 10, 1), False, "skipped"),  # the procedure has started
    ],
    ids=["on time", "evening passed", "cut-off passed", "started"],
)
def test_moved_reminder_planned_late(
    now_local: dt.datetime, due: dt.datetime, moved: bool, status: str
) -> None:
    start = at(ISTANBUL, 3, 10, 8)
    fasting = by_key(plan_reminders(TEST_PLAN, start, ISTANBUL, clinic(), now_local))["fasting_food"]
    assert (fasting.due_at, fasting.about_at, fasting.moved, fasting.status) == (
        due,
        utc(3, 10, 1),
        moved,
        status,
    )


def test_late_follow_up_goes_within_its_tolerance_only() -> None:
    start = at(ISTANBUL, 3, 10, 9)
    within = by_key(plan_reminders(TEST_PLAN, start, ISTANBUL, clinic(), at(ISTANBUL, 3, 11, 19)))
    after = by_key(plan_reminders(TEST_PLAN, start, ISTANBUL, clinic(), at(ISTANBUL, 3, 11, 20)))
    assert (within["day_after"].due_at, within["day_after"].status) == (utc(3, 11, 16), "pending")
    assert (after["day_after"].due_at, after["day_after"].status) == (utc(3, 11, 7), "skipped")
    assert after["day_after"].deadline == utc(3, 11, 17)


@pytest.mark.parametrize(
    ("food", "fluid", "expected"),
    [
        (
            6,
            2,
            [
                ("fasting_food", "rem.fasting_food", utc(3, 10, 5)),
                ("fasting_fluid", "rem.fasting_fluid", utc(3, 10, 9)),
            ],
        ),
        (4, 4, [("fasting_food", "rem.fasting_all", utc(3, 10, 7))]),
    ],
    ids=["separate cut-offs", "one cut-off"],
)
def test_food_and_fluid_cut_offs(
    food: float, fluid: float, expected: list[tuple[str, str, dt.datetime]]
) -> None:
    planned = plan_reminders(TEST_PLAN, at(ISTANBUL, 3, 10, 14), ISTANBUL, clinic(food, fluid), LONG_BEFORE)
    assert [(r.key, r.message, r.due_at) for r in planned if r.key.startswith("fasting")] == expected


def test_reschedule_is_a_fresh_plan_for_the_new_start() -> None:
    old, new = at(ISTANBUL, 3, 10, 9), at(ISTANBUL, 3, 12, 14)
    now = at(ISTANBUL, 3, 1, 12)
    first = plan_reminders(TEST_PLAN, old, ISTANBUL, clinic(), now)
    replanned = plan_reminders(TEST_PLAN, new, ISTANBUL, clinic(), now)
    assert replanned == plan_reminders(TEST_PLAN, new, ISTANBUL, clinic(), now)
    assert replanned != first
    assert due_times(replanned) == {
        "week_before": utc(3, 5, 7),
        "evening_before": utc(3, 11, 15),
        "fasting_food": utc(3, 12, 7),  # 10:00 local, in the day: not moved
        "leave_home": utc(3, 12, 9),
        "day_after": utc(3, 13, 7),
        "week_after": utc(3, 19, 7),
    }


def test_every_pending_reminder_goes_between_now_and_its_deadline() -> None:
    start = at(SOFIA, 3, 28, 8)
    for hours, food in itertools.product(range(-24 * 9, 24 * 9, 1), (4, 6)):
        now = start + dt.timedelta(hours=hours, minutes=17)
        for r in plan_reminders(TEST_PLAN, start, SOFIA, clinic(food, 2), now):
            if r.status == "pending":
                assert now <= r.due_at < r.deadline, (now, r)
                assert r.due_at < r.about_at if r.moved else r.due_at >= r.about_at, (now, r)
            else:
                assert now >= r.deadline or r.due_at >= r.deadline, (now, r)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        plan_reminders(TEST_PLAN, dt.datetime(2027, 3, 10, 9), ISTANBUL, clinic(), LONG_BEFORE)  # noqa: DTZ001
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        plan_reminders(TEST_PLAN, utc(3, 10, 9), ISTANBUL, clinic(), dt.datetime(2027, 3, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"at": {"days_before": 1}}, "`local_time` goes with `days_before` or `days_after`"),
        (
            {"at": {"days_before": 1, "local_time": "18:00", "hours_before_from": "fasting_food_hours"}},
            "exactly one of",
        ),
        ({"at": {"days_before": 1, "local_time": 1080}}, "valid string"),  # unquoted 18:00 in YAML
        ({"at": {"hours_before_from": "fasting_hours"}}, "'fasting_food_hours' or 'fasting_fluid_hours'"),
        (
            {"at": {"days_after": 1, "local_time": "10:00"}},
            "after the procedure cannot have `deadline: start`",
        ),
        ({"colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_plan_entries_are_validated(entry: dict[str, object], message: str) -> None:
    base = {
        "id": "x",
        "message": "rem.x",
        "at": {"hours_before_from": "fasting_food_hours"},
        "deadline": "start",
    }
    with pytest.raises(ValidationError, match=message):
        ReminderSpec.model_validate({**base, **entry})


def test_plan_field_names_are_clinic_settings() -> None:
    fields = ClinicSettings.model_fields
    assert {name: fields[name].annotation for name in typing.get_args(HoursField)} == dict.fromkeys(
        typing.get_args(HoursField), float
    )
    assert {name: fields[name].annotation for name in typing.get_args(MinutesField)} == dict.fromkeys(
        typing.get_args(MinutesField), int
    )


def test_shipped_plan_has_the_reminders_patients_need(content: Content) -> None:
    assert [r.id for r in content.plan.reminders] == [
        "week_before",
        "evening_before",
        "fasting_food",
        "fasting_fluid",
        "leave_home",
        "day_after",
        "day_two",
        "week_after",
    ]
    # Check-ins the next day, on day two and after a week (F-after4).
    assert content.plan.checkin_keys == {"day_after", "day_two", "week_after"}
    for spec in content.plan.reminders:
        assert spec.message in content.locales["en"].sources
    assert ACK_LABEL in content.locales["en"].labels
    separate = plan_reminders(content.plan, at(ISTANBUL, 3, 10, 9), ISTANBUL, clinic(6, 2), LONG_BEFORE)
    same = plan_reminders(content.plan, at(ISTANBUL, 3, 10, 9), ISTANBUL, clinic(4, 4), LONG_BEFORE)
    assert [r.message for r in separate if r.key.startswith("fasting")] == [
        "rem.fasting_food",
        "rem.fasting_fluid",
    ]
    assert [r.message for r in same if r.key.startswith("fasting")] == ["rem.fasting_all"]


def test_reminder_texts_never_tell_anyone_to_stop_a_medicine(content: Content) -> None:
    texts = content.locales["en"].texts
    words = " ".join(texts[r.message] for r in content.plan.reminders).lower()
    assert "stop your" not in words
    assert "do not stop it" in texts["rem.week_before"].lower()


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def _problems_after_edit(folder: Path, file: str, old: str, new: str) -> list[str]:
    """The problems an edit adds to a copy of the content (whatever else it holds already)."""
    before = {str(p) for p in read_content(folder)[1]}
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    # Translations warn when their English text changes; these tests are about the English side.
    return sorted(
        {str(p) for p in read_content(folder)[1] if "was translated from" not in p.message} - before
    )


def test_duplicate_reminder_ids_are_reported_by_file_and_line(content_copy: Path) -> None:
    added = _problems_after_edit(content_copy, "reminders.yaml", "- id: day_after", "- id: week_before")
    plan = content_copy / "reminders.yaml"
    first, again = _line_of(plan, "- id: week_before"), _line_of(plan, "message: rem.day_after") - 1
    errors = [problem for problem in added if ": warning: " not in problem]
    assert errors == [
        f"content/reminders.yaml:{again}: reminder id 'week_before' is already used at "
        f"content/reminders.yaml:{first}"
    ]


def test_plan_schema_errors_are_reported_by_file_and_line(content_copy: Path) -> None:
    added = _problems_after_edit(
        content_copy,
        "reminders.yaml",
        "at: {hours_before_from: fasting_fluid_hours}",
        "at: {hours_before_from: fluid_hours}",
    )
    line = _line_of(content_copy / "reminders.yaml", "fluid_hours}")
    assert (
        f"content/reminders.yaml:{line}: reminders.3.at.hours_before_from: Input should be "
        "'fasting_food_hours' or 'fasting_fluid_hours'" in added
    )


def test_reminder_placeholders_only_in_reminder_messages(content_copy: Path) -> None:
    added = _problems_after_edit(
        content_copy,
        "en/prepare.yaml",
        "stop eating at least {fasting_food_hours} hours",
        "stop eating at {food_stop_time}, {fasting_food_hours} hours",
    )
    line = _line_of(content_copy / "en" / "prepare.yaml", "  prep.fasting:")
    assert added == [
        f"content/en/prepare.yaml:{line}: text 'prep.fasting' uses {{food_stop_time}}, "
        "which is filled only in reminders and the procedure flow"
    ]


def test_reminder_messages_must_be_sourced_texts(content_copy: Path) -> None:
    added = _problems_after_edit(
        content_copy, "reminders.yaml", "message: rem.leave_home", "message: prep.tick_hint"
    )
    line = _line_of(content_copy / "reminders.yaml", "message: prep.tick_hint")
    text_line = _line_of(content_copy / "en" / "reminders.yaml", "  rem.leave_home:")
    # Each translation reports the same about its own files; the English ones are checked here.
    added = [p for p in added if "content/en/" in p or "locale 'en'" in p]
    assert added == [
        # No longer a reminder message, so its reminder placeholder is an error too.
        f"content/en/reminders.yaml:{text_line}: text 'rem.leave_home' uses {{arrive_time}}, "
        "which is filled only in reminders and the procedure flow",
        f"content/en/reminders.yaml:{text_line}: warning: text id 'rem.leave_home' is not used by any flow",
        f"content/reminders.yaml:{line}: reminder message 'prep.tick_hint' in locale 'en' "
        "must be under `texts:` with sources",
    ]
