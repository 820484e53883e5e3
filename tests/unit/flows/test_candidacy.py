"""The questionnaire result for twelve kinds of patient: what comes first, and no "fits" that misleads."""

from __future__ import annotations

from typing import Any

import pytest

from flows.candidacy import evaluate_candidacy
from flows.content import Content

URGENT, CHECK, FITS = "cand.result.urgent", "cand.result.check", "cand.result.fits"
TYPICAL: dict[str, Any] = {
    "fracture": "yes",
    "cause": "osteoporosis",
    "pain": "severe",
    "daily": "a_lot",
    "care": "yes",
    "care_time": "weeks_many",
    "age": "under_6w",
    "infection": "no",
    "bleeding": "no",
    "allergy": "no",
    "nerve": "no",
    "radicular": "no",
    "imaging": "no",
    "pregnant": "no",
}
QUESTIONS = list(TYPICAL)


def persona(**answers: str) -> dict[str, Any]:
    return TYPICAL | answers


# (persona, its answers, the first heading, a text the first section must hold, whether "fits" may show)
PERSONAS: list[tuple[str, dict[str, Any], str, str, bool]] = [
    (
        "recent osteoporotic break on a blood thinner",
        persona(bleeding="yes"),
        CHECK,
        "cand.chk.bleeding",
        True,
    ),
    (
        "old healed break",
        persona(pain="mild", daily="a_little", age="over_6m"),
        CHECK,
        "cand.chk.age_old",
        True,
    ),
    ("fever now", persona(infection="yes"), URGENT, "red.fever", True),
    ("new leg numbness", persona(nerve="yes"), URGENT, "cand.urg.nerve", True),
    ("numbness for years", persona(nerve="old"), CHECK, "cand.chk.nerve_old", True),
    ("allergic to contrast dye", persona(allergy="yes"), CHECK, "cand.chk.allergy", True),
    (
        "I don't know, to everything",
        dict.fromkeys(QUESTIONS, "unknown"),
        CHECK,
        "cand.chk.fracture_unknown",
        False,
    ),
    ("myeloma", persona(cause="cancer"), CHECK, "cand.chk.cancer", True),
    ("big collapse with a broken back wall", persona(imaging="yes"), CHECK, "cand.chk.imaging", True),
    ("pain shooting down a leg", persona(radicular="yes"), CHECK, "cand.chk.radicular", True),
    ("pregnant", persona(pregnant="yes"), CHECK, "cand.chk.pregnant", True),
    ("no break found", persona(fracture="no"), CHECK, "cand.chk.no_fracture", False),
]


def sections(content: Content, answers: dict[str, Any]) -> dict[str, list[str]]:
    """The result's headings, in order, each with the texts under it."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in evaluate_candidacy(content.rules, answers).lines():
        if line.text_id.startswith("cand.result."):
            current = line.text_id
            out[current] = []
        elif current:
            out[current].append(line.text_id)
    return out


@pytest.mark.parametrize(
    ("name", "answers", "first", "holds", "fits_allowed"), PERSONAS, ids=[p[0] for p in PERSONAS]
)
def test_each_persona_sees_first_what_matters_most(
    content: Content, name: str, answers: dict[str, Any], first: str, holds: str, fits_allowed: bool
) -> None:
    result = sections(content, answers)
    assert next(iter(result)) == first
    assert holds in result[first]
    if not fits_allowed:
        assert FITS not in result
    if FITS in result:  # what fits never comes before what the doctor will look at closely
        headings = list(result)
        assert CHECK not in headings or headings.index(CHECK) < headings.index(FITS)


def test_fever_in_the_questionnaire_gets_the_same_advice_as_typed(content: Content) -> None:
    fever = next(s for s in content.locales["en"].signs.signs if s.id == "fever")  # type: ignore[union-attr]
    assert fever.text in sections(content, persona(infection="yes"))[URGENT]


def test_the_urgent_screen_says_to_call_before_anything_else(content: Content) -> None:
    for code in ("en", "tr", "bg"):
        first_paragraph = content.locales[code].texts["cand.urgent"].split("\n\n")[0]
        assert "{emergency_number}" in first_paragraph
