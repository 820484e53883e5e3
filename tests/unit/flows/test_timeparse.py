"""Times and dates as people type them, in English, Turkish and Bulgarian habits."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.timeparse import parse_clock_time, parse_day


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9:30", dt.time(9, 30)),
        ("09:30", dt.time(9, 30)),
        ("9.30", dt.time(9, 30)),
        ("2 pm", dt.time(14, 0)),
        ("2 p.m.", dt.time(14, 0)),
        ("12 am", dt.time(0, 0)),
        ("12pm", dt.time(12, 0)),
        ("14h", dt.time(14, 0)),
        ("at 2 pm", dt.time(14, 0)),
        ("saat 14.30", dt.time(14, 30)),
        ("saat 9", dt.time(9, 0)),
        ("в 9 ч.", dt.time(9, 0)),
        ("14 ч 30", dt.time(14, 30)),
        ("9ч", dt.time(9, 0)),
        ("half past nine", dt.time(9, 30)),
        ("at half past 9 pm", dt.time(21, 30)),
        ("quarter to 10", dt.time(9, 45)),
        ("quarter past eleven", dt.time(11, 15)),
        ("9 buçuk", dt.time(9, 30)),
        ("9 и половина", dt.time(9, 30)),
    ],
)
def test_times_people_type(typed: str, expected: dt.time) -> None:
    assert parse_clock_time(typed) == expected


@pytest.mark.parametrize(
    "typed", ["25:00", "9:75", "13 pm", "0 am", "9", "soon", "noon", "25 ч", "", "half past thirty"]
)
def test_impossible_or_unclear_times_are_refused(typed: str) -> None:
    assert parse_clock_time(typed) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("24.11", dt.date(2026, 11, 24)),
        ("24/11/2026", dt.date(2026, 11, 24)),
        ("2026-11-24", dt.date(2026, 11, 24)),
        ("24-11-26", dt.date(2026, 11, 24)),
        ("1.1", dt.date(2027, 1, 1)),  # a year-less date already past means next year's
        ("tomorrow", dt.date(2026, 11, 22)),
        ("Yarın", dt.date(2026, 11, 22)),
        ("yarin", dt.date(2026, 11, 22)),
        ("утре", dt.date(2026, 11, 22)),
        ("the day after tomorrow", dt.date(2026, 11, 23)),
        ("bugün", dt.date(2026, 11, 21)),
    ],
)
def test_dates_people_type(typed: str, expected: dt.date) -> None:
    assert parse_day(typed, dt.date(2026, 11, 21)) == expected


@pytest.mark.parametrize("typed", ["31.2", "the 31st of February", "next week", "2026-13-01"])
def test_impossible_or_unclear_dates_are_refused(typed: str) -> None:
    assert parse_day(typed, dt.date(2026, 11, 21)) is None
