"""Check-ins after the procedure, as pure steps: what each press shows and which effects it asks for.

A check-in is a reminder of the plan marked `checkin: true`; its message carries buttons 0-10.
Every later step is a button naming the reminder, so the answers need no flow state; only "no
sign" leaves a short-lived note in the session, so that the patient's next message is taken as
their comment for the clinic.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flows.callbacks import CheckinPress, checkin_data
from flows.outcome import (
    CheckinContext,
    Outcome,
    RecordPain,
    RecordSign,
    ReportSign,
    Session,
    StoreComment,
    stale,
)
from flows.reading_models import WarningSign
from flows.replies import Button, Line, Reply

PENDING = "_checkin"  # key in the session's answers: the check-in waiting for a comment
COMMENT_WINDOW = dt.timedelta(hours=2)  # a message after this is not taken as the comment
MAX_COMMENT = 1000


def pain_alert(pain: int, previous: int | None, *, severe_from: int, rise_alert: int) -> bool:
    """Whether a pain score needs the advice and a staff alert: at or above the clinic's severe
    score, or this much higher than the check-in before (F-red5: severe or increasing pain)."""
    return pain >= severe_from or (previous is not None and pain - previous >= rise_alert)


def awaited_comment(session: Session, now: dt.datetime) -> int | None:
    """The check-in whose comment the session waits for, if still in time (the note stays)."""
    note: Any = session.answers.get(PENDING)
    if not isinstance(note, dict):
        return None
    try:
        until = dt.datetime.fromisoformat(str(note["until"]))
        reminder = int(note["reminder"])
    except (KeyError, TypeError, ValueError):
        return None
    return reminder if now <= until else None


def press(
    session: Session,
    pressed: CheckinPress,
    context: CheckinContext | None,
    *,
    signs: list[WarningSign],
    pain_sign: str,
    now: dt.datetime,
) -> Outcome:
    """One check-in button: what to show, and what to record (effects)."""
    if context is None:
        return stale()
    target, reminder, step = context.target, pressed.reminder, pressed.step
    note = f" at the {target.key} check-in"
    if step.startswith("p"):
        pain = int(step[1:])
        effects: tuple[Any, ...] = (RecordPain(target, pain),)
        advice: tuple[Reply, ...] = ()
        if pain_alert(
            pain, context.previous_pain, severe_from=context.severe_from, rise_alert=context.rise_alert
        ):
            was = (
                f", {context.previous_pain}/10 at the check-in before"
                if context.previous_pain is not None
                else ""
            )
            effects += (ReportSign(pain_sign, f"{note}: pain {pain}/10{was}", target.procedure_id),)
            advice = tuple(Reply((Line(s.text),)) for s in signs if s.id == pain_sign)
        screen = Reply(
            (Line("checkin.screen"),),
            (
                Button("checkin.yes", checkin_data(reminder, "y")),
                Button("checkin.no", checkin_data(reminder, "n")),
            ),
        )
        warned = pain_sign if len(effects) > 1 else None
        return Outcome(
            (*advice, screen),
            notice="checkin.pain_saved",
            warning_sign=warned,
            changed=False,
            effects=effects,
            clear_buttons=True,
        )
    if step == "y":
        buttons = tuple(Button(sign.label, checkin_data(reminder, f"s{sign.id}")) for sign in signs)
        return Outcome((Reply((Line("checkin.which"),), buttons),), changed=False, clear_buttons=True)
    if step == "n":
        session.answers[PENDING] = {"reminder": reminder, "until": (now + COMMENT_WINDOW).isoformat()}
        skip = Button("checkin.skip", checkin_data(reminder, "x"))
        return Outcome(
            (Reply((Line("checkin.comment_prompt"),), (skip,)),),
            effects=(RecordSign(target, None),),
            clear_buttons=True,
        )
    if step == "x":
        waited = session.answers.pop(PENDING, None) is not None
        return Outcome((Reply((Line("checkin.thanks"),)),), changed=waited, clear_buttons=True)
    sign = next((s for s in signs if s.id == step[1:]), None)
    if sign is None:
        return stale()
    return Outcome(
        (Reply((Line(sign.text),)),),
        warning_sign=sign.id,
        changed=False,
        effects=(RecordSign(target, sign.id), ReportSign(sign.id, note, target.procedure_id)),
    )


def comment(context: CheckinContext, text: str) -> StoreComment:
    """The patient's message after "no sign": kept for the clinic, trimmed to a bounded length."""
    return StoreComment(context.target, text.strip()[:MAX_COMMENT])
