"""/forget and /mydata in the engine: Delete only on the open question's own button, in time."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.callbacks import ForgetPress, forget_data, parse
from flows.content import Content
from flows.engine import Event, FlowEngine
from flows.outcome import ExportData, ForgetPatient, Outcome, Session
from flows.privacy import answers_given, ticks_given

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def engine(content: Content) -> FlowEngine:
    return FlowEngine(content)


def command(engine: FlowEngine, session: Session, name: str, now: dt.datetime = NOW) -> Outcome:
    return engine.handle(session, Event("command", name, now=now), "en")


def press(engine: FlowEngine, session: Session, data: str, now: dt.datetime = NOW) -> Outcome:
    return engine.handle(session, Event("button", data, now=now), "en")


def delete_data(outcome: Outcome) -> str:
    (reply,) = outcome.replies
    assert [b.label_id for b in reply.buttons] == ["forget.btn.delete", "forget.btn.keep"]
    return reply.buttons[0].data


def test_forget_asks_first_and_deletes_on_its_own_delete_button(engine: FlowEngine) -> None:
    session = engine.new_session()
    asked = command(engine, session, "forget")
    assert asked.replies[0].lines[0].text_id == "forget.confirm"
    assert asked.effects == ()
    done = press(engine, session, delete_data(asked), NOW + dt.timedelta(minutes=14))
    assert done.effects == (ForgetPatient(),)
    assert [line.text_id for line in done.replies[0].lines] == ["forget.done"]
    assert done.replies[0].edit


@pytest.mark.parametrize(
    ("case", "data", "later"),
    [
        ("forged", "forget.abcdef", 0),
        ("too late", None, 16),
    ],
)
def test_a_forged_or_late_delete_deletes_nothing(
    engine: FlowEngine, case: str, data: str | None, later: int
) -> None:
    session = engine.new_session()
    asked = command(engine, session, "forget")
    outcome = press(engine, session, data or delete_data(asked), NOW + dt.timedelta(minutes=later))
    assert outcome.effects == (), case
    assert outcome.notice == "forget.stale"


def test_an_older_question_or_one_answered_keep_deletes_nothing_even_at_the_same_moment(
    engine: FlowEngine,
) -> None:
    session = engine.new_session()
    first = delete_data(command(engine, session, "forget"))
    kept = press(engine, session, forget_data(None))
    assert kept.effects == ()
    assert [r.lines[0].text_id for r in kept.replies] == ["forget.kept", "menu.intro"]
    second = delete_data(command(engine, session, "forget"))
    assert second != first
    assert press(engine, session, first).effects == ()
    assert press(engine, session, second).effects == (ForgetPatient(),)
    assert press(engine, session, second).effects == (), "once only"


def test_mydata_asks_for_the_export_and_changes_nothing(engine: FlowEngine) -> None:
    outcome = command(engine, engine.new_session(), "mydata")
    assert (outcome.effects, outcome.changed, outcome.replies) == ((ExportData(),), False, ())


def test_forget_callback_data_round_trips_and_malformed_is_refused() -> None:
    assert parse(forget_data("0a1b2c")) == ForgetPress("0a1b2c")
    assert parse(forget_data(None)) == ForgetPress(None)
    assert parse("forget.XYZ") is None
    assert parse("forget." + "a" * 17) is None


def test_answers_and_ticks_are_read_back_with_their_questions_and_labels(content: Content) -> None:
    answers = {
        "candidacy": {"fracture": "yes", "pain": "severe"},
        "prepare": {"tell_team": ["thinners", "consent"]},
        "_forget": {"asked": 1},
    }
    given = [(a.question, a.label) for a in answers_given(answers, content.flows)]
    assert ("cand.q.fracture", "btn.yes") in given
    assert ("cand.q.pain", "cand.btn.severe") in given
    assert [t.item for t in ticks_given(answers, content.flows)] == ["consent", "thinners"]


@pytest.mark.parametrize("code", ["en", "tr", "bg"])
def test_help_names_mydata_and_forget_in_every_language(content: Content, code: str) -> None:
    help_text = content.locales[code].texts["bot.help"]
    assert "/mydata" in help_text
    assert "/forget" in help_text
