"""Where a self-service patient's procedure is: the place question, typed places, clock changes."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.content import Content
from flows.engine import Event, FlowEngine, Session
from flows.outcome import ScheduleProcedure
from flows.render import Renderer, clinic_params
from flows.zones import exists, find_zone, offered_zones

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("typed", "locale", "zone"),
    [
        ("Istanbul", "en", "Europe/Istanbul"),
        ("istanbul", "tr", "Europe/Istanbul"),
        ("İSTANBUL", "tr", "Europe/Istanbul"),
        ("Türkiye", "tr", "Europe/Istanbul"),
        ("turkiye", "tr", "Europe/Istanbul"),
        ("Turkey", "en", "Europe/Istanbul"),  # the old zone name stands for today's
        ("София", "bg", "Europe/Sofia"),
        ("sofia", "bg", "Europe/Sofia"),
        ("България", "bg", "Europe/Sofia"),
        ("Bulgaria", "en", "Europe/Sofia"),
        ("I am in Sofia, Bulgaria", "en", "Europe/Sofia"),
        ("Germany", "en", "Europe/Berlin"),  # a country on one clock
        ("Almanya", "tr", "Europe/Berlin"),
        ("new york", "en", "America/New_York"),
        ("Europe/Sofia", "en", "Europe/Sofia"),
        ("Asia/Istanbul", "en", "Europe/Istanbul"),
    ],
)
def test_a_typed_city_or_country_names_its_zone(typed: str, locale: str, zone: str) -> None:
    assert find_zone(typed, locale) == zone


@pytest.mark.parametrize(
    "typed", ["", "my clinic", "the hospital near me", "USA", "12:30", "EST", "CET", "Factory", "Zulu"]
)
def test_a_place_that_is_not_one_or_not_one_clock_is_not_guessed(typed: str) -> None:
    assert find_zone(typed, "en") is None


def test_the_clinics_of_the_patients_language_are_offered_first() -> None:
    zones = ["Europe/London", "Europe/Istanbul", "Europe/Sofia", "Europe/Sofia", "Not/AZone"]
    assert offered_zones(zones, "tr") == ("Europe/Istanbul", "Europe/London", "Europe/Sofia")
    assert offered_zones(zones, "bg") == ("Europe/Sofia", "Europe/London", "Europe/Istanbul")


def test_the_hour_skipped_when_clocks_go_forward_does_not_exist() -> None:
    # Bulgaria, 28 March 2027: at 03:00 the clocks go to 04:00.
    assert not exists(dt.datetime(2027, 3, 28, 3, 30), "Europe/Sofia")  # noqa: DTZ001 - wall time
    assert exists(dt.datetime(2027, 3, 28, 2, 30), "Europe/Sofia")  # noqa: DTZ001
    assert exists(dt.datetime(2027, 3, 28, 4, 0), "Europe/Sofia")  # noqa: DTZ001
    assert exists(dt.datetime(2026, 10, 25, 3, 30), "Europe/Sofia")  # noqa: DTZ001 - twice, but real


def _ids(outcome_replies: tuple) -> list[str]:  # type: ignore[type-arg]
    return [line.text_id for reply in outcome_replies for line in reply.lines]


def _press(engine: FlowEngine, session: Session, label_id: str, event: Event) -> list[str]:
    data = next(b.data for b in engine.view(session, event).buttons if b.label_id == label_id)
    return _ids(engine.handle(session, Event("button", data, now=event.now, zone=event.zone), "en").replies)


def test_without_a_clinic_zone_the_patient_names_the_place_then_the_date_and_time(content: Content) -> None:
    engine = FlowEngine(content)
    session = Session("procedure", "intro")
    asked = Event("text", now=NOW, zones=("Europe/Sofia", "Europe/Istanbul"))
    assert _press(engine, session, "proc.btn.set", asked) == ["proc.ask_zone"]
    shown = engine.view(session, asked)
    renderer = Renderer(content, clinic_params(content.clinic))
    labels = [renderer.render(shown, "tr").buttons[i].label for i in range(2)]
    assert labels == ["Sofya", "İstanbul"]  # the clinics' places, in the patient's language

    unknown = engine.handle(session, Event("text", "my clinic", now=NOW), "en")
    assert _ids(unknown.replies)[0] == "proc.unclear_zone"
    assert session.state == "zone"

    named = engine.handle(session, Event("text", "Sofia", now=NOW), "en")
    assert _ids(named.replies) == ["proc.ask_date"]
    engine.handle(session, Event("text", "18.12", now=NOW), "en")
    timed = engine.handle(session, Event("text", "11:30", now=NOW), "en")
    assert timed.effects == (ScheduleProcedure(dt.datetime(2026, 12, 18, 11, 30), "Europe/Sofia"),)  # noqa: DTZ001


def test_a_zone_button_is_taken_and_a_forged_one_is_refused(content: Content) -> None:
    engine = FlowEngine(content)
    session = Session("procedure", "zone")
    event = Event("text", now=NOW, zones=("Europe/Istanbul",))
    forged = engine.view(session, event).buttons[0].data.replace("Europe/Istanbul", "Mars/Olympus")
    assert engine.handle(session, Event("button", forged, now=NOW), "en").notice == "bot.stale_button"
    tapped = engine.view(session, event).buttons[0].data
    assert _ids(engine.handle(session, Event("button", tapped, now=NOW), "en").replies) == ["proc.ask_date"]
    assert session.answers["procedure"]["zone"] == "Europe/Istanbul"


def test_with_a_clinic_zone_the_place_is_not_asked(content: Content) -> None:
    engine = FlowEngine(content)
    session = Session("procedure", "intro")
    clinic = Event("text", now=NOW, zone="Europe/Istanbul")
    assert _press(engine, session, "proc.btn.set", clinic) == ["proc.ask_date"]
    engine.handle(session, Event("text", "18.12", now=NOW, zone="Europe/Istanbul"), "en")
    timed = engine.handle(session, Event("text", "9:00", now=NOW, zone="Europe/Istanbul"), "en")
    assert timed.effects == (ScheduleProcedure(dt.datetime(2026, 12, 18, 9, 0), "Europe/Istanbul"),)  # noqa: DTZ001


def test_dates_are_read_in_the_named_place(content: Content) -> None:
    engine = FlowEngine(content)
    session = Session("procedure", "date", {"procedure": {"zone": "Asia/Tokyo"}})
    late = dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.UTC)  # already 5 December in Tokyo
    assert engine.view(session, Event("text", now=late)).buttons[0].day == dt.date(2026, 12, 5)
    engine.handle(session, Event("text", "today", now=late), "en")
    assert session.answers["procedure"]["date"] == "2026-12-05"


def test_a_time_the_clocks_skip_is_refused_with_the_reason(content: Content) -> None:
    engine = FlowEngine(content)
    session = Session("procedure", "time", {"procedure": {"zone": "Europe/Sofia", "date": "2027-03-28"}})
    gap = engine.handle(session, Event("text", "3:30", now=NOW), "en")
    assert _ids(gap.replies)[0] == "proc.time_gap"
    assert not gap.effects
    assert session.state == "time"
    fine = engine.handle(session, Event("text", "4:30", now=NOW), "en")
    assert fine.effects == (ScheduleProcedure(dt.datetime(2027, 3, 28, 4, 30), "Europe/Sofia"),)  # noqa: DTZ001


def test_a_date_typed_before_the_place_is_known_asks_for_the_place(content: Content) -> None:
    engine = FlowEngine(content)
    session = Session("procedure", "date")  # a step reached before the place question existed
    outcome = engine.handle(session, Event("text", "25.12", now=NOW), "en")
    assert _ids(outcome.replies) == ["proc.ask_zone"]
    assert not outcome.effects
    assert session.state == "zone"
