"""The send budget: never more than the rate in any one-second window, chats spaced, 429 pauses."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.exc import OperationalError

from bot.db.send_budget_repo import Turn
from bot.services.ratelimit import LATE, SendBudget, SharedSendBudget
from tests.support import VirtualTime


async def test_no_one_second_window_holds_more_than_the_rate() -> None:
    time = VirtualTime()
    budget = SendBudget(29, chat_interval=1.0, clock=time.clock, sleep=time.sleep)
    sent: list[float] = []
    for chat in range(100):
        await budget.turn(chat)
        sent.append(time.now)
    for index in range(len(sent) - 29):
        assert sent[index + 29] - sent[index] >= 1.0, "the 30th message waits for the window"
    assert sent[-1] < 100 / 29 + 1, "and the rate is used, not wasted"


async def test_a_reminder_keeps_a_second_from_the_chat_s_last_message() -> None:
    time = VirtualTime()
    budget = SendBudget(29, chat_interval=1.0, clock=time.clock, sleep=time.sleep)
    await budget.turn(7)  # a reply
    await budget.turn(8, background=True)
    await budget.turn(7, background=True)
    assert time.now == 1.0


async def test_a_reply_is_never_held_for_its_chat() -> None:
    # Updates are handled one after another: holding one patient's reply holds everyone's.
    time = VirtualTime()
    budget = SendBudget(29, chat_interval=1.0, clock=time.clock, sleep=time.sleep)
    await budget.turn(7, background=True)
    await budget.turn(7)
    await budget.turn(7)
    assert time.now == 0.0


async def test_reminders_leave_room_in_the_window_for_replies() -> None:
    time = VirtualTime()
    budget = SendBudget(10, reserve=2, clock=time.clock, sleep=time.sleep)
    for chat in range(8):
        await budget.turn(chat, background=True)
    assert time.now == 0.0
    await budget.turn(100)  # a patient waiting for a reply gets one of the two kept back
    await budget.turn(101)
    assert time.now == 0.0
    await budget.turn(200, background=True)  # the next reminder waits for the window
    assert time.now == 1.0


async def test_retry_after_pauses_every_sender() -> None:
    time = VirtualTime()
    budget = SendBudget(29, clock=time.clock, sleep=time.sleep)
    budget.pause(3)
    await budget.turn(1)
    assert time.now == 3.0


async def test_a_reminder_waits_while_a_reply_is_waiting() -> None:
    now = [0.0]

    def clock() -> float:
        return now[0]

    async def sleep(seconds: float) -> None:  # virtual time that lets the other sender run
        now[0] += seconds / 2
        await asyncio.sleep(0)
        now[0] += seconds / 2
        await asyncio.sleep(0)

    budget = SendBudget(2, reserve=0, clock=clock, sleep=sleep)
    await budget.turn(1, background=True)
    await budget.turn(2, background=True)  # the window is full until t=1
    order: list[str] = []

    async def send(name: str, chat: int, background: bool) -> None:
        await budget.turn(chat, background=background)
        order.append(name)

    await asyncio.gather(send("reminder", 3, True), send("reply", 4, False))
    assert order == ["reply", "reminder"]


class UnreachableDatabase:
    """A store whose database fails every statement, as one that is down or refuses the lock."""

    shared = True

    def __init__(self) -> None:
        self.statements = 0

    async def run(self, work: object) -> object:
        self.statements += 1
        raise OperationalError("UPDATE send_budget", {}, Exception("lock timeout"))

    run_alone = run


class SlowDatabase(UnreachableDatabase):
    """A store whose database answers no statement within the budget's timeout (a held row lock,
    a busy machine): what `asyncio.timeout` raises around the statement."""

    async def run(self, work: object) -> object:
        self.statements += 1
        raise TimeoutError

    run_alone = run


def shared_budget(time: VirtualTime, store: UnreachableDatabase, instances: int = 2) -> SharedSendBudget:
    return SharedSendBudget(
        store,  # type: ignore[arg-type]
        "bot1",
        29,
        instances=instances,
        clock=time.clock,
        sleep=time.sleep,
    )


async def replies_sent_at(budget: SharedSendBudget, time: VirtualTime, count: int) -> list[float]:
    """When each of `count` replies, to chats of their own, went; checked to be at most 29 // 2 a second."""
    sent: list[float] = []
    for chat in range(count):
        await budget.turn(chat)
        sent.append(time.now)
    for index in range(len(sent) - 14):
        assert sent[index + 14] - sent[index] >= 1.0, "at most 29 // 2 a second on its own"
    return sent


async def test_a_send_is_not_lost_when_the_shared_budget_fails_it_goes_at_this_instance_s_share(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time, store = VirtualTime(), UnreachableDatabase()
    budget = shared_budget(time, store, instances=2)
    caplog.set_level(logging.WARNING)
    sent = await replies_sent_at(budget, time, 60)
    assert sent[0] == 0.0, "the first reply goes at once"
    assert store.statements == 1, "the database is asked again only after a while"
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "shared send budget" in warning.getMessage()
    time.now += budget.fallback_seconds
    await budget.turn(1000)
    assert store.statements == 2, "then it is tried again"


async def test_a_reply_the_slow_shared_budget_holds_up_goes_beside_it_and_the_next_send_asks_it_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    time, store = VirtualTime(), SlowDatabase()
    budget = shared_budget(time, store, instances=2)
    caplog.set_level(logging.WARNING)
    sent = await replies_sent_at(budget, time, 30)
    assert sent[0] == 0.0, "the first reply is not held back"
    assert store.statements == 30, "every reply asked the bucket first: one slow answer is no outage"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, "a slow spell is logged once, not once per reply"
    assert "within 0.5 s" in warnings[0].getMessage()


async def test_a_reminder_the_slow_shared_budget_holds_up_sends_this_instance_alone_for_a_while() -> None:
    time, store = VirtualTime(), SlowDatabase()
    budget = shared_budget(time, store, instances=2)
    for chat in range(20):
        await budget.turn(chat, background=True)
    assert store.statements == 1, "having waited PATIENCE times as long, it stops asking for a while"
    time.now += budget.fallback_seconds
    await budget.turn(1000, background=True)
    assert store.statements == 2


class LateAnswers(UnreachableDatabase):
    """A bucket that hands out a turn every 1/28 s from its moment; an answer arrives `delays[n]`
    after its statement ran (this process was busy elsewhere just then)."""

    def __init__(self, time: VirtualTime, delays: list[float]) -> None:
        super().__init__()
        self.time, self.delays, self.next_turn = time, delays, 0.0

    async def run(self, work: object) -> object:
        moment = self.time.now
        self.time.now += self.delays[self.statements]
        self.statements += 1
        turn = max(moment, self.next_turn)
        self.next_turn = turn + 1 / 28
        return Turn(True, turn - moment, moment)

    run_alone = run


async def test_a_turn_whose_answer_came_late_is_given_up_not_sent_bunched_with_the_next_turns() -> None:
    time = VirtualTime(100.0)
    store = LateAnswers(time, [0.0, 0.1, 0.0])
    budget = SharedSendBudget(store, "bot1", 29, wall_clock=time.clock, clock=time.clock, sleep=time.sleep)  # type: ignore[arg-type]
    await budget.turn(1)
    assert time.now == 100.0
    await budget.turn(2)  # its turn was at 100 + 1/28, the answer came at 100.1
    assert budget.turns_given_up == 1, "a turn 65 ms past its moment is not used"
    assert time.now - (100.1 + 1 / 28) <= LATE, "the send goes on a later turn, on time"
    assert store.statements == 3


async def test_a_429_the_database_cannot_record_still_pauses_this_instance_and_raises_nothing() -> None:
    time, store = VirtualTime(), UnreachableDatabase()
    budget = shared_budget(time, store)
    await budget.halt(3)
    await budget.turn(1)
    assert time.now == 3.0
