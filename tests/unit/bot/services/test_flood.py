"""Flood control per user: more than a person can read is a flood; told once; warning signs read."""

from __future__ import annotations

import pytest

from bot.services.flood import SWEEP_FROM, FloodGuard, worrying
from flows.content import Content
from flows.redflags import SignMatcher

SENT = 1_800_000_000  # a message's date: seconds since the epoch, whole seconds as Telegram gives them


def test_five_messages_in_three_seconds_pass_and_the_sixth_is_a_flood_told_once() -> None:
    guard = FloodGuard(messages=5, seconds=3.0)
    assert [guard.flooding(1, SENT) for _ in range(5)] == [False] * 5
    assert guard.flooding(1, SENT)
    assert guard.first_dropped(1), "told to slow down"
    assert guard.flooding(1, SENT)
    assert not guard.first_dropped(1), "once a burst"
    assert not guard.flooding(2, SENT), "another patient is not held up"


def test_six_messages_within_three_seconds_are_a_flood_whichever_whole_seconds_they_fall_in() -> None:
    """Sent at 0.9, 1.5, 2.0, 2.5, 3.0 and 3.8 s: 2.9 s apart, dated 0 to 3."""
    guard = FloodGuard(messages=5, seconds=3.0)
    dates = [SENT, SENT + 1, SENT + 2, SENT + 2, SENT + 3]
    assert [guard.flooding(1, d) for d in dates] == [False] * 5
    assert guard.flooding(1, SENT + 3)


def test_a_pace_a_person_reads_at_is_never_a_flood() -> None:
    guard = FloodGuard(messages=5, seconds=3.0)
    for n in range(50):
        assert not guard.flooding(1, SENT + n)  # one a second: five take five seconds


def test_a_backlog_sent_minutes_apart_and_delivered_at_once_is_not_a_flood() -> None:
    """After a restart, an outage or a 429 pause the updates arrive together; the patient sent
    them one by one."""
    guard = FloodGuard(messages=5, seconds=3.0)
    assert not any(guard.flooding(1, SENT + 60 * n) for n in range(20))


def test_after_a_pause_as_long_as_the_window_the_patient_is_heard_and_a_new_flood_told_again() -> None:
    guard = FloodGuard(messages=5, seconds=3.0)
    for _ in range(20):
        guard.flooding(1, SENT)
    assert guard.first_dropped(1)
    assert guard.flooding(1, SENT + 1), "still too fast: the burst goes on"
    assert not guard.flooding(1, SENT + 4), "quiet for three seconds: heard"
    for _ in range(5):
        guard.flooding(1, SENT + 4)
    assert guard.first_dropped(1)


def test_the_first_message_after_the_patient_paused_is_heard_though_the_burst_was_in_the_window() -> None:
    """Told to slow down, the patient waits and writes again: not dropped without a word."""
    guard = FloodGuard(messages=5, seconds=3.0)
    for second in (0, 0, 1, 1, 2, 2):  # a flood over three seconds
        guard.flooding(1, SENT + second)
    assert guard.first_dropped(1)
    assert not guard.flooding(1, SENT + 5), "three seconds after the last one: a new start"
    assert not guard.flooding(1, SENT + 6)


def test_a_text_read_as_calm_in_a_burst_is_known_until_the_burst_ends() -> None:
    guard = FloodGuard(messages=5, seconds=3.0)
    for _ in range(6):
        guard.flooding(1, SENT)
    guard.note_calm(1, "hello?")
    assert guard.known_calm(1, "hello?")
    assert not guard.known_calm(1, "I have chest pain"), "only the very text"
    assert not guard.known_calm(2, "hello?"), "only the patient's own burst"
    guard.flooding(1, SENT + 3)
    assert not guard.known_calm(1, "hello?"), "a new burst reads again"


def test_quiet_users_are_forgotten_so_memory_stays_bounded() -> None:
    guard = FloodGuard(messages=5, seconds=3.0)
    for user in range(SWEEP_FROM):
        guard.flooding(user, SENT)
    guard.flooding(10**9, SENT + 3)
    assert len(guard._users) == 1


@pytest.fixture(scope="module")
def matchers(content: Content) -> dict[str, SignMatcher]:
    return {code: SignMatcher(loc.signs, loc.examples) for code, loc in content.locales.items() if loc.signs}


@pytest.mark.parametrize(
    ("code", "text", "alarming"),
    [
        ("en", "I have chest pain", True),
        ("tr", "göğsümde ağrı var", True),
        ("bg", "краката ми изтръпнаха", True),
        ("en", "my legs went numb", True),
        ("en", "hello 4", False),
        ("bg", "здравейте", False),
        ("tr", "merhaba", False),
        ("en", "thank you", False),
    ],
)
def test_a_message_that_names_a_warning_sign_in_the_patients_language_is_worrying(
    matchers: dict[str, SignMatcher], code: str, text: str, alarming: bool
) -> None:
    assert worrying(matchers[code], text) is alarming
    assert not worrying(None, text), "no signs in the content: nothing to read"
