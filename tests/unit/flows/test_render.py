"""Rendering: clinic numbers and the clinic's own blood-thinner words reach the patient's text."""

from __future__ import annotations

from flows.content import Content
from flows.render import (
    MAX_TEXT,
    RenderedButton,
    RenderedMessage,
    Renderer,
    clinic_params,
    fold,
    telegram_length,
)

TIMES = {"procedure_date": "Tuesday, November 24, 2026", "procedure_time": "9:30\u202fAM"}


def test_the_week_before_reminder_carries_the_clinics_own_blood_thinner_words(content: Content) -> None:
    renderer = Renderer(content, clinic_params(content.clinic))
    plain = renderer.text("rem.week_before", "en", TIMES)
    assert plain.startswith("Your treatment is on Tuesday, November 24, 2026 at 9:30\u202fAM.")
    assert plain.endswith("diabetes medicines on the day."), "no empty paragraph without clinic words"
    clinic = content.clinic.model_copy(update={"blood_thinner_text": "Our nurse will call you about them."})
    with_words = renderer.text("rem.week_before", "en", clinic_params(clinic) | TIMES)
    assert with_words == plain + "\n\nOur nurse will call you about them."


def test_clinic_numbers_fill_the_fasting_text(content: Content) -> None:
    clinic = content.clinic.model_copy(update={"fasting_food_hours": 6.0, "fasting_fluid_hours": 2.5})
    params = clinic_params(clinic)
    assert (params["fasting_food_hours"], params["fasting_fluid_hours"]) == ("6", "2.5")


MENU = RenderedMessage("What would you like to know?", (RenderedButton("About", "m.0"),))


def test_a_plain_leading_message_folds_into_the_one_after_it_buttons_and_all() -> None:
    assert fold([RenderedMessage("Hello."), MENU]) == [
        RenderedMessage("Hello.\n\nWhat would you like to know?", MENU.buttons)
    ]
    assert fold([RenderedMessage("Hello."), RenderedMessage("Paused."), MENU]) == [
        RenderedMessage("Hello.\n\nPaused.\n\nWhat would you like to know?", MENU.buttons)
    ]


def test_buttons_edits_and_what_telegram_cannot_take_in_one_message_stay_apart() -> None:
    after_buttons = [MENU, RenderedMessage("Paused.")]
    assert fold(after_buttons) == after_buttons, "buttons stay under the last words"
    edited = [RenderedMessage("Kept.", edit=True), MENU]
    assert fold(edited) == edited, "an edit of the pressed message stays an edit"
    into_edit = [RenderedMessage("Hello."), RenderedMessage("Step", edit=True)]
    assert fold(into_edit) == into_edit
    long = RenderedMessage("x" * (MAX_TEXT - len(MENU.text) - 1))
    assert fold([long, MENU]) == [long, MENU], "over 4096 characters together"
    fits = RenderedMessage("x" * (MAX_TEXT - len(MENU.text) - 2))
    assert len(fold([fits, MENU])[0].text) == MAX_TEXT


def test_messages_fold_only_while_telegram_s_count_in_utf16_units_fits() -> None:
    """An emoji outside the Basic Multilingual Plane is one character to Python, two to Telegram."""
    faces = RenderedMessage("\U0001f600" * 1500)  # 1500 characters, 3000 to Telegram
    words = RenderedMessage("x" * 1500, MENU.buttons)
    assert fold([faces, words]) == [faces, words], "4502 to Telegram: over its limit together"
    assert telegram_length(faces.text) == 3000
