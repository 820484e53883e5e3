"""Updates per second through the whole bot, beside a bare python-telegram-bot echo bot.

Both bots run as their own process against the project's fake Bot API, which runs in a
third process together with the simulated patients. Every patient taps a button, waits
for the answer, and taps again (a closed loop). Each tap costs both bots the same Bot API
calls (answerCallbackQuery and editMessageText), so the difference is what vertebrobot
adds: the flow engine, SQLite storage and rendering.

    python bench/throughput.py [--patients 50] [--seconds 10] [--rounds 3]

The machine's speed varies from run to run, so the two bots take turns and the medians
are compared. "bot CPU per update" (from /proc) is the steadier figure.

With `--scenario start-press` every patient instead arrives at once, sends /start, waits for
the answer, and taps its first button: each bot as it is, not matched call for call. Under
Telegram's send limit the calls per update are the cost that matters, so both are printed
(Telegram calls besides getUpdates, per update), with the update rates and their ratio:

    python bench/throughput.py --scenario start-press --patients 200 [--rounds 3] [--telegram-limits]

Without limits the fake answers every call, and the echo bot sends as fast as it can while
vertebrobot keeps Telegram's 30 a second (its send budget): that compares the work per update.
With `--telegram-limits` the fake answers 429 beyond 30 messages a second, as Telegram does, and
the echo bot paces itself with python-telegram-bot's own rate limiter: both bots as they would
run against Telegram.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TOKEN = "777:BENCH-TOKEN"
TELEGRAM_RATE = 30  # messages a second per bot (--telegram-limits)


# ---------------------------------------------------------------- the echo bot


def run_echo_bot(base_url: str, limited: bool = False) -> None:
    """A bare PTB bot: /start gets a message with buttons; a press is answered and echoed.

    The echo is the pressed message itself (its text and its buttons), so both bots send and
    parse messages of the same size, and the comparison isolates what vertebrobot adds.
    """
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

    # The size of a typical questionnaire screen: a short question and six buttons.
    first = InlineKeyboardMarkup(
        [[InlineKeyboardButton(f"Answer number {n}", callback_data=f"0123abcd.{n}")] for n in range(6)]
    )
    presses = 0

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "Echo. " + "A question a patient reads. " * 8, reply_markup=first
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal presses
        presses += 1
        query = update.callback_query
        assert query is not None
        assert isinstance(query.message, Message)
        await query.answer()
        text = f"{query.message.text.rsplit(' #', 1)[0]} #{presses}"
        await query.edit_message_text(text, reply_markup=query.message.reply_markup)

    builder = ApplicationBuilder().token(TOKEN).base_url(base_url)
    if limited:  # Telegram's limits, the library's own way: 30 a second, a 429 waited out and retried
        from telegram.ext import AIORateLimiter

        builder = builder.rate_limiter(AIORateLimiter(max_retries=5))
    app = builder.build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.run_polling(poll_interval=0.0, timeout=10)


# ---------------------------------------------------------------- the fake server and patients


def telegram_calls(server: Any, since: int = 0) -> int:
    """The Bot API calls made since the `since`-th call that talk to Telegram (not getUpdates)."""
    calls = server.calls[since:]
    return sum(1 for name, _ in calls if name != "getUpdates")


def newest_keyboard(server: Any, chat: int) -> dict | None:  # type: ignore[type-arg]
    """The bot's newest message in a chat with buttons: what the patient looks at."""
    # The uncopied messages: the driver must stay cheap, or it, not the bot, sets the pace.
    for message in reversed(server._bot_messages(chat)):
        if message.get("reply_markup", {}).get("inline_keyboard"):
            return message  # type: ignore[no-any-return]
    return None


async def start_then_press(server: Any, patients: int) -> dict:  # type: ignore[type-arg]
    """All the patients at once: /start, then a tap on the first button of the answer."""
    answered: set[str] = set()

    async def patient(chat: int) -> None:
        server.user_sends_text(chat, "/start")
        await server.wait_for(lambda: newest_keyboard(server, chat) is not None, 60)
        message = newest_keyboard(server, chat)
        assert message is not None
        data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        shown = message["message_id"], message.get("edit_date"), message["text"]
        query = server.user_presses(chat, message["message_id"], data)

        def finished() -> bool:
            if query not in answered:
                answered.update(a["callback_query_id"] for a in server.callback_answers)
                if query not in answered:
                    return False
            latest = newest_keyboard(server, chat)
            return (
                latest is not None
                and (latest["message_id"], latest.get("edit_date"), latest["text"]) != shown
            )

        await server.wait_for(finished, 60)

    calls_before, started, cpu_before = len(server.calls), time.perf_counter(), time.process_time()
    print("MEASURING", flush=True)
    await asyncio.gather(*(patient(20_000 + i) for i in range(patients)))
    elapsed = time.perf_counter() - started
    return {
        "updates": 2 * patients,
        "seconds": elapsed,
        "rate": 2 * patients / elapsed,
        "api_calls": len(server.calls) - calls_before,
        "telegram_calls": telegram_calls(server, calls_before),
        "driver_cpu": (time.process_time() - cpu_before) / elapsed,
    }


async def drive(
    patients: int, seconds: float, warmup: float, *, scenario: str = "loop", limited: bool = False
) -> None:
    """Serve the fake Bot API, play the patients, print the result as JSON."""
    from bot.testing.fake_bot_api import FakeBotAPI

    # Telegram's 30 messages a second per bot; not its one a second per chat, which lets short
    # bursts through (a /start answered, then a press answered within the second).
    async with FakeBotAPI(TOKEN, global_rate=TELEGRAM_RATE if limited else None) as server:
        print(f"PORT {server.port}", flush=True)
        await server.wait_for(lambda: any(n == "getUpdates" for n, _ in server.calls), 60, what="bot polling")

        if scenario == "start-press":
            print("RESULT " + json.dumps(await start_then_press(server, patients)), flush=True)
            return

        def keyboard_message(chat: int) -> dict | None:  # type: ignore[type-arg]
            return newest_keyboard(server, chat)

        answered: set[str] = set()
        done = 0
        counting = False

        async def patient(chat: int, stop_at: float) -> None:
            nonlocal done
            server.user_sends_text(chat, "/start")
            await server.wait_for(lambda: keyboard_message(chat) is not None, 60)
            loop = asyncio.get_running_loop()
            while loop.time() < stop_at:
                message = keyboard_message(chat)
                assert message is not None
                data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                edits = message.get("edit_date"), message["text"], message["message_id"]
                query = server.user_presses(chat, message["message_id"], data)

                def finished(query: str = query, edits: tuple = edits) -> bool:  # type: ignore[type-arg]
                    if query not in answered:
                        answered.update(a["callback_query_id"] for a in server.callback_answers[-patients:])
                        if query not in answered:
                            return False
                    latest = keyboard_message(chat)
                    return latest is not None and (
                        latest["message_id"],
                        latest.get("edit_date"),
                        latest["text"],
                    ) != (edits[2], edits[0], edits[1])

                await server.wait_for(finished, 60)
                if counting:
                    done += 1

        loop = asyncio.get_running_loop()
        begin = loop.time()
        stop_at = begin + warmup + seconds
        tasks = [asyncio.create_task(patient(10_000 + i, stop_at)) for i in range(patients)]
        await asyncio.sleep(warmup)  # the clock here is the measurement itself
        counting, started, calls_before = True, time.perf_counter(), len(server.calls)
        cpu_before = time.process_time()
        print("MEASURING", flush=True)
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        result = {
            "updates": done,
            "seconds": elapsed,
            "rate": done / elapsed,
            "api_calls": len(server.calls) - calls_before,
            "telegram_calls": telegram_calls(server, calls_before),
            "driver_cpu": (time.process_time() - cpu_before) / elapsed,
        }
        print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------- orchestration


async def measure(  # type: ignore[type-arg]
    which: str, patients: int, seconds: float, warmup: float, *, scenario: str = "loop", limited: bool = False
) -> dict:
    """Run the driver and one bot, each in its own process; return the driver's figures."""
    driver = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--drive",
        "--scenario",
        scenario,
        "--patients",
        str(patients),
        "--seconds",
        str(seconds),
        "--warmup",
        str(warmup),
        *(["--telegram-limits"] if limited else []),
        stdout=asyncio.subprocess.PIPE,
    )
    assert driver.stdout is not None
    port = int((await driver.stdout.readline()).decode().split()[1])
    base_url = f"http://127.0.0.1:{port}/bot"
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": base_url,
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "VERTEBROBOT_LOG_LEVEL": "WARNING",
            "VERTEBROBOT_HTTP_PORT": "0",  # any free port
        }
        if which == "echo":
            command = [
                sys.executable,
                __file__,
                "--echo-bot",
                base_url,
                *(["--telegram-limits"] if limited else []),
            ]
        else:
            command = [sys.executable, "-m", "bot.entrypoints.cli", "run"]
        log_path = Path(tmp) / "bot.log"
        log_file = log_path.open("wb")
        bot = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=tmp, stdin=asyncio.subprocess.DEVNULL, stderr=log_file
        )
        try:
            line = b""
            bot_cpu = 0.0
            while not line.startswith(b"RESULT "):
                line = await driver.stdout.readline()
                if not line:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"the driver stopped without a result; the bot said:\n{tail}")
                if line.startswith(b"MEASURING"):
                    bot_cpu = -cpu_seconds(bot.pid)
            bot_cpu += cpu_seconds(bot.pid)
        finally:
            if bot.returncode is None:
                bot.terminate()
            await bot.wait()
            await driver.wait()
            log_file.close()
    result = json.loads(line[len(b"RESULT ") :])
    result["bot_cpu"] = bot_cpu / result["seconds"]
    return result


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def compare(
    patients: int,
    seconds: float,
    rounds: int,
    warmup: float,
    *,
    scenario: str = "loop",
    limited: bool = False,
) -> None:
    """Alternate the two bots for a few rounds and print the medians and their ratio."""
    rates: dict[str, list[float]] = {"echo": [], "vertebrobot": []}
    cpu: dict[str, list[float]] = {"echo": [], "vertebrobot": []}
    per_update: dict[str, list[float]] = {"echo": [], "vertebrobot": []}
    for round_no in range(1, rounds + 1):
        for which in ("echo", "vertebrobot"):
            result = await measure(which, patients, seconds, warmup, scenario=scenario, limited=limited)
            rates[which].append(result["rate"])
            cpu[which].append(result["bot_cpu"] / result["rate"])
            per_update[which].append(result["telegram_calls"] / result["updates"])
            print(
                f"round {round_no} {which:12} {result['rate']:8.1f} updates/s "
                f"({result['updates']} updates in {result['seconds']:.1f} s, "
                f"{result['api_calls']} API calls, {per_update[which][-1]:.2f} Telegram calls per update; "
                f"CPU busy: bot {result['bot_cpu']:.0%}, fake server {result['driver_cpu']:.0%}; "
                f"bot CPU per update {result['bot_cpu'] / result['rate'] * 1e3:.2f} ms)"
            )
    echo, whole = statistics.median(rates["echo"]), statistics.median(rates["vertebrobot"])
    print(f"\necho bot (bare python-telegram-bot): {echo:8.1f} updates/s (median of {rounds})")
    print(f"vertebrobot (flows, SQLite, render): {whole:8.1f} updates/s (median of {rounds})")
    print(f"ratio vertebrobot / echo:            {whole / echo:8.2f}  (target >= 0.80)")
    # The machine's speed drifts between runs; each round's two runs are neighbours in time.
    paired = statistics.median(v / e for v, e in zip(rates["vertebrobot"], rates["echo"], strict=True))
    print(f"median of the per-round ratios:      {paired:8.2f}")
    cpu_ratio = statistics.median(cpu["echo"]) / statistics.median(cpu["vertebrobot"])
    print(f"CPU per update, echo / vertebrobot:  {cpu_ratio:8.2f}  (the steadiest figure)")
    print(f"Telegram calls per update, echo:     {statistics.median(per_update['echo']):8.2f}")
    print(f"Telegram calls per update, bot:      {statistics.median(per_update['vertebrobot']):8.2f}")


def main() -> None:
    """Entry point; the hidden flags are the child processes' roles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--scenario",
        choices=("loop", "start-press"),
        default="loop",
        help="loop: taps in a closed loop; start-press: all at once, /start then a button",
    )
    parser.add_argument(
        "--telegram-limits",
        action="store_true",
        help="the fake answers 429 beyond 30 messages a second, as Telegram does; the echo bot "
        "then paces itself with python-telegram-bot's AIORateLimiter, as a real bot must",
    )
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--echo-bot", metavar="BASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_bot:
        run_echo_bot(args.echo_bot, args.telegram_limits)
    elif args.drive:
        asyncio.run(
            drive(
                args.patients, args.seconds, args.warmup, scenario=args.scenario, limited=args.telegram_limits
            )
        )
    else:
        if args.scenario == "start-press":
            print(f"{args.patients} patients at once, each sending /start and then tapping a button")
        else:
            print(f"{args.patients} patients tapping buttons in a closed loop, {args.seconds:g} s per run")
        if args.telegram_limits:
            print("under Telegram's limit of 30 messages a second (429 beyond), which both bots must keep")
        asyncio.run(
            compare(
                args.patients,
                args.seconds,
                args.rounds,
                args.warmup,
                scenario=args.scenario,
                limited=args.telegram_limits,
            )
        )


if __name__ == "__main__":
    main()
