"""Every text reads naturally with the default clinic's words and with a clinic's own, in every language."""

from __future__ import annotations

import re

import pytest

from flows.content import Content
from flows.render import Renderer, clinic_params

FULL = {"name": "Acıbadem Spine", "phone": "+90 212 000 00 00", "address": "Main street 1"}
WORD = re.compile(r"\w+")
STEM = 5  # two words in a row sharing their first five letters read as one said twice


def doubled(text: str) -> list[str]:
    """Neighbouring words that repeat each other ("telefon telefona", "kliniğinizi (kliniğiniz)")."""
    words = [w.casefold() for w in WORD.findall(text)]
    return [
        f"{a} {b}"
        for a, b in zip(words, words[1:], strict=False)
        if len(a) >= STEM and len(b) >= STEM and a[:STEM] == b[:STEM]
    ]


@pytest.mark.parametrize("code", ["en", "tr", "bg"])
@pytest.mark.parametrize("clinic", ["default", "full"])
def test_no_text_says_a_word_twice_with_the_default_clinic_or_a_full_one(
    content: Content, code: str, clinic: str
) -> None:
    settings = content.clinic
    if clinic == "full":
        settings = settings.model_copy(update={**FULL, "timezone": "Europe/Istanbul"})
    renderer = Renderer(content, clinic_params(settings))
    found = {
        text_id: doubled(renderer.text(text_id, code))
        for text_id in content.locales[code].texts
        if doubled(renderer.text(text_id, code))
    }
    assert found == {}


def test_the_check_finds_a_doubled_word() -> None:
    assert doubled("на телефон телефона, даден") == ["телефон телефона"]
    assert doubled("kliniğinizi (kliniğiniz) arayın") == ["kliniğinizi kliniğiniz"]
    assert doubled("call your clinic today") == []
