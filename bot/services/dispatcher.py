"""The reminder dispatcher: claims due rows, sends them within Telegram's limits, records outcomes."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Callable

from bot.db.reminder_claims import ReminderClaims
from bot.db.reminder_repo import ClaimedReminder, Reminders
from bot.db.store import Store, Transaction, utcnow
from bot.services.ratelimit import SendBudget
from bot.services.reachability import patient_blocked
from bot.services.reminder_text import render_reminder
from bot.services.sender import RejectedError, RetryLaterError, Sender, TransientError, UnreachableError
from flows.models import ClinicSettings
from flows.render import Renderer

log = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(minutes=5)
RECHECK_AFTER = dt.timedelta(seconds=1)  # a turn that took longer: is the reminder still to go?


def _nothing() -> None:
    pass


class Dispatcher:
    """Sends due reminders; every claim, send and outcome goes through the database.

    A claimed row carries a lease. If this process dies, the lease runs out and any instance
    claims the row again, so nothing is lost; only the one message in flight at the moment
    of death can go twice, because rows are sent one at a time and marked sent at once.
    """

    def __init__(
        self,
        store: Store,
        sender: Sender,
        renderer: Renderer,
        clinic: ClinicSettings,
        *,
        budget: SendBudget | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        batch: int = 50,
        idle_seconds: float = 5.0,
        backoff_base: float = 2.0,
        on_pass: Callable[[], None] | None = None,
        on_sent: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.sender = sender
        self.renderer = renderer
        self.clinic = clinic
        self.budget = budget or SendBudget()
        self.clock = clock
        self.lease = lease
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.backoff_base = backoff_base
        # Readiness hears that the loop runs, metrics that a reminder went (bot/services/health.py).
        self.on_pass = on_pass or _nothing
        self.on_sent = on_sent or _nothing
        self.instance = uuid.uuid4().hex[:8]
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()  # set while waiting with nothing due: tests wait on it
        self._passes = 0  # passes begun
        self._idle_after = 0  # the pass that last found nothing more to do
        self.sent = 0
        self._stop: asyncio.Event | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set; sleeps until the next due row or a wake-up.

        On `stop` the send in flight finishes and the rows still claimed go back to pending, so
        another instance (or the next start) sends them at once instead of after the lease."""
        self._stop = stop
        try:
            await self._loop(stop)
        finally:
            try:
                released = await self.store.run(lambda tx: ReminderClaims(tx.conn).release(self.instance))
            except Exception:  # the leases run out instead: nothing is lost, only delayed
                log.exception("claimed reminders could not be released on shutdown")
            else:
                if released:
                    log.info("%s claimed reminders released on shutdown", released)

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            # Cleared before looking, so a wake-up that comes while dispatching is not lost.
            self.wake.clear()
            self._passes += 1
            this_pass = self._passes
            self.on_pass()
            try:
                if await self.dispatch_due():
                    continue
                wait = await self._seconds_to_next_due()
            except Exception:
                # The database or the network failed for now: log it, keep the loop alive.
                log.exception("reminder dispatch failed; trying again shortly")
                wait = self.idle_seconds
            self._idle_after = this_pass
            self.idle.set()
            waiters = {asyncio.ensure_future(self.wake.wait()), asyncio.ensure_future(stop.wait())}
            _, pending = await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            self.idle.clear()

    async def settle(self) -> None:
        """Wake the dispatcher and wait until it has handled everything due (for tests and tools).

        Only a pass begun after this call counts: one already under way (on PostgreSQL the loop
        runs while it waits for the database) may have read the clock before it moved."""
        wanted = self._passes + 1
        self.wake.set()
        while self._idle_after < wanted:
            self.idle.clear()
            await self.idle.wait()

    async def _seconds_to_next_due(self) -> float:
        next_due = await self.store.run(lambda tx: tx.reminders.next_due())
        if next_due is None:
            return self.idle_seconds
        return min(self.idle_seconds, max(0.0, (next_due - self.clock()).total_seconds()))

    async def dispatch_due(self) -> int:
        """Claim and handle one batch of due reminders; returns how many were handled."""
        now = self.clock()
        # Never hold more rows than can be sent in half a lease, so a lease never runs out
        # while its rows are still waiting in this process.
        limit = max(1, min(self.batch, int(self.budget.rate * self.lease.total_seconds() / 2)))
        claimed = await self.store.run(
            lambda tx: tx.reminders.claim_due(now, lease=self.lease, limit=limit, sender=self.instance)
        )
        # A sent reminder is recorded while the next one takes its turn; all before the next
        # claim (and before `run` releases what is left).
        recording: list[asyncio.Future[None]] = []
        try:
            for reminder in claimed:
                if self._stopping():  # the rest are released by `run`
                    break
                await self._deliver(reminder, recording)
        finally:
            await asyncio.gather(*recording)
        return len(claimed)

    async def _deliver(
        self, reminder: ClaimedReminder, recording: list[asyncio.Future[None]] | None = None
    ) -> None:
        """Send one claimed reminder and record the outcome (a sent one into `recording`, to be
        awaited by the caller, if given)."""
        if reminder.paused:
            await self._record(lambda r: r.mark_skipped(reminder.id, "paused by the patient"))
            return
        try:
            message = render_reminder(self.renderer, self.clinic, reminder, self.clock())
        except Exception:  # one broken reminder (content, clinic settings) must not block the queue
            log.exception("reminder %s could not be rendered", reminder.id)
            await self._record(lambda r: r.mark_failed(reminder.id, "could not be rendered"))
            return
        # Cancelled, paused or taken over by another sender since the claim: do not send. Asked
        # while the turn is taken, so the database's answer does not delay the send.
        asked = self.clock()
        mine, _ = await asyncio.gather(
            self._still_mine(reminder, asked), self.budget.turn(reminder.chat_id, background=True)
        )
        if self._stopping():
            return
        now = self.clock()
        if now > reminder.deadline:  # checked after waiting for our turn: never late
            await self._record(lambda r: r.mark_skipped(reminder.id, "too late to be useful"))
            return
        if mine and now - asked > RECHECK_AFTER:  # the turn took long (a 429 pause): ask again
            mine = await self._still_mine(reminder, now)
        if not mine:
            log.info("reminder %s changed while waiting; not sent by this sender", reminder.id)
            return
        try:
            message_id = await self.sender.send(reminder.chat_id, message)
        except RetryLaterError as exc:
            await self.budget.halt(exc.seconds)
            when = self.clock() + dt.timedelta(seconds=exc.seconds)
            await self._record(lambda r: r.retry_at(reminder.id, when, "429 flood control"))
        except UnreachableError as exc:
            await self._unreachable(reminder, str(exc))
        except TransientError as exc:
            await self._retry_with_backoff(reminder, str(exc))
        except RejectedError as exc:
            reason = f"refused by Telegram: {exc}"
            await self._record(lambda r: r.mark_failed(reminder.id, reason))
        else:
            sent_at = self.clock()
            done = self._record(lambda r: r.mark_sent(reminder.id, message_id=message_id, now=sent_at))
            if recording is None:
                await done
            else:
                recording.append(asyncio.ensure_future(done))
            self.sent += 1
            self.on_sent()
            self.on_pass()
            log.info("reminder %s (%s) sent to user %s", reminder.id, reminder.key, reminder.user_id)

    async def _still_mine(self, reminder: ClaimedReminder, now: dt.datetime) -> bool:
        return await self.store.run(
            lambda tx: tx.reminders.still_mine(reminder.id, self.instance, now, self.lease)
        )

    async def _unreachable(self, reminder: ClaimedReminder, reason: str) -> None:
        log.warning("reminder %s: user %s unreachable; their reminders stop", reminder.id, reminder.user_id)

        now = self.clock()

        def stop(tx: Transaction) -> None:
            tx.reminders.mark_failed(reminder.id, reason)
            patient_blocked(tx, reminder.user_id, now)

        await self.store.run(stop)

    async def _retry_with_backoff(self, reminder: ClaimedReminder, reason: str) -> None:
        delay = min(
            dt.timedelta(seconds=self.backoff_base * 2 ** min(reminder.attempts - 1, 12)), MAX_BACKOFF
        )
        when = self.clock() + delay
        if when > reminder.deadline:
            await self._record(
                lambda r: r.mark_failed(reminder.id, f"not delivered before its deadline: {reason}")
            )
        else:
            await self._record(lambda r: r.retry_at(reminder.id, when, reason))

    async def _record(self, change: Callable[[Reminders], None]) -> None:
        await self.store.run(lambda tx: change(tx.reminders))
