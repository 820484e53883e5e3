"""The clinic web page's words: the same keys in every language, and the language a request gets."""

from __future__ import annotations

import re

import pytest

from bot.entrypoints.web.words import LANGUAGES, pick_language, words


def test_every_language_has_the_same_words_with_the_same_placeholders() -> None:
    english = words("en")
    for code in LANGUAGES:
        other = words(code)
        assert other.words.keys() == english.words.keys(), code
        assert other.reminders.keys() == english.reminders.keys(), code
        for key, text in english.words.items():
            assert set(re.findall(r"{(\w+)}", other.words[key])) == set(re.findall(r"{(\w+)}", text)), (
                code,
                key,
            )


def test_warning_signs_are_named_as_the_patient_saw_them() -> None:
    assert words("en").sign("fever") == "Fever or chills"
    assert words("tr").sign("fever") == "Ateş ya da titreme"
    assert words("bg").sign("unknown_sign") == "unknown_sign"


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "en"),
        (None, "tr-TR,tr;q=0.9,en-US;q=0.8", "tr"),
        (None, "de-DE,bg;q=0.7,en;q=0.5", "bg"),
        (None, "en;q=0.2,bg;q=0.9", "bg"),
        (None, "fr, de", "en"),
        ("tr", "bg", "tr"),
        ("xx", "bg", "bg"),
        (None, "bg;q=oops,tr", "tr"),
    ],
)
def test_the_chosen_language_wins_then_the_browsers_best(
    cookie: str | None, header: str | None, expected: str
) -> None:
    assert pick_language(cookie, header) == expected
