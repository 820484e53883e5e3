"""Two instances on one PostgreSQL share Telegram's limit: 600 reminders due at once.

Two `vertebrobot run` processes (the way a deployment scales out) on one PostgreSQL database,
600 reminders due at the same moment for 600 patients, against the fake Bot API enforcing
Telegram's limits (30 messages a second per bot, one a second per chat, 429 beyond). While they
send, a patient types /menu; how long the reply takes is timed, beside the same with nothing
else going on. Figures: the busiest one-second window of both instances together, the 429s,
lost and duplicated reminders, the reply times. (Before the shared budget, the issue measured
58 messages in one second and 36 429s on this set-up.)

    bash scripts/with-postgres.sh .venv/bin/python bench/scaleout.py [--count 600]

It needs VERTEBROBOT_TEST_DATABASE_URL (a PostgreSQL it may create a database in), which
scripts/with-postgres.sh sets. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import reminders as shared  # bench/reminders.py: the fake, the rows, the bot process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.store import utcnow

INSTANCES = 2
PATIENT = 42  # the chat that types /menu (not one of the reminded patients)
REPLY_TRIES = 5


async def fresh_database(admin_url: str, name: str) -> str:
    """A new empty database beside the one given; its URL."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


async def reply_seconds(server: shared.RecordingBotAPI) -> float:
    """A patient types /menu; the seconds until the bot's answer is accepted by the fake."""
    before = len(server.bot_messages(PATIENT))
    began = time.monotonic()
    server.user_sends_text(PATIENT, "/menu")
    await server.wait_for(lambda: len(server.bot_messages(PATIENT)) > before, 30, what="the reply to /menu")
    return time.monotonic() - began


async def run(count: int) -> None:
    admin = os.environ.get("VERTEBROBOT_TEST_DATABASE_URL", "")
    if not admin.startswith("postgresql"):
        sys.exit("needs VERTEBROBOT_TEST_DATABASE_URL on PostgreSQL: run it through scripts/with-postgres.sh")
    url = await fresh_database(admin, "bench_scaleout")
    now = utcnow().replace(microsecond=0) + dt.timedelta(seconds=20)  # due once both are up
    built = await shared.build_database(
        Path("unused"),
        users=count,
        reminders=count,
        due_at=lambda _i: now,
        procedure_start=now + dt.timedelta(hours=4),
        url=url,
    )
    print(f"{count} reminders for {count} patients due at once, {INSTANCES} instances")
    print(f"  database built in {built:.1f} s")
    with tempfile.TemporaryDirectory(prefix="vertebrobot-scaleout-") as tmp:
        async with shared.RecordingBotAPI(global_rate=shared.TELEGRAM_RATE, per_chat_rate=1) as server:
            for n in range(count):
                server.add_patient(shared.FIRST_USER + n)
            server.add_patient(PATIENT)
            logs = [Path(tmp) / f"bot{i}.log" for i in range(INSTANCES)]
            handles = [path.open("wb") for path in logs]
            bots = [
                await shared.start_bot(server.base_url, Path(tmp), Path(tmp), h, url=url) for h in handles
            ]
            try:
                await server.wait_for(lambda: server.first_poll is not None, 60, what="the first poll")
                idle = [await reply_seconds(server) for _ in range(REPLY_TRIES)]
                await asyncio.sleep(max(0.0, (now - utcnow()).total_seconds()))  # the due moment
                started = time.monotonic()
                await server.wait_for(
                    lambda: len(server.reminders_sent) >= count // 4, 60, what="a quarter sent"
                )
                busy = [await reply_seconds(server) for _ in range(REPLY_TRIES)]
                await server.wait_for(
                    lambda: len({rid for _, rid in server.reminders_sent}) >= count,
                    120,
                    what="every reminder",
                )
                await asyncio.sleep(shared.LATE_DUPLICATES_SECONDS)
            finally:
                for bot in bots:
                    await shared.stop_bot(bot)
                for handle in handles:
                    handle.close()
        times = sorted(t for t, _ in server.reminders_sent)
        delivered = Counter(rid for _, rid in server.reminders_sent)
        span = times[-1] - times[0]
        print(f"  first to last reminder: {span:.1f} s, {(len(times) - 1) / span:.1f} messages/s")
        print(
            f"  busiest 1-s window, both instances together: {shared.busiest_second(times)}"
            f" (Telegram allows {shared.TELEGRAM_RATE})"
        )
        print(f"  429s received: {server.too_many_requests}")
        print(f"  lost: {count - len(delivered)}, duplicated: {sum(1 for n in delivered.values() if n > 1)}")
        print(f"  reply to /menu, nothing else going on: median {statistics.median(idle) * 1000:.0f} ms")
        print(
            f"  reply to /menu while the reminders go out: median {statistics.median(busy) * 1000:.0f} ms,"
            f" slowest {max(busy) * 1000:.0f} ms"
        )
        print(f"  first reminder {times[0] - started:+.1f} s from the due moment's wake-up")
        for path in logs:
            problems, last = shared.log_problems(path)
            print(
                f"  {path.name}: {problems} warning/error lines"
                + "".join(f"\n    {line[:160]}" for line in last)
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600)
    args = parser.parse_args()
    asyncio.run(run(args.count))


if __name__ == "__main__":
    main()
