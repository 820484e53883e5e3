"""The send budget: never more than the rate in any one-second window, chats spaced, 429 pauses."""

from __future__ import annotations

import asyncio

from bot.services.ratelimit import SendBudget
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
