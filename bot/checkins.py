"""Check-ins after the procedure: the pain score, the warning-sign screen and the comment.

A check-in is a reminder of the plan marked `checkin: true`; its message carries buttons 0-10
(see bot/reminder_text.py). Every later step is a button whose callback data names the
reminder, so the answers need no flow state; only "write a comment" leaves a short-lived
note in the patient's session, so that their next message is taken as the comment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.checkin_repo import CheckinTarget
from bot.store import Transaction, UserRecord
from flows.callbacks import checkin_data
from flows.content import BASE_LOCALE
from flows.models import ClinicSettings, WarningSign
from flows.redflags import SignMatcher
from flows.render import RenderedButton, RenderedMessage, Renderer

PENDING = "_checkin"  # key in the session's answers: the check-in waiting for a comment
COMMENT_WINDOW = dt.timedelta(hours=2)  # a message after this is not taken as the comment
MAX_COMMENT = 1000


@dataclass
class CheckinAnswer:
    """What one check-in button press produced, for the service to send and record."""

    messages: list[RenderedMessage] = field(default_factory=list)
    notice: str | None = None
    clear_buttons: bool = False
    signs: list[str] = field(default_factory=list)  # warning signs to record and alert about
    alert_note: str = ""  # said in the staff alert: where the sign came from
    procedure_id: int | None = None
    session_changed: bool = False  # the session now awaits (or no longer awaits) a comment
    stale: bool = False


def pending_comment(record: UserRecord, now: dt.datetime) -> int | None:
    """Take the check-in awaiting a comment off the session: its reminder id if still in time."""
    note: Any = record.session.answers.pop(PENDING, None)
    if not isinstance(note, dict):
        return None
    try:
        until = dt.datetime.fromisoformat(str(note["until"]))
        reminder = int(note["reminder"])
    except (KeyError, TypeError, ValueError):
        return None
    return reminder if now <= until else None


class CheckinDesk:
    """Turns check-in button presses into stored answers, advice and staff alerts."""

    def __init__(
        self, renderer: Renderer, keys: frozenset[str], pain_sign: str, matchers: Mapping[str, SignMatcher]
    ) -> None:
        self.renderer = renderer
        self.keys = keys
        self.pain_sign = pain_sign
        self.matchers = matchers  # the engine's, built once: signs most urgent first

    def _matcher(self, locale: str) -> SignMatcher | None:
        return self.matchers.get(locale) or self.matchers.get(BASE_LOCALE)

    def signs(self, locale: str) -> list[WarningSign]:
        """The warning signs of a locale, most urgent first, as the screen lists them."""
        matcher = self._matcher(locale)
        return matcher.signs if matcher else []

    def sign(self, locale: str, sign_id: str) -> WarningSign | None:
        """One warning sign of a locale by its id."""
        matcher = self._matcher(locale)
        return matcher.sign(sign_id) if matcher else None

    def press(
        self,
        tx: Transaction,
        record: UserRecord,
        reminder_id: int,
        step: str,
        *,
        clinic: ClinicSettings,
        extra: dict[str, str],
        now: dt.datetime,
    ) -> CheckinAnswer:
        """Handle one press inside the caller's transaction."""
        target = tx.checkins.target(reminder_id, record.user_id, self.keys)
        if target is None:
            return CheckinAnswer(stale=True)
        locale = record.locale

        def say(text_id: str, buttons: tuple[RenderedButton, ...] = ()) -> RenderedMessage:
            return RenderedMessage(self.renderer.text(text_id, locale, extra), buttons)

        answer = CheckinAnswer(alert_note=f" at the {target.key} check-in", procedure_id=target.procedure_id)
        if step.startswith("p"):
            self._pain(tx, record, target, int(step[1:]), clinic=clinic, now=now, answer=answer)
            answer.messages.append(
                say(
                    "checkin.screen",
                    (
                        RenderedButton(
                            self.renderer.text("checkin.yes", locale), checkin_data(reminder_id, "y")
                        ),
                        RenderedButton(
                            self.renderer.text("checkin.no", locale), checkin_data(reminder_id, "n")
                        ),
                    ),
                )
            )
            # The pain advice, when there is some, goes first.
            answer.messages[:0] = [say(text) for text in self._pain_texts(answer, locale)]
            answer.notice = self.renderer.text("checkin.pain_saved", locale)
            answer.clear_buttons = True
        elif step == "y":
            buttons = tuple(
                RenderedButton(
                    self.renderer.text(sign.label, locale), checkin_data(reminder_id, f"s{sign.id}")
                )
                for sign in self.signs(locale)
            )
            answer.messages.append(say("checkin.which", buttons))
            answer.clear_buttons = True
        elif step == "n":
            tx.checkins.add_sign(target, record.user_id, None, now)
            record.session.answers[PENDING] = {
                "reminder": reminder_id,
                "until": (now + COMMENT_WINDOW).isoformat(),
            }
            answer.session_changed = True
            skip = RenderedButton(self.renderer.text("checkin.skip", locale), checkin_data(reminder_id, "x"))
            answer.messages.append(say("checkin.comment_prompt", (skip,)))
            answer.clear_buttons = True
        elif step == "x":
            answer.session_changed = record.session.answers.pop(PENDING, None) is not None
            answer.messages.append(say("checkin.thanks"))
            answer.clear_buttons = True
        else:
            sign = self.sign(locale, step[1:])
            if sign is None:
                return CheckinAnswer(stale=True)
            tx.checkins.add_sign(target, record.user_id, sign.id, now)
            answer.signs.append(sign.id)
            answer.messages.append(say(sign.text))
        return answer

    def _pain(
        self,
        tx: Transaction,
        record: UserRecord,
        target: CheckinTarget,
        pain: int,
        *,
        clinic: ClinicSettings,
        now: dt.datetime,
        answer: CheckinAnswer,
    ) -> None:
        tx.checkins.set_pain(target, record.user_id, pain, now)
        tx.reminders.acknowledge(target.reminder_id, record.user_id, now)
        previous = tx.checkins.previous_pain(target)
        severe = pain >= clinic.pain_severe_from
        rising = previous is not None and pain - previous >= clinic.pain_rise_alert
        if severe or rising:
            was = f", {previous}/10 at the check-in before" if previous is not None else ""
            answer.signs.append(self.pain_sign)
            answer.alert_note = f" at the {target.key} check-in: pain {pain}/10{was}"

    def _pain_texts(self, answer: CheckinAnswer, locale: str) -> list[str]:
        if self.pain_sign not in answer.signs:
            return []
        sign = self.sign(locale, self.pain_sign)
        return [sign.text] if sign else []

    def store_comment(
        self, tx: Transaction, record: UserRecord, reminder_id: int, text: str, now: dt.datetime
    ) -> bool:
        """Keep a comment for the clinic under the check-in it answers."""
        target = tx.checkins.target(reminder_id, record.user_id, self.keys)
        if target is None:
            return False
        tx.checkins.set_comment(target, record.user_id, text.strip()[:MAX_COMMENT], now)
        return True
