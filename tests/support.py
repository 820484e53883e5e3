"""Helpers several test files share: one fake clock, reading reminders off the fake Bot API,
running `vertebrobot run` as a real process, and a batch of reminders due now."""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import os
import signal
import sys
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from bot.db.store import Store, UserRecord
from bot.testing.fake_bot_api import FakeBotAPI
from flows.callbacks import ACK_PREFIX, AckPress, parse
from flows.outcome import Session
from flows.planning import PlannedReminder
from tests.databases import database_url
from tests.e2e.conftest import TOKEN


class FakeClock:
    """The bot's wall clock, moved by the test instead of waited for."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, moment: dt.datetime) -> None:
        self.now = moment


class VirtualTime:
    """A send budget's clock and sleep: time moves only when the budget waits (and lets other
    tasks run), so nothing waits for real."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class SharedVirtualTime:
    """A clock and sleep for tasks that run side by side: time moves to the next wake-up only
    when every task is asleep, so each one's sleeps overlap the others' as in real time."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._wakeups: list[tuple[float, int, asyncio.Future[None]]] = []
        self._count = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._wakeups, (self.now + max(0.0, seconds), next(self._count), future))
        await future

    async def run(self, *work: Coroutine[Any, Any, None]) -> None:
        """Run the coroutines together until all are done, moving time as they sleep."""
        tasks = [asyncio.ensure_future(w) for w in work]
        while not all(t.done() for t in tasks):
            await asyncio.sleep(0)  # let the others run (and finish any database call)
            asleep = sum(1 for _, _, f in self._wakeups if not f.done())
            if self._wakeups and asleep == sum(1 for t in tasks if not t.done()):
                when, _, future = heapq.heappop(self._wakeups)
                self.now = max(self.now, when)
                future.set_result(None)
        await asyncio.gather(*tasks)


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def reminder_messages(server: FakeBotAPI, chat: int) -> list[dict[str, Any]]:
    """The bot's messages in a chat that carry a "Got it" button."""
    return [
        m
        for m in server.bot_messages(chat)
        if any(b.get("callback_data", "").startswith(ACK_PREFIX) for b in _buttons(m))
    ]


def delivered(server: FakeBotAPI, chats: int = 40) -> Counter[int]:
    """How many times each reminder id reached its chat (messages Telegram accepted)."""
    ids: Counter[int] = Counter()
    for chat in range(1, chats + 1):
        for message in server.bot_messages(chat):
            for button in _buttons(message):
                press = parse(button["callback_data"])
                if isinstance(press, AckPress):
                    ids[press.reminder] += 1
    return ids


async def schedule_due_now(store: Store, server: FakeBotAPI, patients: int, now: dt.datetime) -> None:
    """One reminder for each patient, all due now; the chats exist on the fake server."""
    for user in range(1, patients + 1):
        server.user_has_started(user)
        planned = PlannedReminder(
            key="fasting_food",
            message="rem.fasting_all",
            due_at=now,
            deadline=now + dt.timedelta(hours=2),
            about_at=now,
            moved=False,
            status="pending",
        )

        def add(tx, user: int = user, planned: PlannedReminder = planned) -> None:  # type: ignore[no-untyped-def]
            tx.save_user(UserRecord(user, user, "en", Session("menu", "main"), is_new=True))
            tx.reminders.schedule(
                user, now + dt.timedelta(hours=3), "UTC", [planned], source="clinic", now=now
            )

        await store.run(add)


async def start_process(
    server: FakeBotAPI, database: Path, extra_env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """`vertebrobot run` as a real process; returns once it is polling the fake server."""
    polls = sum(1 for name, _ in server.calls if name == "getUpdates")
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "DATABASE_URL": database_url(database),
        "VERTEBROBOT_HTTP_PORT": "0",  # any free port: tests may run beside other servers
        **(extra_env or {}),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.entrypoints.cli",
        "run",
        env=env,
        cwd=database.parent,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    await server.wait_for(
        lambda: sum(1 for name, _ in server.calls if name == "getUpdates") > polls, 30, what="bot polling"
    )
    return process


async def kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL: no clean shutdown, like a crash or a pulled plug."""
    process.send_signal(signal.SIGKILL)
    await process.wait()
