"""Instances on one PostgreSQL share Telegram's limit: reminders due at once while patients tap.

Two, then three `vertebrobot run` processes in webhook mode (the way a deployment scales out:
polling instances would conflict, as Telegram answers 409) on one PostgreSQL database, against
the fake Bot API enforcing Telegram's limits (30 messages a second per bot, one a second per
chat, 429 beyond). 10,000 reminders fall due at the same moment for 10,000 patients while 50
other patients tap buttons, each about every 5 s as a person reads a screen and taps; their updates are
posted to the instances' webhooks in turn, as a load balancer would. Figures per run: combined
reminder messages a second, the busiest one-second window of all instances together, the 429s,
lost and duplicated reminders, and the time from a tap to the bot's answer (p50, p99).
(Before the shared budget the issue measured 58 messages in one second and 36 429s with two.)

    bash scripts/with-postgres.sh .venv/bin/python bench/scaleout.py [--count 10000] [--instances 2 3]

It needs VERTEBROBOT_TEST_DATABASE_URL (a PostgreSQL it may create databases in), which
scripts/with-postgres.sh sets. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import itertools
import os
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import reminders as shared  # bench/reminders.py: the fake, the rows, the bot process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.store import utcnow
from bot.entrypoints.webserver import SECRET_HEADER, WEBHOOK_PATH
from bot.services.ratelimit import MADE_UP, SLOW_SEND

FIRST_TAPPER = 900_000  # chat ids of the patients who tap (not among the reminded ones)
TAP_EVERY = 5.0  # seconds between a patient's taps, as a person reads a screen and taps
SECRET = "bench-webhook-secret"
LEAD = dt.timedelta(seconds=40)  # the reminders fall due this long after the rows are written


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


class LoadBalancer:
    """Posts the updates the fake queued to the instances' webhooks, one instance after another."""

    def __init__(self, server: shared.RecordingBotAPI, client: httpx.AsyncClient, ports: list[int]) -> None:
        self.server, self.client, self.ports = server, client, itertools.cycle(ports)

    async def deliver(self) -> None:
        """Each update to the next instance; on a dropped connection (a keep-alive the instance
        closed just then) to the one after, as Telegram redelivers: an update id is handled once."""
        for update in self.server.take_updates():
            for attempt in range(3):
                url = f"http://127.0.0.1:{next(self.ports)}{WEBHOOK_PATH}"
                try:
                    answer = await self.client.post(url, json=update, headers={SECRET_HEADER: SECRET})
                except httpx.TransportError:
                    if attempt == 2:
                        raise
                    continue
                answer.raise_for_status()
                break


async def tapping(
    server: shared.RecordingBotAPI, lb: LoadBalancer, chat_id: int, until: asyncio.Event, took: list[float]
) -> None:
    """A patient on the menu, tapping the first button on screen until `until` is set."""
    while not until.is_set():
        screen = server.last_bot_message(chat_id)
        buttons = [
            b for row in (screen or {}).get("reply_markup", {}).get("inline_keyboard", []) for b in row
        ]
        if screen is None or not buttons:
            server.user_sends_text(chat_id, "/menu")
            await lb.deliver()
            await server.wait_for(lambda: server.shown[chat_id] > 0, 60, what="a menu")
            await asyncio.sleep(TAP_EVERY)  # read before tapping
            continue
        before = server.shown[chat_id]
        began = time.monotonic()
        query = server.user_presses(chat_id, screen["message_id"], buttons[0]["callback_data"])
        await lb.deliver()

        def done(query: str = query, before: int = before) -> bool:
            return query in server.answered and server.shown[chat_id] > before

        await server.wait_for(done, 60, what="the answer to a tap")
        took.append(time.monotonic() - began)
        await asyncio.sleep(TAP_EVERY)


async def one_run(admin: str, instances: int, count: int, patients: int) -> None:
    url = await fresh_database(admin, f"bench_scaleout_{instances}")
    due = utcnow().replace(microsecond=0) + LEAD
    await shared.build_database(
        Path("unused"),
        users=count,
        reminders=count,
        due_at=lambda _i: due,
        procedure_start=due + dt.timedelta(hours=4),
        url=url,
    )
    print(f"\n{instances} instances: {count:,} reminders due at once, {patients} patients tapping buttons")
    with tempfile.TemporaryDirectory(prefix="vertebrobot-scaleout-") as tmp:
        logs = [Path(tmp) / f"bot{i}.log" for i in range(instances)]
        async with shared.RecordingBotAPI(global_rate=shared.TELEGRAM_RATE, per_chat_rate=1) as server:
            for n in range(count):
                server.add_patient(shared.FIRST_USER + n)
            handles = [path.open("wb") for path in logs]
            ports = [free_port() for _ in range(instances)]
            webhook = {"TELEGRAM_WEBHOOK_URL": "https://bench.invalid", "TELEGRAM_WEBHOOK_SECRET": SECRET}
            bots = [
                await shared.start_bot(
                    server.base_url,
                    Path(tmp),
                    Path(tmp),
                    handle,
                    url=url,
                    VERTEBROBOT_HTTP_PORT=str(port),
                    VERTEBROBOT_INSTANCES=str(instances),
                    **webhook,
                )
                for handle, port in zip(handles, ports, strict=True)
            ]
            took: list[float] = []
            stalls = shared.Stalls()
            try:
                async with httpx.AsyncClient(timeout=60) as client:
                    for port in ports:
                        await wait_healthy(client, port)
                    lb = LoadBalancer(server, client, ports)
                    done = asyncio.Event()
                    tappers = [
                        asyncio.create_task(tapping(server, lb, FIRST_TAPPER + n, done, took))
                        for n in range(patients)
                    ]
                    await asyncio.sleep(max(0.0, (due - utcnow()).total_seconds()))  # the due moment
                    took.clear()  # only taps while the reminders go out count
                    # The fake keeps every call: a full collection of them held it up 80-160 ms,
                    # stamping the calls that waited together (Telegram does not pause for us).
                    # No collection during the run (what it keeps holds no cycles to free).
                    gc.collect()
                    gc.disable()
                    stalls.start()
                    await server.wait_for(
                        lambda: len(server.reminder_ids) >= count,
                        60 + count / 10,
                        what="every reminder",
                    )
                    held_up = stalls.stop()
                    gc.enable()
                    done.set()
                    await asyncio.gather(*tappers)
                    await asyncio.sleep(shared.LATE_DUPLICATES_SECONDS)
            finally:
                for bot in bots:
                    await shared.stop_bot(bot)
                for handle in handles:
                    handle.close()
        report(server, count, took, logs)
        print(f"  {held_up}; 429s within a second after: {stalls.near(server.too_many_at)}")
        for window in server.too_many_windows:
            print("  a 429's window: " + window_shape(window))


def report(server: shared.RecordingBotAPI, count: int, took: list[float], logs: list[Path]) -> None:
    times = sorted(t for t, _ in server.reminders_sent)
    delivered = Counter(rid for _, rid in server.reminders_sent)
    span = times[-1] - times[0]
    ordered = sorted(took)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")
    during = [t for t in server.accepted_at if times[0] <= t <= times[-1]]
    print(f"  reminders: {(len(times) - 1) / span:.1f} messages/s over {span:.0f} s")
    print(
        f"  combined, every message while they went out: {len(during) / span:.1f} messages/s (target >= 28)"
    )
    print(f"  busiest 1-s window, all instances and all messages: {busiest(server)} (Telegram allows 30)")
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(server.too_many_by_limit.items()))
    print(f"  429s received: {server.too_many_requests} (target 0){f' ({kinds})' if kinds else ''}")
    print(f"  lost: {count - len(delivered)}, duplicated: {sum(1 for n in delivered.values() if n > 1)}")
    print(
        f"  tap to answer while the reminders go out: {len(took)} taps, p50 "
        f"{statistics.median(took) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms (target p99 < 1000 ms)"
    )
    made_up = sum(path.read_text(errors="replace").count(MADE_UP) for path in logs)
    print(f"  turns spent without a send after a send answered over {SLOW_SEND * 1000:.0f} ms: {made_up}")
    for path in logs:
        problems, last = shared.log_problems(path)
        print(
            f"  {path.name}: {problems} warning/error lines" + "".join(f"\n    {line[:160]}" for line in last)
        )


def window_shape(window: list[float]) -> str:
    """How the calls in a 429's window were spaced: one call long before the rest (a send held
    up on its way) or all of them close together (sent too fast)."""
    gaps = [round((later - earlier) * 1000) for earlier, later in itertools.pairwise(window)]
    return (
        f"{len(window)} calls in the second before it, the first {-window[0] * 1000:.0f} ms before; "
        f"gaps (ms) {gaps}"
    )


def busiest(server: Any) -> int:
    """The most messages of any kind (reminders, answers, edits) the fake accepted in one second."""
    return shared.busiest_second(sorted(server.accepted_at))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--instances", type=int, nargs="+", default=[2, 3])
    args = parser.parse_args()
    admin = os.environ.get("VERTEBROBOT_TEST_DATABASE_URL", "")
    if not admin.startswith("postgresql"):
        sys.exit("needs VERTEBROBOT_TEST_DATABASE_URL on PostgreSQL: run it through scripts/with-postgres.sh")
    print(__doc__.split("\n\n")[0])
    for instances in args.instances:
        asyncio.run(one_run(admin, instances, args.count, args.patients))


if __name__ == "__main__":
    main()
