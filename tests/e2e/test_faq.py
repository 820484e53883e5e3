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
    await patient.send("/start", replies=2)
    answer, menu = await patient.send("can I drive myself home afterwards?", replies=2)
    assert answer["text"] == answer_text(content, renderer, "drive")
    assert "Do not drive that day" in answer["text"]
    assert "reply_markup" not in answer or not answer["reply_markup"].get("inline_keyboard")
    assert menu["text"] == renderer.text("menu.intro", "en")
    assert patient.labels()[0] == content.locales["en"].labels["menu.about"]


async def test_a_vague_question_offers_topics_and_tapping_one_answers_it(
    telegram: FakeBotAPI, content: Content, renderer: Renderer
) -> None:
    patient = Patient(telegram, 302)
    await patient.send("/start", replies=2)
    question = "blorp zzz qwerty"
    found = FlowEngine(content).faq["en"].match(question)
    assert not found.confident
    not_sure, menu = await patient.send(question, replies=2)
    assert not_sure["text"] == renderer.text("faq.not_sure", "en")
    assert "the phone number on your appointment letter" in not_sure["text"]
    buttons = [b for row in not_sure["reply_markup"]["inline_keyboard"] for b in row]
    labels = content.locales["en"].labels
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        (labels[f"faq.topic.{t}"], f"{FAQ_PREFIX}{t}") for t in found.closest
    ]
    assert menu["text"] == renderer.text("menu.intro", "en")

    before = len(telegram.bot_messages(302))
    await patient.press_data(not_sure["message_id"], buttons[1]["callback_data"])
    await telegram.wait_for(lambda: len(telegram.bot_messages(302)) >= before + 2, 10, what="the answer")
    answer, again = telegram.bot_messages(302)[before : before + 2]
    assert answer["text"] == answer_text(content, renderer, found.closest[1])
    assert again["text"] == renderer.text("menu.intro", "en")
