"""A patient who blocks the bot: nothing more is sent, and their clinic sees they cannot be reached.
When they come back (unblock it, or write again), the reminders still to come come back too."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.db.store import Transaction
from bot.services.procedures import notice

STOPPED_WHILE_BLOCKED = "proc.stopped_while_blocked"


@dataclass(frozen=True)
class Return:
    """What came back when a patient became reachable again."""

    back: int = 0  # reminders planned again, to go at their times
    missed: int = 0  # reminders whose time passed while the bot was blocked: not sent
    told: bool = False  # nothing could come back, so the patient is told how to get reminders


def patient_blocked(tx: Transaction, user_id: int, now: dt.datetime) -> int:
    """Cancel the patient's pending reminders and mark their procedures unreachable; how many cancelled."""
    return tx.patient_data.mark_unreachable(user_id, now)


def patient_returned(tx: Transaction, user_id: int, now: dt.datetime) -> Return:
    """The patient can be reached again: their clinic sees it, and the reminders their block
    stopped are planned again when their time is still to come (never those another change
    cancelled: a moved or cancelled procedure, /forget). If none can come back though some were
    stopped, one message says so and how to get reminders again (sent like a reminder)."""
    tx.patient_data.mark_reachable(user_id)
    back, missed = tx.patient_data.resume_stopped(user_id, now)
    if back or not missed:
        return Return(back, missed)
    procedure = tx.reminders.procedure(user_id)
    if procedure is None:
        return Return(back, missed)
    tx.reminders.add_plan(procedure.id, user_id, [notice(STOPPED_WHILE_BLOCKED, now)])
    return Return(back, missed, told=True)
