"""Readiness (`/readyz`): the database answers, Telegram was reached within the last minute, the
reminder dispatcher runs; with the pending and overdue reminders.

A signal gone stale is checked afresh before the instance is called unready: Telegram with a call
(getMe) when nothing else reached it within the window, the dispatcher by waking it. So a quiet
webhook instance, or a dispatcher asleep until its next reminder, is still ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from bot.db.health_repo import HealthQueries, ReminderCounts
from bot.db.store import Clock, Store, utcnow

log = logging.getLogger(__name__)
WINDOW = dt.timedelta(minutes=1)
OVERDUE_AFTER = dt.timedelta(minutes=5)
PROBE_SECONDS = 3.0


class Health:
    """What `/readyz` reports; the entry points tell it when Telegram answered and the dispatcher ran."""

    def __init__(self, store: Store, *, clock: Clock = utcnow, window: dt.timedelta = WINDOW) -> None:
        self.store = store
        self.clock = clock
        self.window = window
        self.telegram_at: dt.datetime | None = None
        self.dispatcher_at: dt.datetime | None = None
        # Set by `vertebrobot run`; left unset, the check is not part of readiness (`serve-api`).
        self.telegram_probe: Callable[[], Awaitable[object]] | None = None
        self.dispatcher_task: asyncio.Task[None] | None = None
        self.dispatcher_wake: Callable[[], None] | None = None
        self._beat = asyncio.Event()

    def watch(self, dispatcher: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run the dispatcher as a task readiness watches (a task that ended is a dispatcher gone)."""
        self.dispatcher_task = asyncio.create_task(dispatcher)
        return self.dispatcher_task

    def telegram_reached(self) -> None:
        """The Bot API answered a call."""
        self.telegram_at = self.clock()

    def dispatcher_ran(self) -> None:
        """The dispatcher's loop made a pass (or sent a reminder)."""
        self.dispatcher_at = self.clock()
        self._beat.set()

    def _fresh(self, moment: dt.datetime | None) -> bool:
        return moment is not None and self.clock() - moment <= self.window

    async def reminder_counts(self) -> ReminderCounts:
        """Reminders by status, and the waiting ones more than OVERDUE_AFTER late."""
        before = self.clock() - OVERDUE_AFTER
        return await self.store.run(lambda tx: HealthQueries(tx.conn).reminder_counts(before))

    async def _database(self) -> tuple[bool, ReminderCounts | None]:
        try:
            await self.store.run(lambda tx: HealthQueries(tx.conn).ping())
            return True, await self.reminder_counts()
        except Exception as exc:  # the reason goes in the body; the log says which error
            log.warning("readiness: the database did not answer (%s)", type(exc).__name__)
            return False, None

    async def _telegram(self) -> bool:
        if self._fresh(self.telegram_at) or self.telegram_probe is None:
            return self._fresh(self.telegram_at)
        with contextlib.suppress(Exception):  # unreachable: the body says so
            await asyncio.wait_for(self.telegram_probe(), PROBE_SECONDS)
        return self._fresh(self.telegram_at)

    async def _dispatcher(self) -> bool:
        task = self.dispatcher_task
        if task is None or task.done():
            return False
        if not self._fresh(self.dispatcher_at) and self.dispatcher_wake is not None:
            self._beat.clear()
            self.dispatcher_wake()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._beat.wait(), PROBE_SECONDS)
        return self._fresh(self.dispatcher_at)

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """Whether the instance is ready, and the body saying why (or why not)."""
        reasons: list[str] = []
        database, counts = await self._database()
        checks: dict[str, Any] = {"database": {"ok": database}}
        if not database:
            reasons.append("the database does not answer")
        if self.telegram_probe is not None:
            telegram = await self._telegram()
            checks["telegram"] = {"ok": telegram, "last_reached": _iso(self.telegram_at)}
            if not telegram:
                reasons.append(f"Telegram not reached within the last {self._window_text()}")
        if self.dispatcher_task is not None:
            dispatcher = await self._dispatcher()
            checks["dispatcher"] = {"ok": dispatcher, "last_pass": _iso(self.dispatcher_at)}
            if not dispatcher:
                reasons.append(f"the reminder dispatcher has not run within the last {self._window_text()}")
        if counts is not None:
            # Counts inform; they do not make the instance unready (another instance may be sending).
            checks["reminders"] = {"pending": counts.pending, "overdue": counts.overdue}
        body = {"status": "ready" if not reasons else "unready", "reasons": reasons, "checks": checks}
        return not reasons, body

    def _window_text(self) -> str:
        seconds = int(self.window.total_seconds())
        return "minute" if seconds == 60 else f"{seconds} s"


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
