"""Every button's callback data is written and read in one place, and forged data reads as nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.callbacks import (
    MAX_BYTES,
    AckPress,
    CheckinPress,
    LanguagePress,
    Press,
    SignPress,
    StepPress,
    TopicPress,
    ack_data,
    checkin_data,
    date_data,
    language_data,
    parse,
    sign_data,
    state_token,
    step_data,
    topic_data,
    zone_data,
)

TOKEN = state_token("procedure", "date")


@pytest.mark.parametrize(
    ("data", "press"),
    [
        (step_data("procedure", "date", 3), StepPress(TOKEN, index=3)),
        (date_data("procedure", "date", dt.date(2026, 12, 18)), StepPress(TOKEN, day=dt.date(2026, 12, 18))),
        (
            zone_data("procedure", "date", "America/Argentina/Buenos_Aires"),
            StepPress(TOKEN, zone="America/Argentina/Buenos_Aires"),
        ),
        (topic_data("drive"), TopicPress("drive")),
        (sign_data("chest_pain"), SignPress("chest_pain")),
        (sign_data(None), SignPress(None)),
        (ack_data(42), AckPress(42)),
        (checkin_data(7, "p10"), CheckinPress(7, "p10")),
        (checkin_data(7, "sfever"), CheckinPress(7, "sfever")),
        (checkin_data(7, "x"), CheckinPress(7, "x")),
        (language_data("bg"), LanguagePress("bg")),
    ],
)
def test_what_is_written_is_read_back_and_fits_telegram(data: str, press: Press) -> None:
    assert parse(data) == press
    assert len(data.encode()) <= MAX_BYTES


@pytest.mark.parametrize(
    "data",
    [
        "",
        "forged",
        f"{TOKEN}.",
        f"{TOKEN}.1x",
        f"{TOKEN}.\u00b2",  # a superscript two: isdigit() but not int()
        f"{TOKEN}.1234",
        f"{TOKEN}.d20261332",  # no such day
        f"{TOKEN}.z../../etc",
        "ack.",
        "ack.-1",
        "ack.1234567890123",  # too long for any database id
        "ci.7.p11",
        "ci.7.q",
        "sign.Chest Pain",
        "lang.",
        "faq.drive; drop table",
    ],
)
def test_malformed_or_forged_data_reads_as_nothing(data: str) -> None:
    assert parse(data) is None
