"""Check-in steps as pure functions: what each press shows, what it records, when staff hear of it."""

from __future__ import annotations

import datetime as dt

import pytest

from flows import checkins
from flows.callbacks import CheckinPress, ack_data, checkin_data, language_data
from flows.content import Content
from flows.engine import FlowEngine
from flows.outcome import (
    STALE,
    CheckinContext,
    CheckinTarget,
    Event,
    RecordPain,
    RecordSign,
    ReportSign,
    Session,
    StoreComment,
)
from flows.reading_models import WarningSign

NOW = dt.datetime(2026, 12, 11, 10, 0, tzinfo=dt.UTC)
TARGET = CheckinTarget(reminder_id=7, procedure_id=3, key="day_after", due_at=NOW)
SIGNS = [
    WarningSign(id="legs", level="emergency", label="sign.legs", text="red.legs", patterns=["numb"]),
    WarningSign(id="back_pain", level="clinic_today", label="sign.back", text="red.back", patterns=["back"]),
]


def context(previous: int | None = None) -> CheckinContext:
    return CheckinContext(TARGET, previous, severe_from=7, rise_alert=2)


@pytest.mark.parametrize(
    ("pain", "previous", "alert"),
    [
        (6, None, False),  # below the clinic's severe score, nothing to compare with
        (7, None, True),  # at the severe score
        (10, 9, True),
        (5, 3, True),  # two higher than last time: rising
        (4, 3, False),  # one higher: not yet
        (3, 8, False),  # falling
        (0, None, False),
    ],
)
def test_the_pain_alert_rule(pain: int, previous: int | None, alert: bool) -> None:
    assert checkins.pain_alert(pain, previous, severe_from=7, rise_alert=2) is alert


@pytest.mark.parametrize(
    ("step", "previous", "texts", "effects", "sign"),
    [
        ("p3", None, ["checkin.screen"], [RecordPain(TARGET, 3)], None),
        (
            "p8",
            None,
            ["red.back", "checkin.screen"],
            [RecordPain(TARGET, 8), ReportSign("back_pain", " at the day_after check-in: pain 8/10", 3)],
            "back_pain",
        ),
        (
            "p5",
            2,
            ["red.back", "checkin.screen"],
            [
                RecordPain(TARGET, 5),
                ReportSign(
                    "back_pain", " at the day_after check-in: pain 5/10, 2/10 at the check-in before", 3
                ),
            ],
            "back_pain",
        ),
        ("y", None, ["checkin.which"], [], None),
        ("n", None, ["checkin.comment_prompt"], [RecordSign(TARGET, None)], None),
        ("x", None, ["checkin.thanks"], [], None),
        (
            "slegs",
            None,
            ["red.legs"],
            [RecordSign(TARGET, "legs"), ReportSign("legs", " at the day_after check-in", 3)],
            "legs",
        ),
    ],
)
def test_each_press_shows_and_records(
    step: str, previous: int | None, texts: list[str], effects: list[object], sign: str | None
) -> None:
    session = Session("menu", "main")
    outcome = checkins.press(
        session, CheckinPress(7, step), context(previous), signs=SIGNS, pain_sign="back_pain", now=NOW
    )
    assert [line.text_id for reply in outcome.replies for line in reply.lines] == texts
    assert list(outcome.effects) == effects
    assert outcome.warning_sign == sign


def test_the_screen_offers_yes_and_no_and_yes_offers_every_sign() -> None:
    session = Session("menu", "main")
    press = CheckinPress(7, "p2")
    (screen,) = checkins.press(session, press, context(), signs=SIGNS, pain_sign="back_pain", now=NOW).replies
    assert [b.data for b in screen.buttons] == [checkin_data(7, "y"), checkin_data(7, "n")]
    (which,) = checkins.press(
        session, CheckinPress(7, "y"), context(), signs=SIGNS, pain_sign="back_pain", now=NOW
    ).replies
    assert [b.data for b in which.buttons] == [checkin_data(7, "slegs"), checkin_data(7, "sback_pain")]


def test_no_sign_waits_two_hours_for_a_comment_and_skipping_ends_the_wait() -> None:
    session = Session("menu", "main")
    checkins.press(session, CheckinPress(7, "n"), context(), signs=SIGNS, pain_sign="back_pain", now=NOW)
    assert checkins.awaited_comment(session, NOW + dt.timedelta(hours=2)) == 7
    assert checkins.awaited_comment(session, NOW + dt.timedelta(hours=2, seconds=1)) is None
    skipped = checkins.press(
        session, CheckinPress(7, "x"), context(), signs=SIGNS, pain_sign="back_pain", now=NOW
    )
    assert skipped.changed
    assert checkins.awaited_comment(session, NOW) is None


def test_a_comment_is_kept_trimmed_and_bounded() -> None:
    assert checkins.comment(context(), "  my back is sore  ") == StoreComment(TARGET, "my back is sore")
    assert len(checkins.comment(context(), "x" * 5000).text) == checkins.MAX_COMMENT


@pytest.mark.parametrize("step", ["p3", "y", "n", "x", "slegs"])
def test_a_press_on_someone_elses_or_an_unknown_check_in_changes_nothing(step: str) -> None:
    session = Session("menu", "main")
    outcome = checkins.press(
        session, CheckinPress(7, step), None, signs=SIGNS, pain_sign="back_pain", now=NOW
    )
    assert outcome.notice == STALE
    assert outcome.effects == ()
    assert session.answers == {}


def test_an_unknown_sign_on_the_screen_changes_nothing() -> None:
    session = Session("menu", "main")
    outcome = checkins.press(
        session, CheckinPress(7, "smade_up"), context(), signs=SIGNS, pain_sign="back_pain", now=NOW
    )
    assert outcome.notice == STALE
    assert outcome.effects == ()


def test_the_comment_wait_survives_presses_on_other_messages_and_ends_with_the_chat(content: Content) -> None:
    engine = FlowEngine(content)
    session = engine.new_session()
    checkins.press(session, CheckinPress(7, "n"), context(), signs=SIGNS, pain_sign="back_pain", now=NOW)
    for aside in (ack_data(12), language_data("tr"), checkin_data(9, "p3")):
        engine.handle(session, Event("button", aside, now=NOW), "en")
        assert checkins.awaited_comment(session, NOW) == 7, aside
    outcome = engine.handle(session, Event("text", "it was fine", now=NOW, checkin=context()), "en")
    assert StoreComment(TARGET, "it was fine") in outcome.effects
    assert checkins.awaited_comment(session, NOW) is None
    checkins.press(session, CheckinPress(7, "n"), context(), signs=SIGNS, pain_sign="back_pain", now=NOW)
    engine.handle(session, Event("command", "menu", now=NOW), "en")  # the patient moved on
    assert checkins.awaited_comment(session, NOW) is None
