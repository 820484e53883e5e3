"""Warning signs from a table of phrasings, in every state of every flow, in every language.

The table is the locale's example messages (content/<locale>/warning_examples.yaml); the rows
written to tune the patterns are sent from every state, those from blind tables looked at since
(`seen`) only teach the model."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from flows.content import Content
from flows.engine import ASK_ANY, ASK_ONE, SIGN_NO, SIGN_PREFIX, Event, FlowEngine, Outcome, Session
from tests.conftest import ROOT

CONTENT = ROOT / "content"
# The patient's local wall time (naive on purpose, as the engine takes it), for states reading a date or time.
NOW = dt.datetime(2026, 11, 23, 10, 0)  # noqa: DTZ001


def table(code: str) -> dict[str, Any]:
    """The tuning rows of the locale's example messages."""
    loaded: dict[str, Any] = yaml.safe_load(
        (CONTENT / code / "warning_examples.yaml").read_text(encoding="utf-8")
    )
    return {
        key: [row for row in rows if "seen" not in row] if isinstance(rows, list) else rows
        for key, rows in loaded.items()
    }


def every_state(content: Content) -> list[Session]:
    return [Session(flow, state) for flow, spec in content.flows.items() for state in spec.states]


LANGUAGES = ["en", "tr", "bg"]


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_tables_are_big_enough(code: str) -> None:
    rows = table(code)
    assert len(rows["alarms"]) >= 80
    assert len([r for r in rows["ordinary"] if not r.get("ambiguous")]) >= 80


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_alarm_is_recognised_in_every_state_of_every_flow(code: str, content: Content) -> None:
    engine = FlowEngine(content)
    signs = {sign.id: sign.text for sign in content.locales[code].signs.signs}  # type: ignore[union-attr]
    missed = []
    for session in every_state(content):
        for row in table(code)["alarms"]:
            outcome = engine.handle(
                Session(session.flow, session.state),
                Event("text", row["text"], NOW, after_procedure=True),
                code,
            )
            if (
                outcome.warning_sign != row["sign"]
                or outcome.replies[0].lines[0].text_id != signs[row["sign"]]
            ):
                missed.append((session.flow, session.state, row["text"], outcome.warning_sign))
    assert missed == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_ordinary_messages_are_never_alarms_never_met_with_silence_and_asked_about_only_by_the_body_rule(
    code: str, content: Content
) -> None:
    engine = FlowEngine(content)
    wrong = []
    for session in every_state(content):
        for row in table(code)["ordinary"]:
            outcome = engine.handle(
                Session(session.flow, session.state),
                Event("text", row["text"], NOW, after_procedure=True),
                code,
            )
            assert outcome.replies, f"silence for {row['text']!r} in {session}"
            first = outcome.replies[0].lines[0].text_id
            if row.get("ambiguous"):
                continue
            # The one-tap question only where the rule says: a message that names the body and
            # that the FAQ cannot answer asks about every sign rather than say "not sure".
            body_unanswered = (
                first == ASK_ANY
                and engine.matchers[code].triage(row["text"]).body
                and not engine.faq[code].match(row["text"]).confident
            )
            if outcome.warning_sign or first == ASK_ONE or (first == ASK_ANY and not body_unanswered):
                wrong.append((session.flow, session.state, row["text"], outcome.warning_sign, first))
    assert wrong == []


def asked_about(outcome: Outcome) -> str | None:
    """The sign a one-tap question asks about, "any" for the list of all signs, or None."""
    reply = outcome.replies[0] if outcome.replies else None
    if reply is None or reply.lines[0].text_id not in (ASK_ONE, ASK_ANY):
        return None
    if reply.lines[0].text_id == ASK_ANY:
        return "any"
    return reply.buttons[0].data.removeprefix(SIGN_PREFIX)


@pytest.mark.parametrize("code", LANGUAGES)
def test_vague_complaints_get_a_one_tap_question_about_every_sign_in_every_state(
    code: str, content: Content
) -> None:
    rows = table(code)["confirm"]
    assert len(rows) >= 8
    engine = FlowEngine(content)
    wrong = []
    for session in every_state(content):
        for row in rows:
            outcome = engine.handle(
                Session(session.flow, session.state),
                Event("text", row["text"], NOW, after_procedure=True),
                code,
            )
            if outcome.warning_sign or asked_about(outcome) != row["ask"]:
                wrong.append((session.flow, session.state, row["text"], asked_about(outcome)))
    assert wrong == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_denials_things_over_and_general_questions_are_answered_calmly_in_every_state(
    code: str, content: Content
) -> None:
    rows = table(code)["calm"]
    assert len(rows) >= 15
    engine = FlowEngine(content)
    wrong = []
    for session in every_state(content):
        for row in rows:
            outcome = engine.handle(
                Session(session.flow, session.state),
                Event("text", row["text"], NOW, after_procedure=True),
                code,
            )
            if outcome.warning_sign or asked_about(outcome) or not outcome.replies:
                wrong.append((session.flow, session.state, row["text"], outcome.warning_sign))
    assert wrong == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_answering_the_question_yes_gives_the_urgent_guidance_and_no_gives_the_step_back(
    code: str, content: Content
) -> None:
    engine = FlowEngine(content)
    signs = {sign.id: sign.text for sign in content.locales[code].signs.signs}  # type: ignore[union-attr]
    row = next(r for r in table(code)["confirm"] if r["ask"] == "any")
    session = Session("prepare", content.flows["prepare"].start)
    question = engine.handle(session, Event("text", row["text"], NOW, after_procedure=True), code)
    sign_buttons = [b for b in question.replies[0].buttons if b.data != SIGN_NO]
    assert sorted(b.data.removeprefix(SIGN_PREFIX) for b in sign_buttons) == sorted(signs)
    assert question.replies[0].buttons[-1].data == SIGN_NO
    for button in sign_buttons:
        sign = button.data.removeprefix(SIGN_PREFIX)
        yes = engine.handle(session, Event("button", button.data, NOW), code)
        assert yes.warning_sign == sign
        assert yes.replies[0].lines[0].text_id == signs[sign]
        assert yes.replies[0].buttons == engine.render_state(session, today=NOW.date()).buttons
    no = engine.handle(session, Event("button", SIGN_NO, NOW), code)
    assert no.warning_sign is None
    assert no.replies[0].lines[0].text_id == "red.none"
    assert no.replies[0].buttons == engine.render_state(session, today=NOW.date()).buttons
    assert (session.flow, session.state) == ("prepare", content.flows["prepare"].start)
    forged = engine.handle(session, Event("button", f"{SIGN_PREFIX}made_up", NOW), code)
    assert forged.notice == "bot.stale_button"
    assert forged.warning_sign is None
