"""The bot killed with SIGKILL while sending a batch of reminders loses none on restart."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

from bot.db.store import Store, utcnow
from bot.testing.fake_bot_api import FakeBotAPI
from tests.databases import database_url
from tests.support import delivered, kill, schedule_due_now, start_process

PATIENTS = 30


async def test_sigkill_mid_batch_then_restart_every_reminder_arrives(
    telegram: FakeBotAPI, tmp_path: Path
) -> None:
    database = tmp_path / "crash.db"
    store = Store(database_url(database))
    await store.migrate()
    await schedule_due_now(store, telegram, PATIENTS, utcnow())
    await store.close()
    # Slow sending and short leases, so the kill lands mid-batch and the restart soon takes over.
    env = {"VERTEBROBOT_SEND_RATE": "5", "VERTEBROBOT_REMINDER_LEASE_SECONDS": "2"}

    process = await start_process(telegram, database, env)
    try:
        await telegram.wait_for(lambda: len(delivered(telegram)) >= 10, 30, what="ten reminders sent")
    finally:
        await kill(process)
    before_restart = len(delivered(telegram))
    assert before_restart < PATIENTS, "the kill came in the middle of the batch"

    process = await start_process(telegram, database, env)
    try:
        await telegram.wait_for(lambda: len(delivered(telegram)) == PATIENTS, 60, what="every reminder sent")
    finally:
        process.send_signal(signal.SIGTERM)  # a clean stop records the last outcome
        assert await asyncio.wait_for(process.wait(), 30) == 0

    counts = delivered(telegram)
    assert sorted(counts) == list(range(1, PATIENTS + 1)), "none lost"
    twice = [rid for rid, n in counts.items() if n > 1]
    assert len(twice) <= 1, f"at most the one in flight at the kill went twice, not {twice}"
    assert max(counts.values()) <= 2
    store = Store(database_url(database))
    statuses: Counter[str] = Counter()
    for user in range(1, PATIENTS + 1):
        rows = await store.run(lambda tx, user=user: tx.reminders.for_procedure(user))
        statuses.update(row.status for row in rows)
    await store.close()
    assert statuses == Counter({"sent": PATIENTS})
