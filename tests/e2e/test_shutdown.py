"""`vertebrobot run` stopped by SIGTERM mid-batch: the send in flight ends, the rest go back to pending."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

from bot.db.store import Store, utcnow
from bot.testing.fake_bot_api import FakeBotAPI
from tests.databases import database_url
from tests.support import delivered, schedule_due_now, start_process

PATIENTS = 20


async def statuses(database: Path) -> Counter[str]:
    store = Store(database_url(database))
    counted: Counter[str] = Counter()
    for user in range(1, PATIENTS + 1):
        rows = await store.run(lambda tx, user=user: tx.reminders.for_procedure(user))
        counted.update(row.status for row in rows)
    await store.close()
    return counted


async def test_sigterm_mid_batch_sends_none_twice_and_gives_the_claimed_rest_back(
    telegram: FakeBotAPI, tmp_path: Path
) -> None:
    database = tmp_path / "shutdown.db"
    store = Store(database_url(database))
    await store.migrate()
    await schedule_due_now(store, telegram, PATIENTS, utcnow())
    await store.close()
    # Slow sending and a long lease: the whole batch is claimed at once and still held at SIGTERM.
    env = {"VERTEBROBOT_SEND_RATE": "3", "VERTEBROBOT_REMINDER_LEASE_SECONDS": "600"}

    process = await start_process(telegram, database, env)
    try:
        await telegram.wait_for(lambda: len(delivered(telegram)) >= 3, 30, what="three reminders sent")
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 30) == 0

    sent = len(delivered(telegram))
    assert sent < PATIENTS, "SIGTERM came in the middle of the batch"
    assert max(delivered(telegram).values()) == 1
    # Every message that arrived is recorded as sent; no row is left claimed by the stopped process.
    assert await statuses(database) == Counter({"sent": sent, "pending": PATIENTS - sent})
