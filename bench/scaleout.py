"""Two instances on one PostgreSQL share Telegram's limit: 600 reminders due at once.

Two `vertebrobot run` processes in webhook mode (the way a deployment scales out: polling
instances would conflict, as Telegram answers 409) on one PostgreSQL database,
600 reminders due at the same moment for 600 patients, against the fake Bot API enforcing
Telegram's limits (30 messages a second per bot, one a second per chat, 429 beyond). While they
send, a patient types /menu (delivered to each instance's webhook in turn, as a load balancer
would); how long the reply takes is timed, beside the same with nothing
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
import contextlib
import datetime as dt
import os
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import reminders as shared  # bench/reminders.py: the fake, the rows, the bot process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.store import utcnow
from bot.entrypoints.webserver import SECRET_HEADER, WEBHOOK_PATH

INSTANCES = 2
PATIENT = 42  # the chat that types /menu (not one of the reminded patients)
REPLY_TRIES = 5
SECRET = "bench-webhook-secret"


async def fresh_database(admin_url: str, name: str) -> str:
    """A new empty database beside the one given; its URL."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_healthy(client: httpx.AsyncClient, port: int) -> None:
    for _ in range(600):  # bounded: at most a minute
        with contextlib.suppress(httpx.TransportError):
            if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise SystemExit(f"the instance on port {port} did not come up")


class Patient:
    """Types /menu at one instance's webhook, as Telegram delivers updates behind a load balancer."""

    def __init__(self, server: shared.RecordingBotAPI, client: httpx.AsyncClient) -> None:
        self.server, self.client, self.update_id = server, client, 1

    def update(self) -> dict[str, object]:
        self.update_id += 1
        person = {"id": PATIENT, "is_bot": False, "first_name": "P"}
        message = {
            "message_id": self.update_id,
            "date": int(time.time()),
            "chat": {**person, "type": "private"},
            "from": person,
            "text": "/menu",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        }
        return {"update_id": self.update_id, "message": message}

    async def reply_seconds(self, port: int) -> float:
        """The seconds from /menu to the bot's answer accepted by the fake."""
        before = len(self.server.bot_messages(PATIENT))
        began = time.monotonic()
        answer = await self.client.post(
            f"http://127.0.0.1:{port}{WEBHOOK_PATH}", json=self.update(), headers={SECRET_HEADER: SECRET}
        )
        answer.raise_for_status()
        await self.server.wait_for(
            lambda: len(self.server.bot_messages(PATIENT)) > before, 30, what="the reply to /menu"
        )
        taken = time.monotonic() - began
        await asyncio.sleep(1.0)  # a person reads the answer before typing again
        return taken


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
            ports = [free_port() for _ in range(INSTANCES)]
            webhook = {"TELEGRAM_WEBHOOK_URL": "https://bench.invalid", "TELEGRAM_WEBHOOK_SECRET": SECRET}
            bots = [
                await shared.start_bot(
                    server.base_url,
                    Path(tmp),
                    Path(tmp),
                    handle,
                    url=url,
                    VERTEBROBOT_HTTP_PORT=str(port),
                    **webhook,
                )
                for handle, port in zip(handles, ports, strict=True)
            ]
            try:
                async with httpx.AsyncClient(timeout=30) as client:
                    for port in ports:
                        await wait_healthy(client, port)
                    patient = Patient(server, client)
                    idle = [await patient.reply_seconds(ports[n % INSTANCES]) for n in range(REPLY_TRIES)]
                    await asyncio.sleep(max(0.0, (now - utcnow()).total_seconds()))  # the due moment
                    await server.wait_for(
                        lambda: len(server.reminders_sent) >= count // 4, 60, what="a quarter sent"
                    )
                    busy = [await patient.reply_seconds(ports[n % INSTANCES]) for n in range(REPLY_TRIES)]
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
        for path in logs:
            problems, last = shared.log_problems(path)
            print(
                f"  {path.name}: {problems} warning/error lines"
                + "".join(f"\n    {line[:160]}" for line in last)
            )
            if os.environ.get("BENCH_SHOW_LOG"):  # the whole log, to see what went wrong
                print(path.read_text(errors="replace"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600)
    args = parser.parse_args()
    asyncio.run(run(args.count))


if __name__ == "__main__":
    main()
