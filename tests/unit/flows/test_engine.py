"""The flow engine on a small purpose-built content: buttons, branches, checklists, safety."""

from __future__ import annotations

import pytest
import transitions

from flows.content import Content
from flows.engine import Event, FlowEngine, Session, callback_data
from flows.render import Renderer, clinic_params


@pytest.fixture
def engine(mini: Content) -> FlowEngine:
    return FlowEngine(mini)


def press(engine: FlowEngine, session: Session, label_id: str) -> list[str]:
    """Press the button with that label on the current state; return the new message's text ids."""
    current = engine.render_state(session)
    data = next(b.data for b in current.buttons if b.label_id == label_id)
    outcome = engine.handle(session, Event("button", data), "en")
    return [line.text_id for reply in outcome.replies for line in reply.lines]


def test_start_shows_welcome_then_menu(engine: FlowEngine) -> None:
    session = engine.new_session()
    outcome = engine.handle(session, Event("command", "start"), "en")
    assert [r.lines[0].text_id for r in outcome.replies] == ["bot.welcome", "menu.intro"]
    assert [b.label_id for b in outcome.replies[1].buttons] == [
        "menu.about",
        "menu.candidacy",
        "menu.prepare",
        "menu.after",
    ]


def test_buttons_walk_a_flow_and_back_to_the_menu(engine: FlowEngine) -> None:
    session = engine.new_session()
    assert press(engine, session, "menu.about") == ["x.about.one"]
    assert press(engine, session, "btn.next") == ["x.about.two"]
    assert press(engine, session, "btn.back") == ["x.about.one"]
    assert press(engine, session, "btn.menu") == ["menu.intro"]
    assert (session.flow, session.state) == ("menu", "main")


def test_a_button_can_lead_into_another_flow(engine: FlowEngine) -> None:
    session = engine.new_session()
    press(engine, session, "menu.after")
    assert press(engine, session, "btn.next") == ["x.about.one"]
    assert (session.flow, session.state) == ("about", "one")


def test_branch_conditions_use_the_answer_just_given(engine: FlowEngine) -> None:
    session = engine.new_session()
    press(engine, session, "menu.candidacy")
    assert press(engine, session, "btn.yes") == ["x.q.care_time"]
    session2 = engine.new_session()
    press(engine, session2, "menu.candidacy")
    assert press(engine, session2, "btn.no") == ["x.q.nerve"]
    assert session2.answers["candidacy"] == {"care": "no"}


def test_candidacy_result_groups_answers_and_questions(engine: FlowEngine) -> None:
    session = engine.new_session()
    press(engine, session, "menu.candidacy")
    press(engine, session, "btn.yes")
    press(engine, session, "btn.short")
    assert press(engine, session, "btn.no") == [
        "x.result",
        "cand.result.check",
        "x.r.care_short",
        "cand.result.ask",
        "x.ask.care",
        "cand.result.service",  # every result says what the bot is and is not
    ]


def test_nerve_symptoms_go_straight_to_urgent_care(engine: FlowEngine) -> None:
    session = engine.new_session()
    press(engine, session, "menu.candidacy")
    press(engine, session, "btn.no")
    assert press(engine, session, "btn.yes") == ["x.urgent"]
    result = press(engine, session, "btn.next")
    assert result[:3] == ["x.result", "cand.result.urgent", "x.r.nerve"]


def test_starting_the_questionnaire_again_forgets_old_answers(engine: FlowEngine) -> None:
    session = engine.new_session()
    press(engine, session, "menu.candidacy")
    press(engine, session, "btn.no")
    press(engine, session, "btn.no")
    press(engine, session, "btn.menu")
    press(engine, session, "menu.candidacy")
    assert session.answers["candidacy"] == {}


def test_checklist_ticks_toggle_and_persist_in_the_answers(engine: FlowEngine, mini: Content) -> None:
    session = engine.new_session()
    press(engine, session, "menu.prepare")
    outcome = engine.handle(session, Event("button", callback_data("prepare", "list", 1)), "en")
    reply = outcome.replies[0]
    assert reply.edit is True
    assert [(line.text_id, line.mark) for line in reply.lines[1:]] == [
        ("x.clothes", "\u2b1c"),
        ("x.fasting", "\u2705"),
    ]
    assert session.answers["prepare"]["list"] == ["fasting"]
    engine.handle(session, Event("button", callback_data("prepare", "list", 1)), "en")
    assert session.answers["prepare"]["list"] == []
    text = Renderer(mini, clinic_params(mini.clinic)).render(reply, "en").text
    assert "\u2705 Stop eating 4 hours before." in text


@pytest.mark.parametrize(
    "data",
    [
        "forged",
        "",
        "deadbeef.0",
        callback_data("menu", "main", 99),
        callback_data("about", "two", 0),  # a real button, but of a state the user is not in
        callback_data("menu", "main", 0) + "x",
    ],
)
def test_forged_or_stale_presses_change_nothing(engine: FlowEngine, data: str) -> None:
    session = engine.new_session()
    before = (session.flow, session.state, dict(session.answers))
    outcome = engine.handle(session, Event("button", data), "en")
    assert outcome.notice == "bot.stale_button"
    assert outcome.replies == ()
    assert outcome.changed is False
    assert (session.flow, session.state, session.answers) == before


def test_warning_sign_in_free_text_gets_urgent_guidance_in_any_state(engine: FlowEngine) -> None:
    session = engine.new_session()
    press(engine, session, "menu.candidacy")
    press(engine, session, "btn.yes")
    outcome = engine.handle(session, Event("text", "I have CHEST pain!"), "en")
    assert outcome.warning_sign == "chest"
    assert outcome.replies[0].lines[0].text_id == "red.chest"
    # One message: the guidance, then the question again with its buttons (the patient keeps their place).
    assert [line.text_id for line in outcome.replies[0].lines] == ["red.chest", "x.q.care_time"]
    assert outcome.replies[0].buttons == engine.render_state(session).buttons
    assert (session.flow, session.state) == ("candidacy", "q_care_time")


def test_unexpected_text_and_stickers_point_back_to_the_buttons(engine: FlowEngine) -> None:
    session = engine.new_session()
    for event, first in ((Event("text", "x" * 4000), "bot.unknown_text"), (Event("other"), "bot.non_text")):
        outcome = engine.handle(session, event, "en")
        assert outcome.replies[0].lines[0].text_id == first
        assert len(outcome.replies) == 1, "one message, not a fresh copy of the step"
        assert outcome.replies[0].buttons == engine.render_state(session).buttons, "with the step's buttons"


def test_unknown_command_is_answered(engine: FlowEngine) -> None:
    outcome = engine.handle(engine.new_session(), Event("command", "frobnicate"), "en")
    assert outcome.replies[0].lines[0].text_id == "bot.unknown_command"


def test_no_machine_is_built_per_user_or_per_update(
    engine: FlowEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    original = transitions.Machine.__init__

    def counting(self: transitions.Machine, *args: object, **kwargs: object) -> None:
        built.append(self)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(transitions.Machine, "__init__", counting)
    for _ in range(50):
        session = engine.new_session()
        press(engine, session, "menu.candidacy")
        press(engine, session, "btn.yes")
        press(engine, session, "btn.long")
        press(engine, session, "btn.no")
    assert built == []
    assert all(not machine.models for machine in engine.machines.values())
