"""A patient who blocks the bot: nothing more is sent, and their clinic sees they cannot be reached."""

from __future__ import annotations

import datetime as dt

from bot.db.store import Transaction


def patient_blocked(tx: Transaction, user_id: int, now: dt.datetime) -> int:
    """Cancel the patient's pending reminders and mark their procedures unreachable; how many cancelled."""
    cancelled = tx.reminders.stop_for_user(user_id, "patient unreachable")
    tx.patient_data.mark_unreachable(user_id, now)
    return cancelled


def patient_returned(tx: Transaction, user_id: int) -> None:
    """The patient unblocked the bot: their clinic sees them reachable again (reminders stay stopped)."""
    tx.patient_data.mark_reachable(user_id)
