"""Flood control per user: faster than a person can read is a flood, and a flood is not answered.

A patient who sends more than `messages` messages within `seconds` is flooding: they are told
once to slow down, and what else they send in the burst is dropped until they pause for
`seconds`; then the count starts again and the next message is handled. The caller lets a
warning sign through whatever the pace (see `worrying`).

Messages are counted by when the patient sent them (Telegram's `date`, whole seconds), not by
when they are handled: a backlog delivered at once after a restart, an outage or a 429 pause is
not a flood. Dates are whole seconds, so a span under `seconds` reads as one under `seconds` + 1:
more than `messages` with dates that close is a flood (every real flood is caught; six messages
spread over just under four seconds are caught too). A pause is a gap of `seconds` or more
between two dates.
In memory, per process: a flood is one user's burst, seen by the instance that receives it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from flows.redflags import SignMatcher

SWEEP_FROM = 1024  # users remembered before the quiet ones are forgotten
CALM_KEPT = 64  # texts of a burst known to name no warning sign, not read again


@dataclass
class _Burst:
    sent: deque[int]  # the dates of the burst's last messages (seconds since the epoch)
    warned: bool = False
    locale: str | None = None  # the patient's language, read once a burst
    calm: set[str] = field(default_factory=set)


@dataclass
class FloodGuard:
    """Counts each user's messages in a sliding window of their send times (whole seconds)."""

    messages: int = 5
    seconds: float = 3.0
    _users: dict[int, _Burst] = field(default_factory=dict)
    _sweep_at: int = SWEEP_FROM

    def flooding(self, user_id: int, sent_at: int) -> bool:
        """Count a message the user sent at `sent_at` (Telegram's date); whether it is more than
        `messages` within `seconds`."""
        burst = self._users.get(user_id)
        if burst is None:
            if len(self._users) >= self._sweep_at:
                self._sweep(sent_at)
            burst = self._users[user_id] = _Burst(deque(maxlen=self.messages + 1))
        elif sent_at - burst.sent[-1] >= self.seconds:
            # The patient paused: whatever came before is over, this message starts afresh.
            burst.sent.clear()
        burst.sent.append(sent_at)
        full = len(burst.sent) > self.messages and sent_at - burst.sent[0] < self.seconds + 1
        if not full:
            # A pace a person reads at: the next flood is a new one.
            burst.warned, burst.locale = False, None
            burst.calm.clear()
        return full

    def first_dropped(self, user_id: int) -> bool:
        """Whether this is the first message of the user's flood to be dropped: they are told once."""
        burst = self._users.get(user_id)
        if burst is None or burst.warned:
            return False
        burst.warned = True
        return True

    def locale(self, user_id: int) -> str | None:
        """The language noted for the user's burst, if any."""
        burst = self._users.get(user_id)
        return burst.locale if burst else None

    def note_locale(self, user_id: int, locale: str) -> None:
        """Note the user's language for the rest of their burst (read from the store once)."""
        if (burst := self._users.get(user_id)) is not None:
            burst.locale = locale

    def known_calm(self, user_id: int, text: str) -> bool:
        """Whether this very text was read in the burst and named no warning sign (a flood
        often repeats itself: the triage, the costly part, is done once)."""
        burst = self._users.get(user_id)
        return burst is not None and text in burst.calm

    def note_calm(self, user_id: int, text: str) -> None:
        """Remember a text of the burst that names no warning sign."""
        burst = self._users.get(user_id)
        if burst is not None and len(burst.calm) < CALM_KEPT:
            burst.calm.add(text)

    def _sweep(self, now: int) -> None:
        """Forget the users who have been quiet for the window (memory stays bounded)."""
        self._users = {
            user: burst for user, burst in self._users.items() if now - burst.sent[-1] < self.seconds
        }
        self._sweep_at = max(SWEEP_FROM, 2 * len(self._users))


def worrying(matcher: SignMatcher | None, text: str) -> bool:
    """Whether the warning-sign triage in the patient's language gives urgent guidance or asks
    about a sign (well under a millisecond). Read as after the procedure, where more alarms.

    Only the patient's own language: the learned layer of another one reads a greeting in the
    wrong script as a hunch, and would let most of a flood through."""
    if matcher is None:
        return False
    return matcher.triage(text, after_procedure=True).action in ("urgent", "ask_one", "ask_any")
