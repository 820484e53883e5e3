"""The `vertebrobot` command: run the bot, chat locally, check and draw the content."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.config import Settings, async_database_url
from flows.check import read_content
from flows.content import ContentError, default_content_dir
from flows.models import ClinicDefaults, FlowSpec, RuleBook, SourceList, TextTable, WarningSigns
from flows.planning import ReminderPlan

BOTFATHER_HINT = (
    "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot) and "
    "export TELEGRAM_BOT_TOKEN=<its token>; {then}"
)
SCHEMAS: dict[str, type[BaseModel]] = {
    "flow": FlowSpec,
    "texts": TextTable,
    "rules": RuleBook,
    "warning_signs": WarningSigns,
    "clinic": ClinicDefaults,
    "sources": SourceList,
    "reminders": ReminderPlan,
}


def _print_problems(problems: list[object]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def content_check(directory: Path | None) -> int:
    """Print every problem as file:line; non-zero exit when there are errors."""
    content, problems = read_content(directory or default_content_dir())
    _print_problems(list(problems))
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    if content is None:
        print(f"content check failed: {errors} error(s), {warnings} warning(s)", file=sys.stderr)
        return 1
    states = sum(len(f.states) for f in content.flows.values())
    locales = ", ".join(sorted(content.locales))
    summary = f"content OK: {len(content.flows)} flows, {states} states, locales {locales}"
    print(summary + (f", {warnings} warning(s)" if warnings else ""))
    return 0


def content_graph(flow: str, directory: Path | None) -> int:
    """Print a Mermaid diagram of one flow."""
    from flows.check import load_content
    from flows.content import BASE_LOCALE
    from flows.diagram import flow_diagram

    try:
        content = load_content(directory)
    except ContentError as exc:
        _print_problems(list(exc.problems))
        return 1
    if flow not in content.flows:
        print(f"no flow {flow!r}; the flows are: {', '.join(sorted(content.flows))}", file=sys.stderr)
        return 2
    print(flow_diagram(content.flows[flow], content.locales[BASE_LOCALE].labels))
    return 0


def content_schema(output: Path) -> int:
    """Write a JSON Schema per kind of content file, for editors to validate as authors type."""
    output.mkdir(parents=True, exist_ok=True)
    for name, model in SCHEMAS.items():
        path = output / f"{name}.schema.json"
        path.write_text(
            json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        print(path)
    return 0


def _settings() -> Settings:
    return Settings()


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


async def _run_bot(settings: Settings, token: str) -> None:
    from bot.bootstrap import wire
    from bot.sender import TelegramSender
    from bot.telegram import build_application, start_polling, stop_polling

    wiring = wire(settings)
    await wiring.store.migrate()
    app = build_application(token, wiring.service, base_url=settings.telegram_api_base_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    dispatcher = wiring.start_dispatcher(TelegramSender(app.bot))
    try:
        await start_polling(app)
        reminders = asyncio.create_task(dispatcher.run(stop))
        logging.getLogger(__name__).info("vertebrobot is running (polling); Ctrl+C stops it")
        await stop.wait()
        await reminders
    finally:
        await stop_polling(app)
        await wiring.store.close()


async def _run_chat(settings: Settings, language: str) -> None:
    from bot.bootstrap import wire
    from bot.chat import chat

    wiring = wire(settings, database_url="sqlite://")
    await wiring.store.migrate()
    try:
        await chat(wiring.service, language_code=language)
    finally:
        await wiring.store.close()


def _guarded(coro: Coroutine[Any, Any, None]) -> int:
    try:
        asyncio.run(coro)
    except ContentError as exc:
        _print_problems(list(exc.problems))
        print("the content has errors; fix them and start again", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def run(settings: Settings) -> int:
    """Start the bot; without a token, say how to get one and offer the local chat."""
    _setup_logging(settings.log_level)
    if not settings.telegram_bot_token:
        if sys.stdin.isatty():
            print(BOTFATHER_HINT.format(then="until then, here is a local chat."), file=sys.stderr)
            return _guarded(_run_chat(settings, "en"))
        print(BOTFATHER_HINT.format(then="until then, try `vertebrobot chat`."), file=sys.stderr)
        return 2
    return _guarded(_run_bot(settings, settings.telegram_bot_token))


def db_upgrade(settings: Settings) -> int:
    """Apply the database migrations."""
    from bot.store import Store

    async def upgrade() -> None:
        store = Store(async_database_url(settings.database_url))
        try:
            await store.migrate()
        finally:
            await store.close()

    asyncio.run(upgrade())
    print("database is up to date")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(
        prog="vertebrobot", description="A Telegram guide for vertebroplasty patients."
    )
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (polling); without a token, a local chat")
    chat = sub.add_parser("chat", help="try the flows in this terminal")
    chat.add_argument("--language", default="en", help="language code, e.g. en")
    content = sub.add_parser("content", help="check, draw or describe the content")
    csub = content.add_subparsers(dest="action", required=True)
    check = csub.add_parser("check", help="validate content/ (schema, then cross-references)")
    check.add_argument("directory", nargs="?", type=Path)
    graph = csub.add_parser("graph", help="print a Mermaid diagram of a flow")
    graph.add_argument("flow")
    graph.add_argument("--dir", dest="directory", type=Path)
    schema = csub.add_parser("schema", help="write JSON Schemas of the content files")
    schema.add_argument("output", nargs="?", type=Path, default=Path("schema"))
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = parser().parse_args(argv)
    if args.command == "content":
        if args.action == "check":
            return content_check(args.directory)
        if args.action == "graph":
            return content_graph(args.flow, args.directory)
        return content_schema(args.output)
    settings = _settings()
    if args.command == "run":
        return run(settings)
    if args.command == "chat":
        _setup_logging("WARNING")
        return _guarded(_run_chat(settings, args.language))
    return db_upgrade(settings)


if __name__ == "__main__":
    raise SystemExit(main())
