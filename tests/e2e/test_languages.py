"""Each language end to end: the four flows, the fasting reminder with the language's own formats."""

from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import format_date, format_time

from bot.testing.fake_bot_api import FakeBotAPI
from flows.content import Content
from flows.engine import FlowEngine, Session
from flows.render import Renderer
from tests.conftest import CONTENT_DIR
from tests.e2e.conftest import Patient, RunningBot
from tests.support import FakeClock, reminder_messages

LANGUAGES = sorted(p.name for p in CONTENT_DIR.iterdir() if p.is_dir() and len(p.name) == 2)
TRANSLATIONS = [code for code in LANGUAGES if code != "en"]


def screen_text(content: Content, renderer: Renderer, flow: str, state: str, code: str) -> str:
    return renderer.render(FlowEngine(content).render_state(Session(flow, state)), code).text


def test_the_shipped_content_has_turkish_and_bulgarian() -> None:
    assert {"tr", "bg"} <= set(LANGUAGES)


@pytest.mark.parametrize("code", LANGUAGES)
async def test_a_patient_walks_all_four_flows_in_their_language(
    code: str, telegram: FakeBotAPI, running: RunningBot, content: Content
) -> None:
    labels = content.locales[code].labels
    renderer = running.wiring.renderer
    patient = Patient(telegram, 700 + LANGUAGES.index(code), language=code)
    (welcome,) = await patient.send("/start")
    assert welcome["text"] == renderer.text("bot.welcome", code) + "\n\n" + renderer.text("menu.intro", code)
    for flow in ("about", "after"):
        shown = await patient.press(labels[f"menu.{flow}"])
        state = content.flows[flow].start
        while True:
            assert shown["text"] == screen_text(content, renderer, flow, state, code)
            if labels["btn.next"] not in patient.labels():
                break
            shown = await patient.press(labels["btn.next"])
            state = next(b.to for b in content.flows[flow].states[state].buttons if b.label == "btn.next")
        await patient.press(labels["btn.menu"])
    await patient.press(labels["menu.candidacy"])
    await patient.press(labels["btn.start"])
    for _ in range(30):
        if labels["btn.start_again"] in patient.labels():
            break
        await patient.press(labels["btn.dont_know"])
    assert patient.screen()["text"].startswith(renderer.text("cand.result.intro", code))
    await patient.press(labels["btn.menu"])
    await patient.press(labels["menu.prepare"])
    checklist = await patient.press(labels["btn.next"])
    assert checklist["text"] == screen_text(content, renderer, "prepare", "tell_team", code)
    first_item = next(t for t in patient.labels() if t.startswith("\u2b1c "))
    await patient.press(first_item)
    assert "\u2705 " + first_item[2:] in patient.labels()


@pytest.mark.parametrize("code", LANGUAGES)
async def test_the_fasting_reminder_comes_in_the_patients_language_and_formats(
    code: str, telegram: FakeBotAPI, running: RunningBot, clock: FakeClock, content: Content
) -> None:
    labels = content.locales[code].labels
    renderer = running.wiring.renderer
    chat = 800 + LANGUAGES.index(code)
    patient = Patient(telegram, chat, language=code)
    await patient.send("/start")
    await patient.press(labels["menu.procedure"])
    await patient.press(labels["proc.btn.set"])
    await patient.press(format_date(dt.date(2026, 11, 23), "EEE d MMM", locale=code))
    (done,) = await patient.send("14:10")
    procedure = dt.datetime(2026, 11, 23, 14, 10, tzinfo=dt.UTC)  # the default clinic is on UTC
    expected_date = format_date(procedure, "full", locale=code)
    expected_time = format_time(procedure, "short", locale=code)
    assert done["text"] == renderer.text(
        "proc.done", code, {"procedure_date": expected_date, "procedure_time": expected_time}
    )
    clock.set(dt.datetime(2026, 11, 23, 10, 10, tzinfo=dt.UTC))
    await running.dispatcher.settle()
    (fasting,) = reminder_messages(telegram, chat)
    food_stop = format_time(dt.datetime(2026, 11, 23, 10, 10, tzinfo=dt.UTC), "short", locale=code)
    assert fasting["text"] == renderer.text("rem.fasting_all", code, {"food_stop_time": food_stop})
    assert food_stop in fasting["text"]
    assert fasting["reply_markup"]["inline_keyboard"][0][0]["text"] == labels["rem.got_it"]


@pytest.mark.parametrize("code", TRANSLATIONS)
async def test_language_switches_mid_flow_without_losing_the_place(
    code: str, telegram: FakeBotAPI, running: RunningBot, content: Content
) -> None:
    english, other = content.locales["en"].labels, content.locales[code].labels
    renderer = running.wiring.renderer
    patient = Patient(telegram, 900 + LANGUAGES.index(code))
    await patient.send("/start")
    await patient.press(english["menu.candidacy"])
    await patient.press(english["btn.start"])
    await patient.press(english["btn.dont_know"])
    (choose,) = await patient.send("/language")
    assert choose["text"] == renderer.text("lang.choose", "en")
    assert other["lang.name"] in patient.labels()
    (changed,) = await patient.press_and_read(other["lang.name"])
    question = screen_text(content, renderer, "candidacy", "q_cause", code)
    assert changed["text"] == renderer.text("lang.changed", code) + "\n\n" + question, "same question"
    shown = await patient.press(other["btn.dont_know"])
    assert shown["text"] == screen_text(content, renderer, "candidacy", "q_pain", code)


@pytest.mark.parametrize("code", TRANSLATIONS)
async def test_the_command_menu_is_registered_in_each_language(
    code: str, telegram: FakeBotAPI, running: RunningBot, content: Content
) -> None:
    described = {c["command"]: c["description"] for c in telegram.commands[("default", code)]}
    assert described["language"] == content.locales[code].labels["cmd.language"]
