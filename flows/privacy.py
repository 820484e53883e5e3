"""The patient's own data, as pure steps: /forget asks once and deletes only on the answer to
that very question; /mydata reads the session's answers and ticks back by the flows' content.

The question leaves a note in the session (a nonce and until when it holds): "Delete" is obeyed
only with the nonce of the newest question, in time, once. An older or forged press deletes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flows.callbacks import ForgetPress, forget_data
from flows.models import FlowSpec
from flows.outcome import ExportData, ForgetPatient, Outcome, Session
from flows.replies import Button, Line, Reply

PENDING = "_forget"  # key in the session's answers: the /forget question waiting for its answer
FORGET_WINDOW = dt.timedelta(minutes=15)  # a "Delete" pressed later than this is asked again
FORGET_STALE = "forget.stale"


def ask(session: Session, now: dt.datetime | None) -> Outcome:
    """/forget: what deleting means, with "Delete" and "Keep"; a newer question voids older ones.

    The nonce is made from how many times this patient was asked and when, so no two questions
    of one patient share it, even within one moment.
    """
    moment = now or dt.datetime.now(dt.UTC)
    note: Any = session.answers.get(PENDING)
    asked = int(note.get("asked", 0)) + 1 if isinstance(note, dict) else 1
    nonce = hashlib.blake2s(f"{asked}/{moment.isoformat()}".encode(), digest_size=6).hexdigest()
    until = (moment + FORGET_WINDOW).isoformat()
    session.answers[PENDING] = {"asked": asked, "nonce": nonce, "until": until}
    buttons = (Button("forget.btn.delete", forget_data(nonce)), Button("forget.btn.keep", forget_data(None)))
    return Outcome((Reply((Line("forget.confirm"),), buttons),))


def _close(session: Session) -> None:
    """No question open any more; how many were asked is kept, so the next nonce is new."""
    note: Any = session.answers.get(PENDING)
    if isinstance(note, dict):
        session.answers[PENDING] = {"asked": note.get("asked", 0)}


def _awaited(session: Session, nonce: str, now: dt.datetime | None) -> bool:
    """Whether the session's question has this nonce and is still in time."""
    note: Any = session.answers.get(PENDING)
    if not isinstance(note, dict) or now is None or note.get("nonce") != nonce:
        return False
    try:
        return now <= dt.datetime.fromisoformat(str(note["until"]))
    except (KeyError, TypeError, ValueError):
        return False


def answer(
    session: Session, press: ForgetPress, now: dt.datetime | None, menu: Callable[[], Reply]
) -> Outcome:
    """The answer to the /forget question: "Delete" (this question's, in time) deletes everything;
    "Keep" deletes nothing and shows the menu; anything else is refused and deletes nothing."""
    if press.nonce is None:
        _close(session)
        return Outcome((Reply((Line("forget.kept"),), edit=True), menu()))
    if not _awaited(session, press.nonce, now):
        return Outcome((), notice=FORGET_STALE, changed=False)
    _close(session)
    # The pressed question becomes the confirmation; the session is not saved: it is deleted.
    return Outcome((Reply((Line("forget.done"),), edit=True),), changed=False, effects=(ForgetPatient(),))


def export() -> Outcome:
    """/mydata: the service reads and sends what is kept."""
    return Outcome((), changed=False, effects=(ExportData(),))


@dataclass(frozen=True)
class Answered:
    """A question of a flow the patient answered: the question's text id and the answer's label id."""

    flow: str
    key: str
    value: str
    question: str
    label: str


@dataclass(frozen=True)
class Ticked:
    """A checklist item the patient ticked: its id and label id."""

    flow: str
    item: str
    label: str


def answers_given(answers: Mapping[str, Any], flows: Mapping[str, FlowSpec]) -> list[Answered]:
    """The answers kept in a session's answers, each with its question and the chosen button's label."""
    found: dict[tuple[str, str], Answered] = {}
    for name, spec in flows.items():
        given = answers.get(name)
        if not isinstance(given, dict):
            continue
        for state in spec.states.values():
            value = given.get(state.answer) if state.answer else None
            if state.answer is None or not isinstance(value, str) or (name, state.answer) in found:
                continue
            label = next((b.label for b in state.buttons if b.value == value), value)
            found[name, state.answer] = Answered(name, state.answer, value, state.say[0], label)
    return list(found.values())


def ticks_given(answers: Mapping[str, Any], flows: Mapping[str, FlowSpec]) -> list[Ticked]:
    """The checklist items ticked in a session's answers, in the order of the flows' lists."""
    found: list[Ticked] = []
    for name, spec in flows.items():
        given = answers.get(name)
        if not isinstance(given, dict):
            continue
        for state_name, state in spec.states.items():
            ticked = given.get(state_name)
            if not isinstance(ticked, list):
                continue
            found.extend(
                Ticked(name, item.id, item.label) for item in state.checklist or () if item.id in ticked
            )
    return found
