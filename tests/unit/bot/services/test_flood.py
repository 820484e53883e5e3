"""Flood control per user: more than a person can read is a flood; told once; warning signs read."""

from __future__ import annotations

import pytest

from bot.services.flood import SWEEP_FROM, FloodGuard, worrying
from flows.content import Content
from flows.redflags import SignMatcher


class Seconds:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_five_messages_in_three_seconds_pass_and_the_sixth_is_a_flood_told_once() -> None:
    clock = Seconds()
    guard = FloodGuard(messages=5, seconds=3.0, clock=clock)
    assert [guard.flooding(1) for _ in range(5)] == [False] * 5
    assert guard.flooding(1)
    assert guard.first_dropped(1), "told to slow down"
    assert guard.flooding(1)
    assert not guard.first_dropped(1), "once a burst"
    assert not guard.flooding(2), "another patient is not held up"


def test_a_pace_a_person_reads_at_is_never_a_flood() -> None:
    clock = Seconds()
    guard = FloodGuard(messages=5, seconds=3.0, clock=clock)
    for _ in range(50):
        assert not guard.flooding(1)
        clock.now += 0.61  # five messages take just over three seconds


def test_after_a_pause_as_long_as_the_window_the_patient_is_heard_and_a_new_flood_told_again() -> None:
    clock = Seconds()
    guard = FloodGuard(messages=5, seconds=3.0, clock=clock)
    for _ in range(20):
        guard.flooding(1)
    assert guard.first_dropped(1)
    clock.now += 1.0
    assert guard.flooding(1), "still too fast: the burst goes on"
    clock.now += 3.0
    assert not guard.flooding(1)
    for _ in range(5):
        guard.flooding(1)
    assert guard.first_dropped(1)


def test_a_text_read_as_calm_in_a_burst_is_known_until_the_burst_ends() -> None:
    clock = Seconds()
    guard = FloodGuard(messages=5, seconds=3.0, clock=clock)
    for _ in range(6):
        guard.flooding(1)
    guard.note_calm(1, "hello?")
    assert guard.known_calm(1, "hello?")
    assert not guard.known_calm(1, "I have chest pain"), "only the very text"
    assert not guard.known_calm(2, "hello?"), "only the patient's own burst"
    clock.now += 3.0
    guard.flooding(1)
    assert not guard.known_calm(1, "hello?"), "a new burst reads again"


def test_quiet_users_are_forgotten_so_memory_stays_bounded() -> None:
    clock = Seconds()
    guard = FloodGuard(messages=5, seconds=3.0, clock=clock)
    for user in range(SWEEP_FROM):
        guard.flooding(user)
    clock.now += 3.0
    guard.flooding(10**9)
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
