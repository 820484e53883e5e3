"""Reminders at scale: a minute with 10,000 due, and start-up with 1,000,000 pending.

A. 10,000 reminders fall due in the same minute for 10,000 patients. The fake Bot API
   enforces Telegram's limits (30 messages a second per bot, one a second per chat) and
   answers 429 beyond them. Figures: the send rate the bot achieves, the 429s it receives,
   and the reminders lost or sent twice.
B. Start-up time and resident memory of `vertebrobot run` with 1,000,000 pending reminders
   in the database (due tomorrow), beside the same with 1,000.

    python bench/reminders.py [--part a|b|all] [--count 10000] [--rows 1000000]

The fake Bot API runs in this process (the driver); the bot runs as its own process, the
way it is deployed (`python -m bot.entrypoints.cli run`), on a SQLite file in a temporary directory.
The rows are written straight into the database, not through the bot. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime as dt
import gc
import os
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, insert

from bot.db.store import Store, utcnow
from bot.db.tables import PROCEDURES, REMINDERS, USERS
from bot.testing.fake_bot_api import FakeBotAPI

TOKEN = "777:BENCH-TOKEN"
FIRST_USER = 1_000_000  # user ids (and private chat ids) are FIRST_USER + n
MESSAGE = "rem.fasting_all"  # the plan's real message and key, so rendering is the real work
KEY = "fasting_food"
ZONE = "Europe/Amsterdam"
CHUNK = 50_000  # rows per INSERT transaction when building a database
ACK = "ack."

TELEGRAM_RATE = 30  # messages a second per bot, as the fake enforces it
TARGET_RATE = 28.0
STALL_SECONDS = 30.0  # part A gives up when no reminder arrives for this long
FIRST_SECONDS = 60.0  # ... or when the first one has not arrived this long after the start
LATE_DUPLICATES_SECONDS = 3.0  # part A keeps listening this long after the last reminder
STARTUP_LIMIT = 60.0  # part B gives up waiting for the bot's first getUpdates
SETTLE_SECONDS = 3.0  # part B: the dispatcher has looked for due rows by then
STOP_SECONDS = 15.0  # a bot that has not stopped this long after SIGTERM is killed
STARTUP_TARGET = 3.0


# ---------------------------------------------------------------- the fake Bot API


class Stalls:
    """How long the bench process (and so the fake in it) was held up: its event loop's lateness
    waking every 10 ms, and its garbage collector's runs. A fake held up stamps the calls that
    waited for it together: a 429 the bot did not cause."""

    TICK = 0.01

    def __init__(self) -> None:
        self.late: list[float] = []  # seconds each wake-up came late, over 20 ms
        self.late_at: list[float] = []  # when (time.monotonic()) each of those wake-ups came
        self.collections: list[float] = []  # seconds of each full (oldest generation) collection
        self._began = 0.0
        self._task: asyncio.Task[None] | None = None

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.collections.append(time.perf_counter() - self._began)

    async def _watch(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.TICK)
            if (late := time.monotonic() - before - self.TICK) > 0.02:
                self.late.append(late)
                self.late_at.append(time.monotonic())

    def start(self) -> None:
        gc.callbacks.append(self._gc)
        self._task = asyncio.create_task(self._watch())

    def near(self, moments: list[float]) -> int:
        """How many of these moments (429s) came within a second after the fake was held up."""
        return sum(1 for m in moments if any(0 <= m - t <= 1.0 for t in self.late_at))

    def stop(self) -> str:
        """Stop watching; a line for the report."""
        if self._task is not None:
            self._task.cancel()
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        worst = max(self.late, default=0.0)
        full = max(self.collections, default=0.0)
        return (
            f"the bench process (the fake) held up over 20 ms {len(self.late)} times, over 70 ms "
            f"{sum(1 for t in self.late if t > 0.07)}, longest {worst * 1000:.0f} ms; "
            f"{len(self.collections)} full garbage collections, longest {full * 1000:.0f} ms"
        )


class RecordingBotAPI(FakeBotAPI):
    """The fake Bot API, noting when each reminder was accepted and when the bot first polled."""

    def __init__(self, **limits: float) -> None:
        self.reminders_sent: list[tuple[float, int]] = []  # (time.monotonic(), reminder id)
        self.accepted_at: list[float] = []  # every message or edit the fake accepted
        self.first_poll: float | None = None
        self.too_many_by_limit: Counter[str] = Counter()  # 429s: "per bot" or "per chat"
        self.too_many_at: list[float] = []  # when (time.monotonic()) each 429 was answered
        self.too_many_windows: list[list[float]] = []  # per 429, the calls in its window (s before it)
        # Running tallies, so that a bench's checks after every call stay cheap however long it
        # runs (scanning every call so far made the fake, which shares the bench's event loop,
        # read its clock later and later: bunched timestamps, 429s the bot did not cause).
        self.reminder_ids: set[int] = set()  # every reminder delivered at least once
        self.shown: Counter[int] = Counter()  # messages and edits accepted, per chat
        self.answered: set[str] = set()  # callback queries answered
        super().__init__(TOKEN, **limits)

    def _check_window(self, hits: Any, rate: float, now: float) -> None:  # type: ignore[override]
        """Check as the fake does; note which limit a 429 was for."""
        try:
            super()._check_window(hits, rate, now)
        except Exception:
            self.too_many_by_limit["per chat" if hits is not self._global_hits else "per bot"] += 1
            self.too_many_at.append(now)
            self.too_many_windows.append([t - now for t in hits])
            raise

    def add_patient(self, chat_id: int) -> None:
        """Make a patient's private chat known without a message from them.

        A /start from each patient would make the bot answer 10,000 updates and spend the
        very sending budget this bench measures, so no update is queued.
        """
        self.user_has_started(chat_id)

    def sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 - the Bot API's name
        """Send as the fake does; note a reminder (a message with an "ack.<id>" button)."""
        message = super().sendMessage(p)
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                data = str(button.get("callback_data", ""))
                if data.startswith(ACK):
                    reminder_id = int(data[len(ACK) :])
                    self.reminders_sent.append((time.monotonic(), reminder_id))
                    self.reminder_ids.add(reminder_id)
        return message

    def _call_limited(
        self, name: str, handler: Callable[[dict[str, Any]], Any], params: dict[str, Any]
    ) -> Any:
        """Call as the fake does; note when a message or an edit was accepted."""
        result = super()._call_limited(name, handler, params)
        if name.startswith(("send", "edit")) and name != "sendChatAction":
            self.accepted_at.append(time.monotonic())
            if name in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
                self.shown[int(params.get("chat_id") or 0)] += 1
        elif name == "answerCallbackQuery":
            self.answered.add(str(params.get("callback_query_id")))
        return result

    async def getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: N802
        """Serve getUpdates as the fake does; note the first call (the bot is then serving)."""
        if self.first_poll is None:
            self.first_poll = time.monotonic()
        return await super().getUpdates(p)


# ---------------------------------------------------------------- databases


async def build_database(
    path: Path,
    *,
    users: int,
    reminders: int,
    due_at: Callable[[int], dt.datetime],
    procedure_start: dt.datetime,
    url: str | None = None,
) -> float:
    """Migrate a new SQLite file (or the database at `url`) and fill it; returns the seconds it took.

    User n (n < users) has procedure n + 1; reminder i (id i + 1) belongs to user i % users.
    """
    began = time.perf_counter()
    store = Store(url or f"sqlite:///{path}")
    try:
        await store.migrate()
        now = utcnow()
        await insert_rows(
            store,
            USERS,
            (
                {
                    "user_id": FIRST_USER + n,
                    "chat_id": FIRST_USER + n,
                    "locale": "en",
                    "flow": "menu",
                    "state": "main",
                    "answers": {},
                    "version": 1,
                    "reminders_paused": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(users)
            ),
        )
        await insert_rows(
            store,
            PROCEDURES,
            (
                {
                    "id": n + 1,
                    "user_id": FIRST_USER + n,
                    "starts_at": procedure_start,
                    "timezone": ZONE,
                    "status": "scheduled",
                    "source": "clinic",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(users)
            ),
        )
        await insert_rows(store, REMINDERS, reminder_rows(reminders, users, due_at))
    finally:
        await store.close()
    return time.perf_counter() - began


def reminder_rows(count: int, users: int, due_at: Callable[[int], dt.datetime]) -> Iterator[dict[str, Any]]:
    """Pending reminder rows, as `Reminders.schedule` writes them."""
    for i in range(count):
        due = due_at(i)
        yield {
            "id": i + 1,
            "procedure_id": i % users + 1,
            "user_id": FIRST_USER + i % users,
            "key": KEY,
            "message": MESSAGE,
            "due_at": due,
            "deadline": due + dt.timedelta(hours=2),
            "about_at": due,
            "status": "pending",
            "next_attempt_at": due,
            "attempts": 0,
            "outcome": None,
        }


async def insert_rows(store: Store, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert with executemany, CHUNK rows per transaction."""

    async def flush(chunk: list[dict[str, Any]]) -> None:
        await store.run(lambda tx: tx.conn.execute(insert(table), chunk))

    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            await flush(chunk)
            chunk = []
    if chunk:
        await flush(chunk)


def status_counts(path: Path) -> dict[str, int]:
    """How many reminder rows are in each status."""
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM reminders GROUP BY status ORDER BY status"))


def retried_rows(path: Path) -> int:
    """Rows claimed more than once."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM reminders WHERE attempts > 1").fetchone()[0])


# ---------------------------------------------------------------- the bot process


async def start_bot(
    base_url: str,
    database: Path,
    workdir: Path,
    log: IO[bytes],
    url: str | None = None,
    **settings: str,
) -> asyncio.subprocess.Process:
    """`python -m bot.entrypoints.cli run` against the fake, as its own process, its output in `log`;
    `url`: a database other than the SQLite file; `settings`: more environment settings."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": base_url,
        "DATABASE_URL": url or f"sqlite:///{database}",
        "VERTEBROBOT_LOG_LEVEL": "INFO",  # the default: a deployment logs each reminder sent
        "VERTEBROBOT_HTTP_PORT": "0",  # any free port
    }
    for name in ("VERTEBROBOT_SEND_RATE", "VERTEBROBOT_CONTENT_DIR", "VERTEBROBOT_CLINIC_FILE"):
        env.pop(name, None)  # the defaults, whatever this shell has set
    env.update(settings)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.entrypoints.cli",
        "run",
        env=env,
        cwd=workdir,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )


async def stop_bot(bot: asyncio.subprocess.Process) -> None:
    """SIGTERM (the bot stops polling and closes the database), SIGKILL if it hangs."""
    if bot.returncode is not None:
        return
    bot.terminate()
    try:
        await asyncio.wait_for(bot.wait(), STOP_SECONDS)
    except TimeoutError:
        bot.kill()
        await bot.wait()


def proc_status(pid: int) -> dict[str, int]:
    """The kB figures of /proc/<pid>/status (VmRSS, VmHWM, ...)."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if value.strip().endswith(" kB"):
            figures[name] = int(value.split()[0])
    return figures


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def file_megabytes(database: Path) -> float:
    """The size of a SQLite database with its WAL and shared-memory files."""
    return sum(p.stat().st_size for p in database.parent.glob(database.name + "*")) / 2**20


def log_tail(log_path: Path) -> str:
    """The end of the bot's log."""
    return log_path.read_text(errors="replace")[-2000:]


def log_problems(log_path: Path) -> tuple[int, list[str]]:
    """How many WARNING/ERROR/Traceback lines the bot logged, and the last few of them."""
    lines = log_path.read_text(errors="replace").splitlines()
    bad = [line for line in lines if " WARNING " in line or " ERROR " in line or "Traceback" in line]
    return len(bad), bad[-5:]


# ---------------------------------------------------------------- part A


async def part_a(count: int) -> None:
    """10,000 reminders due at once for 10,000 patients, against Telegram's limits."""
    print(f"\nA. {count:,} reminders due in the same minute for {count:,} patients")
    print(f"   fake Bot API: at most {TELEGRAM_RATE} messages/s per bot and 1/s per chat, else 429")
    with tempfile.TemporaryDirectory(prefix="vertebrobot-bench-") as tmp:
        workdir, database, log_path = Path(tmp), Path(tmp) / "a.db", Path(tmp) / "bot.log"
        now = utcnow().replace(second=0, microsecond=0)  # all due at the start of this minute
        built = await build_database(
            database,
            users=count,
            reminders=count,
            due_at=lambda _i: now,
            procedure_start=now + dt.timedelta(hours=4),
        )
        expected = set(range(1, count + 1))
        print(f"   database built in {built:.1f} s: {status_counts(database)}")
        async with RecordingBotAPI(global_rate=TELEGRAM_RATE, per_chat_rate=1) as server:
            for n in range(count):
                server.add_patient(FIRST_USER + n)
            with log_path.open("wb") as log:
                started = time.monotonic()
                bot = await start_bot(server.base_url, database, workdir, log)
                try:
                    why = await await_reminders(server, bot, expected, started)
                finally:
                    await stop_bot(bot)
            sends = sum(1 for name, _ in server.calls if name == "sendMessage")
            report_a(server, expected, started, sends, why)
        statuses = status_counts(database)
        print(f"   rows by status at the end: {statuses}  (target: sent {count:,})")
        print(f"   rows claimed more than once: {retried_rows(database):,}")
        problems, last = log_problems(log_path)
        print(f"   bot log: {problems} warning/error lines")
        for line in last:
            print(f"     {line[:200]}")


async def await_reminders(
    server: RecordingBotAPI, bot: asyncio.subprocess.Process, expected: set[int], started: float
) -> str:
    """Wait until every reminder arrived (plus a little for late duplicates), or give up; say why."""
    limit = 120.0 + len(expected) / 10  # three times the expected duration, and then some
    last_count, last_change, last_note = 0, time.monotonic(), time.monotonic()
    why = "all reminders arrived"
    while True:
        now = time.monotonic()
        sent = server.reminders_sent
        if len({rid for _, rid in sent}) >= len(expected):
            break
        if len(sent) != last_count:
            last_count, last_change = len(sent), now
        if bot.returncode is not None:
            why = f"the bot exited with code {bot.returncode}"
            break
        if not sent and now - started > FIRST_SECONDS:
            why = f"no reminder within {FIRST_SECONDS:g} s of the start"
            break
        if sent and now - last_change > STALL_SECONDS:
            why = f"no reminder for {STALL_SECONDS:g} s"
            break
        if now - started > limit:
            why = f"time limit of {limit:g} s reached"
            break
        if now - last_note >= 30:
            last_note = now
            print(f"   ... {len(sent):,} reminders after {now - started:.0f} s", file=sys.stderr, flush=True)
        await asyncio.sleep(0.25)
    await asyncio.sleep(LATE_DUPLICATES_SECONDS)
    return why


def busiest_second(times: list[float]) -> int:
    """The most messages in any one-second window."""
    return max(
        (bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)),
        default=0,
    )


def report_a(server: RecordingBotAPI, expected: set[int], started: float, sends: int, why: str) -> None:
    """Print part A's figures."""
    sent = server.reminders_sent
    times = [t for t, _ in sent]
    delivered = Counter(rid for _, rid in sent)
    lost = sorted(expected - delivered.keys())
    duplicated = sorted(rid for rid, n in delivered.items() if n > 1)
    print(f"   stopped waiting: {why}")
    if len(times) >= 2:
        span = times[-1] - times[0]
        rate = (len(times) - 1) / span if span > 0 else float("inf")
        print(f"   first reminder {times[0] - started:.1f} s after the bot process started")
        print(f"   first to last reminder: {span:.1f} s for {len(times):,} reminder messages")
        print(f"   achieved send rate:  {rate:8.2f} messages/s  (target >= {TARGET_RATE:g})")
        print(
            f"   busiest 1-s window:  {busiest_second(times):8d} messages"
            f"    (Telegram allows {TELEGRAM_RATE})"
        )
    else:
        print(f"   reminder messages: {len(times)} (too few for a rate)")
    print(f"   429s received:       {server.too_many_requests:8d}  (target 0)")
    print(f"   sendMessage calls:   {sends:8d}  (answered OK: {server.sent_count})")
    print(f"   lost reminders:      {len(lost):8d}  (target 0){examples(lost)}")
    print(f"   duplicated:          {len(duplicated):8d}  (target 0){examples(duplicated)}")


def examples(ids: list[int]) -> str:
    """A few reminder ids, to look up in the database."""
    return f"  e.g. ids {', '.join(map(str, ids[:5]))}" if ids else ""


# ---------------------------------------------------------------- part B


async def part_b(rows: int) -> None:
    """Start-up time and memory with few and with many pending reminders."""
    print(f"\nB. start-up time and resident memory with {rows:,} pending reminders (due tomorrow)")
    print(
        "   start-up: from starting `python -m bot.entrypoints.cli run` until its first getUpdates"
        " reaches the fake"
    )
    print(f"   memory: VmRSS (resident now) and VmHWM (peak resident) {SETTLE_SECONDS:g} s later,")
    print("   after the dispatcher has looked for due rows")
    results = []
    with tempfile.TemporaryDirectory(prefix="vertebrobot-bench-") as tmp:
        databases = {}
        for size in (min(1000, rows), rows):
            databases[size] = database = Path(tmp) / f"b{size}.db"
            tomorrow = utcnow() + dt.timedelta(days=1)
            built = await build_database(
                database,
                users=10,
                reminders=size,
                due_at=spread_over_a_day(tomorrow),
                procedure_start=tomorrow + dt.timedelta(days=1),
            )
            megabytes = file_megabytes(database)
            print(f"   {size:>11,} rows: database built in {built:.1f} s ({megabytes:.0f} MB)")
        # One start whose figures are dropped: the first start of Python after a while is
        # slower (disk cache), which would favour whichever database goes second.
        await measure_start(databases[min(databases)], Path(tmp), Path(tmp) / "warm-up.log")
        for size, database in databases.items():
            result = await measure_start(database, Path(tmp), Path(tmp) / f"bot{size}.log")
            result["rows"] = size
            result["pending_after"] = status_counts(database).get("pending", 0)
            results.append(result)
    print()
    print(
        f"   {'pending rows':>12}  {'start-up':>9}  {'VmRSS':>9}  {'VmHWM':>9}  {'bot CPU':>8}  pending after"
    )
    for r in results:
        startup = f"{r['startup']:.2f} s" if r["startup"] is not None else "none"
        print(
            f"   {r['rows']:>12,}  {startup:>9}  {r['rss'] / 1024:7.1f}MB  {r['hwm'] / 1024:7.1f}MB"
            f"  {r['cpu']:6.2f} s  {r['pending_after']:,}"
        )
    small, large = results
    if large["startup"] is not None:
        print(
            f"   start-up with {large['rows']:,} rows: {large['startup']:.2f} s"
            f"  (target < {STARTUP_TARGET:g} s)"
        )
    if small["rss"] and small["hwm"]:
        print(
            f"   memory ratio {large['rows']:,} / {small['rows']:,} rows: "
            f"VmRSS {large['rss'] / small['rss']:.3f} ({(large['rss'] - small['rss']) / 1024:+.1f} MB), "
            f"VmHWM {large['hwm'] / small['hwm']:.3f} ({(large['hwm'] - small['hwm']) / 1024:+.1f} MB)"
            f"  (target <= 1.00, i.e. no larger)"
        )


def spread_over_a_day(first: dt.datetime) -> Callable[[int], dt.datetime]:
    """Due times one second apart, over the day from `first`."""
    return lambda i: first + dt.timedelta(seconds=i % 86_400)


async def measure_start(database: Path, workdir: Path, log_path: Path) -> dict[str, Any]:
    """Start the bot on a database; return start-up seconds, VmRSS and VmHWM (kB), CPU seconds."""
    result: dict[str, Any] = {"startup": None, "rss": 0, "hwm": 0, "cpu": 0.0}
    async with RecordingBotAPI() as server:
        with log_path.open("wb") as log:
            started = time.monotonic()
            bot = await start_bot(server.base_url, database, workdir, log)
            try:
                while server.first_poll is None and bot.returncode is None:
                    if time.monotonic() - started > STARTUP_LIMIT:
                        break
                    await asyncio.sleep(0.005)
                if server.first_poll is None:
                    print(f"   the bot did not poll (exit code {bot.returncode}); see its log:")
                    print(log_tail(log_path))
                    return result
                result["startup"] = server.first_poll - started
                await asyncio.sleep(SETTLE_SECONDS)
                if bot.returncode is None:
                    status = proc_status(bot.pid)
                    result.update(rss=status["VmRSS"], hwm=status["VmHWM"], cpu=cpu_seconds(bot.pid))
            finally:
                await stop_bot(bot)
    problems, last = log_problems(log_path)
    if problems:
        print(f"   bot log: {problems} warning/error lines, e.g. {last[-1][:200]}")
    return result


# ---------------------------------------------------------------- entry point


def main() -> None:
    """Parse the options and run the parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["a", "b", "all"], default="all")
    parser.add_argument("--count", type=int, default=10_000, help="part A: reminders (and patients)")
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="part B: pending rows of the big database"
    )
    args = parser.parse_args()
    print("\n\n".join(__doc__.split("\n\n")[:2]))
    if args.part in ("a", "all"):
        asyncio.run(part_a(args.count))
    if args.part in ("b", "all"):
        asyncio.run(part_b(args.rows))


if __name__ == "__main__":
    main()
