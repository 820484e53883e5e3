"""Every text reads naturally with the default clinic's words and with a clinic's own, in every language."""

from __future__ import annotations

import itertools
import re

import pytest

from flows.content import Content
from flows.models import ClinicSettings
from flows.render import Renderer, clinic_params

FULL = {"name": "Acıbadem Spine", "phone": "+90 212 000 00 00", "address": "Main street 1"}
WORD = re.compile(r"\w+")
MEANT = {"kendi kendinize", "kendi kendine"}  # Turkish "by yourself": said twice on purpose
SHORTEST = 5  # shorter words ("on", "the") may well follow themselves
# Placeholders of reminder and procedure texts, filled as a patient would see them.
TIMES = {
    "procedure_date": "Thursday, 10 December 2026",
    "procedure_time": "14:30",
    "food_stop_time": "08:30",
    "fluid_stop_time": "10:30",
    "arrive_time": "13:30",
    "leave_time": "12:30",
    "about_time": "08:30",
}


def doubled(text: str) -> list[str]:
    """Neighbouring words where one is the other with an ending added ("телефон телефона",
    "kliniğinizi (kliniğiniz)"): a placeholder's default words repeating the frame around it.
    The same word twice ("yavaş yavaş") is left alone: languages say that on purpose."""
    words = [w.casefold() for w in WORD.findall(text)]
    return [
        f"{a} {b}"
        for a, b in itertools.pairwise(words)
        if min(len(a), len(b)) >= SHORTEST
        and a != b
        and (a.startswith(b) or b.startswith(a))
        and f"{a} {b}" not in MEANT
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
        text_id: doubled(renderer.text(text_id, code, TIMES))
        for text_id in content.locales[code].texts
        if doubled(renderer.text(text_id, code, TIMES))
    }
    assert found == {}


def test_the_check_finds_a_doubled_word() -> None:
    assert doubled("на телефон телефона, даден") == ["телефон телефона"]
    assert doubled("kliniğinizi (kliniğiniz) arayın") == ["kliniğinizi kliniğiniz"]
    assert doubled("call your clinic today") == []
    assert doubled("yavaş yavaş artırın") == []


@pytest.mark.parametrize(
    ("code", "clinic_rule", "usual_rule"),
    [
        (
            "en",
            "Your clinic asks: stop eating at least 5 hours",
            "The usual advice: stop eating at least 6 hours",
        ),
        ("tr", "Kliniğinizin isteği: tedaviden en az 5 saat", "Genel öneri: tedaviden en az 6 saat"),
        (
            "bg",
            "Вашата клиника иска: спрете да ядете поне 5 часа",
            "Обичайният съвет: спрете да ядете поне 6 часа",
        ),
    ],
)
def test_fasting_hours_a_clinic_set_are_its_own_rule_and_the_defaults_are_the_usual_advice(
    content: Content, code: str, clinic_rule: str, usual_rule: str
) -> None:
    clinic = ClinicSettings.given(content.clinic, {"fasting_food_hours": 5, "timezone": "Europe/Istanbul"})
    assert clinic.own_fasting_times
    assert not ClinicSettings.given(content.clinic, {"phone": "+90 212 000 00 00"}).own_fasting_times
    ours = Renderer(content, clinic_params(clinic)).text("prep.fasting", code)
    usual = Renderer(content, clinic_params(content.clinic)).text("prep.fasting", code)
    assert ours.startswith(clinic_rule)
    assert usual.startswith(usual_rule)
    # Only the usual advice says that clinics differ; the clinic's own rule is not called "usual".
    differ = content.locales[code].texts["fasting.outro.usual"]
    assert usual.endswith(differ)
    assert differ not in ours
