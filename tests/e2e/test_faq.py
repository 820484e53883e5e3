"""A patient types questions in Telegram and gets the authored answers, or the closest topics to tap."""

from __future__ import annotations

import pytest

from bot.testing.fake_bot_api import FakeBotAPI
from flows.content import Content
from flows.engine import FlowEngine
from flows.faq import FAQ_PREFIX
from flows.render import Renderer, clinic_params
from tests.e2e.conftest import Patient

pytestmark = pytest.mark.usefixtures("bot")


@pytest.fixture
def renderer(content: Content) -> Renderer:
    return Renderer(content, clinic_params(content.clinic))


def answer_text(content: Content, renderer: Renderer, topic: str) -> str:
    assert content.faq is not None
    texts = next(t.answer for t in content.faq.topics if t.id == topic)
    return "\n\n".join(renderer.text(text_id, "en") for text_id in texts)


async def test_a_typed_question_gets_the_authored_answer_and_the_menu_stays(
    telegram: FakeBotAPI, content: Content, renderer: Renderer
) -> None:
    patient = Patient(telegram, 301)
    await patient.send("/start")
    (answer,) = await patient.send("can I drive myself home afterwards?", replies=1)
    assert answer["text"] == answer_text(content, renderer, "drive")
    assert "Do not drive that day" in answer["text"]
    # One message: the answer, with the menu's buttons on it (not a fresh copy of the menu).
    assert patient.labels()[0] == content.locales["en"].labels["menu.about"]


async def test_a_vague_question_offers_topics_and_tapping_one_answers_it(
    telegram: FakeBotAPI, content: Content, renderer: Renderer
) -> None:
    patient = Patient(telegram, 302)
    await patient.send("/start")
    question = "blorp zzz qwerty"
    found = FlowEngine(content).faq["en"].match(question)
    assert not found.confident
    (not_sure,) = await patient.send(question, replies=1)
    assert not_sure["text"] == renderer.text("faq.not_sure", "en")
    assert "the phone number on your appointment letter" in not_sure["text"]
    buttons = [b for row in not_sure["reply_markup"]["inline_keyboard"] for b in row]
    labels = content.locales["en"].labels
    topics = [(labels[f"faq.topic.{t}"], f"{FAQ_PREFIX}{t}") for t in found.closest]
    assert [(b["text"], b["callback_data"]) for b in buttons][: len(topics)] == topics
    assert buttons[len(topics)]["text"] == labels["menu.about"], "then the menu's own buttons"

    before = len(telegram.bot_messages(302))
    await patient.press_data(not_sure["message_id"], buttons[1]["callback_data"])
    await telegram.wait_for(lambda: len(telegram.bot_messages(302)) >= before + 1, 10, what="the answer")
    answer = telegram.bot_messages(302)[before]
    assert answer["text"] == answer_text(content, renderer, found.closest[1])
    assert answer["reply_markup"]["inline_keyboard"][0][0]["text"] == labels["menu.about"]
