"""A patient walks every flow to its end in Telegram, pressing the buttons they see."""

from __future__ import annotations

import pytest

from bot.testing.fake_bot_api import FakeBotAPI
from flows.content import Content
from flows.engine import Session
from flows.render import Renderer, clinic_params
from tests.e2e.conftest import Patient, RunningBot

pytestmark = pytest.mark.usefixtures("bot")


@pytest.fixture
def renderer(content: Content) -> Renderer:
    return Renderer(content, clinic_params(content.clinic))


@pytest.fixture
def label(content: Content):  # type: ignore[no-untyped-def]
    labels = content.locales["en"].labels
    return lambda label_id: labels[label_id]


def state_text(content: Content, renderer: Renderer, flow: str, state: str) -> str:
    """The text the bot should show in a state (no answers given)."""
    from flows.engine import FlowEngine

    reply = FlowEngine(content).render_state(Session(flow, state))
    return renderer.render(reply, "en").text


def next_chain(content: Content, flow: str) -> list[str]:
    """The states a patient pressing "Next" from the start of a flow goes through."""
    spec = content.flows[flow]
    chain = [spec.start]
    while True:
        nexts = [b.to for b in spec.states[chain[-1]].buttons if b.label == "btn.next"]
        if not nexts or not nexts[0] or nexts[0].startswith("@"):
            return chain
        chain.append(nexts[0])


async def open_menu(patient: Patient) -> None:
    await patient.send("/start")


async def test_start_greets_says_what_the_bot_is_and_shows_the_menu(
    telegram: FakeBotAPI,
    renderer: Renderer,
    label,  # type: ignore[no-untyped-def]
) -> None:
    patient = Patient(telegram, 101)
    (welcome,) = await patient.send("/start")  # one message: the greeting, then the menu
    assert welcome["text"] == renderer.text("bot.welcome", "en") + "\n\n" + renderer.text("menu.intro", "en")
    assert "not a doctor" in welcome["text"]
    assert "112" in welcome["text"]
    assert patient.screen() == welcome, "the menu's buttons are on the greeting"
    assert patient.labels() == [
        label(f"menu.{f}") for f in ("about", "candidacy", "prepare", "after", "procedure")
    ]
    commands = {"start", "menu", "reminders", "pain", "language", "mydata", "forget", "help"}
    assert {c["command"] for c in telegram.commands[("default", "")]} == commands
    assert {c["command"] for c in telegram.commands[("default", "en")]} == commands
    described = {c["command"]: c["description"] for c in telegram.commands[("default", "tr")]}
    assert described["forget"] == "Benimle ilgili her şeyi sil"


@pytest.mark.parametrize("flow", ["about", "after"])
async def test_reading_flows_walk_with_next_to_the_end_and_back_to_the_menu(
    flow: str,
    telegram: FakeBotAPI,
    content: Content,
    renderer: Renderer,
    label,  # type: ignore[no-untyped-def]
) -> None:
    patient = Patient(telegram, 102)
    await open_menu(patient)
    chain = next_chain(content, flow)
    assert len(chain) == len(content.flows[flow].states), "Next visits every page"
    shown = await patient.press(label(f"menu.{flow}"))
    for index, state in enumerate(chain):
        assert shown["text"] == state_text(content, renderer, flow, state)
        if index + 1 < len(chain):
            before = len(telegram.bot_messages(102))
            shown = await patient.press(label("btn.next"))
            assert len(telegram.bot_messages(102)) == before + 1, (
                "each page is a new message to scroll back to"
            )
    assert label("btn.next") not in patient.labels()
    shown = await patient.press(label("btn.menu"))
    assert shown["text"] == renderer.text("menu.intro", "en")


async def answer_until_result(patient: Patient, prefer: list[str], stop: str) -> list[str]:
    """Press the first preferred label on each screen until `stop` is offered; return the screens."""
    screens = []
    for _ in range(40):
        labels = patient.labels()
        if stop in labels:
            return screens
        choice = next((p for p in prefer if p in labels), labels[0])
        screens.append((await patient.press(choice))["text"])
    raise AssertionError("the questionnaire never reached its result")


async def test_questionnaire_with_i_dont_know_everywhere(
    telegram: FakeBotAPI,
    content: Content,
    renderer: Renderer,
    label,  # type: ignore[no-untyped-def]
) -> None:
    patient = Patient(telegram, 103)
    await open_menu(patient)
    intro = await patient.press(label("menu.candidacy"))
    assert intro["text"] == state_text(content, renderer, "candidacy", "intro")
    first = await patient.press(label("btn.start"))
    assert first["text"] == state_text(content, renderer, "candidacy", "q_fracture")
    screens = await answer_until_result(patient, [label("btn.dont_know")], label("btn.start_again"))
    result = screens[-1]
    assert result.startswith(renderer.text("cand.result.intro", "en"))
    assert renderer.text("cand.result.check", "en") in result
    assert renderer.text("cand.result.ask", "en") in result
    assert result.endswith(renderer.text("cand.result.service", "en")), "says what the bot is and is not"
    assert "you are a candidate" not in result.lower()
    assert "not a candidate" not in result.lower()
    # The questionnaire edits one message in place instead of filling the chat.
    assert patient.screen()["message_id"] == intro["message_id"]
    assert patient.screen().get("edit_date") is not None
    again = await patient.press(label("btn.start_again"))
    assert again["text"] == state_text(content, renderer, "candidacy", "q_fracture")
    menu = await patient.press(label("btn.menu"))
    assert menu["text"] == renderer.text("menu.intro", "en")


async def test_questionnaire_sends_new_nerve_symptoms_to_urgent_care(
    telegram: FakeBotAPI,
    content: Content,
    renderer: Renderer,
    label,  # type: ignore[no-untyped-def]
) -> None:
    patient = Patient(telegram, 104)
    await open_menu(patient)
    await patient.press(label("menu.candidacy"))
    await patient.press(label("btn.start"))
    urgent = state_text(content, renderer, "candidacy", "urgent")
    screens = await answer_until_result(
        patient, [label("btn.yes"), label("btn.next")], label("btn.start_again")
    )
    assert urgent in screens, "answering yes to new nerve symptoms shows the urgent advice at once"
    assert "112" in urgent
    assert renderer.text("cand.result.urgent", "en") in screens[-1]


async def test_preparation_checklist_ticks_off_in_place(
    telegram: FakeBotAPI,
    content: Content,
    renderer: Renderer,
    label,  # type: ignore[no-untyped-def]
) -> None:
    patient = Patient(telegram, 105)
    await open_menu(patient)
    await patient.press(label("menu.prepare"))
    spec = content.flows["prepare"]
    ticked_states = 0
    for _ in range(len(spec.states)):
        screen = patient.screen()
        unticked = [text for text in patient.labels() if text.startswith("\u2b1c ")]
        for text in unticked:
            shown = await patient.press(text)
            assert shown["message_id"] == screen["message_id"], "ticking edits the same message"
            assert "\u2705 " + text[2:] in patient.labels()
        if unticked:
            ticked_states += 1
            assert "\u2b1c" not in patient.screen()["text"]
            assert patient.screen()["text"].count("\u2705") == len(unticked)
        if label("btn.next") not in patient.labels():
            break
        await patient.press(label("btn.next"))
    assert ticked_states == sum(1 for s in spec.states.values() if s.checklist)
    assert "{" not in patient.screen()["text"], "every placeholder is filled in"
    shown = await patient.press(label("btn.menu"))
    assert shown["text"] == renderer.text("menu.intro", "en")


async def test_ticks_are_remembered_when_coming_back(
    telegram: FakeBotAPI,
    label,  # type: ignore[no-untyped-def]
) -> None:
    patient = Patient(telegram, 106)
    await open_menu(patient)
    await patient.press(label("menu.prepare"))
    await patient.press(label("btn.next"))
    first_item = next(t for t in patient.labels() if t.startswith("\u2b1c "))
    await patient.press(first_item)
    await patient.press(label("btn.menu"))
    await patient.press(label("menu.prepare"))
    await patient.press(label("btn.next"))
    assert "\u2705 " + first_item[2:] in patient.labels()


async def test_help_and_menu_commands_work_from_inside_a_flow(
    telegram: FakeBotAPI,
    renderer: Renderer,
    label,  # type: ignore[no-untyped-def]
) -> None:
    patient = Patient(telegram, 107)
    await open_menu(patient)
    await patient.press(label("menu.candidacy"))
    await patient.press(label("btn.start"))
    (help_text,) = await patient.send("/help")
    assert help_text["text"] == renderer.text("bot.help", "en") + "\n\n" + renderer.text("menu.intro", "en")
    (menu,) = await patient.send("/menu")
    assert menu["text"] == renderer.text("menu.intro", "en")
    assert patient.labels()[0] == label("menu.about")


def _unused(_: RunningBot) -> None:
    """Keeps the RunningBot import meaningful for type checkers."""
