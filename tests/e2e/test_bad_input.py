"""Forged and stale buttons, stickers, photos, long messages and warning signs typed mid-flow."""

from __future__ import annotations

import pytest

from bot.testing.fake_bot_api import FakeBotAPI
from flows.content import Content
from flows.engine import callback_data
from flows.render import Renderer, clinic_params
from tests.e2e.conftest import Patient

pytestmark = pytest.mark.usefixtures("bot")


@pytest.fixture
def renderer(content: Content) -> Renderer:
    return Renderer(content, clinic_params(content.clinic))


@pytest.fixture
async def patient(telegram: FakeBotAPI) -> Patient:
    patient = Patient(telegram, 201)
    await patient.send("/start")
    return patient


def toast_for(telegram: FakeBotAPI, count: int) -> list[str | None]:
    return [answer.get("text") for answer in telegram.callback_answers[-count:]]


@pytest.mark.parametrize(
    "data",
    [
        "x" * 64,
        "../../etc/passwd",
        "deadbeef.0",
        callback_data("menu", "main", 99),
        callback_data("candidacy", "q_nerve", 0),  # a real button of a state the patient is not in
        "\u00e9\u00e9\u00e9",
        callback_data("menu", "main", 0)[:-1] + "\u00b2",  # a superscript two: isdigit() but not int()
        "ack.\u00b2",
        "ack." + "9" * 40,
        "ack.999999",  # no such reminder
    ],
)
async def test_forged_button_data_is_answered_politely_and_changes_nothing(
    data: str, telegram: FakeBotAPI, patient: Patient, renderer: Renderer, content: Content
) -> None:
    menu = patient.screen()
    before = len(telegram.bot_messages(201))
    await patient.press_data(menu["message_id"], data, expect_answer=False)
    assert toast_for(telegram, 1) == [renderer.text("bot.stale_button", "en")]
    assert len(telegram.bot_messages(201)) == before, "no message was sent or replaced"
    assert patient.screen() == menu
    # The patient's real buttons still work afterwards.
    shown = await patient.press(content.locales["en"].labels["menu.about"])
    assert shown["text"].startswith(renderer.text("about.what", "en")[:20])


async def test_stale_button_from_an_older_message(
    telegram: FakeBotAPI, patient: Patient, renderer: Renderer, content: Content
) -> None:
    labels = content.locales["en"].labels
    old_menu = patient.screen()
    await patient.press(labels["menu.about"])
    about_page = patient.screen()
    about_button = old_menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await patient.press_data(old_menu["message_id"], about_button, expect_answer=False)
    assert toast_for(telegram, 1) == [renderer.text("bot.stale_button", "en")]
    assert patient.screen() == about_page


@pytest.mark.parametrize("kind", ["sticker", "photo"])
async def test_stickers_and_photos_get_a_kind_answer(
    kind: str, telegram: FakeBotAPI, patient: Patient, renderer: Renderer
) -> None:
    before = patient.answers()
    if kind == "sticker":
        telegram.user_sends_sticker(201)
    else:
        telegram.user_sends_photo(201)
    await telegram.wait_for(lambda: patient.answers() >= before + 1, 10)
    reply = telegram.bot_messages(201)[-1]
    assert reply["text"] == renderer.text("bot.non_text", "en"), "one message: no copy of the menu's words"
    assert patient.labels(), "the menu buttons are offered on the answer itself"
    assert patient.answers() == before + 1


async def test_a_4000_character_message_gets_a_helpful_answer(patient: Patient, renderer: Renderer) -> None:
    (reply,) = await patient.send("please help " * 333, replies=1)
    # Not a question the FAQ can answer: it says so, names the clinic's phone and offers topics,
    # with the menu's buttons under them.
    assert reply["text"] == renderer.text("faq.not_sure", "en")
    data = [row[0]["callback_data"] for row in reply["reply_markup"]["inline_keyboard"]]
    assert data[0].startswith("faq."), "the closest topics come first"
    assert not data[-1].startswith("faq."), "then the menu's own buttons"


async def test_unknown_command(patient: Patient, renderer: Renderer) -> None:
    (reply,) = await patient.send("/doctor")
    assert reply["text"] == renderer.text("bot.unknown_command", "en") + "\n\n" + renderer.text(
        "menu.intro", "en"
    )
    assert reply["reply_markup"]["inline_keyboard"], "the menu's buttons come with it"


@pytest.mark.parametrize(
    ("typed", "sign"),
    [
        ("my legs went numb", "red.legs"),
        ("I have chest pain", "red.chest"),
        ("can't pee since this morning", "red.bladder"),
        ("I think I have a fever", "red.fever"),
    ],
)
async def test_warning_sign_typed_in_the_middle_of_the_checklist(
    typed: str, sign: str, telegram: FakeBotAPI, patient: Patient, renderer: Renderer, content: Content
) -> None:
    labels = content.locales["en"].labels
    await patient.press(labels["menu.prepare"])
    checklist = await patient.press(labels["btn.next"])
    (urgent,) = await patient.send(typed, replies=1)
    assert urgent["text"].startswith(renderer.text(sign, "en")), "the guidance comes first"
    assert urgent["text"].endswith(checklist["text"]), "the patient keeps their place"
    assert patient.labels()[0].startswith("\u2b1c ")


async def test_the_warning_sign_is_recorded_by_id_only(telegram: FakeBotAPI, patient: Patient, bot) -> None:  # type: ignore[no-untyped-def]
    await patient.send("I can't breathe properly", replies=1)
    assert await bot.wiring.store.run(lambda tx: tx.warning_signs(201)) == ["breathless"]


async def test_logs_hold_ids_never_message_texts_or_names(
    telegram: FakeBotAPI, patient: Patient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    telegram.user_sends_text(202, "/start", first_name="Zeynep")
    await patient.send("My name is Zeynep and my chest pain is back", replies=1)
    await telegram.wait_for(lambda: len(telegram.bot_messages(202)) >= 1, 10)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "warning sign chest_pain reported by user 201" in logged
    assert "Zeynep" not in logged
    assert "chest pain is back" not in logged


async def test_a_warning_sign_in_a_photo_caption_is_heard(
    telegram: FakeBotAPI, patient: Patient, renderer: Renderer
) -> None:
    before = patient.answers()
    telegram.user_sends_photo(201, caption="my legs went numb after this")
    await telegram.wait_for(lambda: patient.answers() >= before + 1, 10)
    urgent = telegram.bot_messages(201)[-1]
    assert urgent["text"] == renderer.text("red.legs", "en")
