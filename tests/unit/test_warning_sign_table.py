"""Warning signs from a table of phrasings, in every state of every flow, in every language."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.content import Content
from flows.engine import Event, FlowEngine, Session

TABLES = Path(__file__).resolve().parent.parent / "fixtures" / "warning_signs"
# The patient's local wall time (naive on purpose, as the engine takes it), for states reading a date or time.
NOW = dt.datetime(2026, 11, 23, 10, 0)  # noqa: DTZ001


def table(code: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((TABLES / f"{code}.yaml").read_text(encoding="utf-8"))
    return loaded


def every_state(content: Content) -> list[Session]:
    return [Session(flow, state) for flow, spec in content.flows.items() for state in spec.states]


LANGUAGES = ["en", "tr", "bg"]


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_tables_are_big_enough(code: str) -> None:
    rows = table(code)
    assert len(rows["alarms"]) >= 80
    assert len([r for r in rows["ordinary"] if not r.get("ambiguous")]) >= 80


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_alarm_is_recognised_in_every_state_of_every_flow(code: str, content: Content) -> None:
    engine = FlowEngine(content)
    signs = {sign.id: sign.text for sign in content.locales[code].signs.signs}  # type: ignore[union-attr]
    missed = []
    for session in every_state(content):
        for row in table(code)["alarms"]:
            outcome = engine.handle(
                Session(session.flow, session.state), Event("text", row["text"], NOW), code
            )
            if (
                outcome.warning_sign != row["sign"]
                or outcome.replies[0].lines[0].text_id != signs[row["sign"]]
            ):
                missed.append((session.flow, session.state, row["text"], outcome.warning_sign))
    assert missed == []


@pytest.mark.parametrize("code", LANGUAGES)
def test_ordinary_messages_are_not_emergencies_and_never_meet_silence(code: str, content: Content) -> None:
    engine = FlowEngine(content)
    false_alarms = []
    for session in every_state(content):
        for row in table(code)["ordinary"]:
            outcome = engine.handle(
                Session(session.flow, session.state), Event("text", row["text"], NOW), code
            )
            assert outcome.replies, f"silence for {row['text']!r} in {session}"
            if outcome.warning_sign and not row.get("ambiguous"):
                false_alarms.append((session.flow, session.state, row["text"], outcome.warning_sign))
    assert false_alarms == []
