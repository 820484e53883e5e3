"""One patient floods the bot while another writes /start: what each of them gets, and how long
the other patient waits.

    python bench/flood.py [--messages 2000] [--repeat]

The bot runs in this process against the project's fake Bot API, as `vertebrobot run` wires it,
on a temporary SQLite file; the flood arrives in one moment, with one warning sign in the middle.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from pathlib import Path

TOKEN = "778:BENCH-TOKEN"
FLOODER, OTHER = 31, 32


class Errors(logging.Handler):
    """Counts the log records at ERROR and above."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def flood(messages: int, *, repeat: bool) -> None:
    """Flood, then print what each patient got."""
    from bot.entrypoints.bootstrap import wire
    from bot.entrypoints.config import Settings
    from bot.entrypoints.telegram import build_application, start_polling, stop_polling
    from bot.testing.fake_bot_api import FakeBotAPI

    errors = Errors()
    logging.getLogger().addHandler(errors)
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeBotAPI(TOKEN) as server:
            settings = Settings(
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_BASE_URL=server.base_url,
                DATABASE_URL=f"sqlite:///{Path(tmp) / 'flood.db'}",
            )
            wiring = wire(settings)
            await wiring.prepare()
            app = build_application(TOKEN, wiring.service, base_url=server.base_url, flood=wiring.flood)
            await start_polling(app, poll_timeout=1)
            try:
                matcher = wiring.engine.matcher("en")  # trained, as after the first patient's message
                if matcher is not None:
                    matcher.triage("good morning, I have a question")
                for n in range(messages):
                    calm = "hello?" if repeat else f"hello {n}"
                    text = "I have chest pain" if n == messages // 2 else calm
                    server.user_sends_text(FLOODER, text)
                server.user_sends_text(OTHER, "/start")
                started = time.perf_counter()
                await server.wait_for(lambda: server.bot_messages(OTHER), 120, what="the other patient")
                waited = time.perf_counter() - started
            finally:
                await stop_polling(app)
                await wiring.store.close()
            texts = [m["text"] for m in server.bot_messages(FLOODER)]
    slow_down = wiring.renderer.text("bot.slow_down", "en")
    kind = "the same text" if repeat else "each one different"
    print(f"{messages} messages ({kind}) from one patient in one moment, then another patient's /start")
    print(f"messages to the flooder:      {len(texts)}")
    print(f"  slow-down notices:          {texts.count(slow_down)}")
    print(f"  urgent guidance (chest):    {sum('chest pain' in t.lower() for t in texts)}")
    print(f"the other patient waited:     {waited:.2f} s")
    print(f"log records at ERROR:         {errors.count}")


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", action="store_true", help="the flood repeats one text")
    args = parser.parse_args()
    asyncio.run(flood(args.messages, repeat=args.repeat))


if __name__ == "__main__":
    main()
