"""Nothing kept forever: each clinic's `retention_days` after a procedure (or its cancellation),
its patient's data is purged; the procedure and its warning signs stay, unlinked, to be counted.
`vertebrobot run` purges hourly, `vertebrobot purge` once.

A retention shorter than the reminder plan loses nothing: a scheduled procedure's data also stays
until a day (ANSWER_TIME) after the deadline of its last planned reminder, so every reminder is sent
and the last check-in (the week-after one) can still be answered. A long retention is unchanged:
the data goes `retention_days` after the procedure, the plan long done by then.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from functools import partial

from bot.db.retention_repo import Removed
from bot.db.store import Store, Transaction, utcnow
from bot.services.clinic_model import SYSTEM

log = logging.getLogger(__name__)
PURGE_EVERY = dt.timedelta(hours=1)
ANSWER_TIME = dt.timedelta(days=1)  # after a reminder's deadline, to press its buttons and answer


class Purger:
    """Purges the data of procedures past their clinic's retention; one transaction per clinic."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        every: dt.timedelta = PURGE_EVERY,
    ) -> None:
        self.store = store
        self.clock = clock
        self.every = every
        self.purged = asyncio.Event()  # set after each purge: tests and tools wait on it

    async def purge(self) -> dict[str, Removed]:
        """Purge every clinic once; what was removed, by clinic slug (clinics with nothing left out)."""
        now = self.clock()
        report: dict[str, Removed] = {}
        for clinic in await self.store.run(lambda tx: tx.clinics.all()):
            before = now - dt.timedelta(days=clinic.settings.retention_days)
            removed = await self.store.run(
                partial(_purge_clinic, clinic_id=clinic.id, before=before, now=now)
            )
            if removed.procedures:
                report[clinic.slug] = removed
                log.info("clinic %s: purged %s", clinic.id, removed.summary())
        self.purged.set()
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Purge now and then every `every`, until `stop` is set."""
        while not stop.is_set():
            try:
                await self.purge()
            except Exception:  # the database failed for now: try again at the next round
                log.exception("purge failed; trying again in %s", self.every)
            try:
                async with asyncio.timeout(self.every.total_seconds()):
                    await stop.wait()
            except TimeoutError:
                pass


def _purge_clinic(tx: Transaction, *, clinic_id: int, before: dt.datetime, now: dt.datetime) -> Removed:
    removed = Removed()
    for procedure_id, user_id in tx.patient_data.finished(clinic_id, before, now - ANSWER_TIME):
        removed += tx.patient_data.purge(procedure_id, user_id, now)
        tx.audit.add(clinic_id, SYSTEM, "purged", now, procedure_id)
    return removed
