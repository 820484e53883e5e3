"""The `vertebrobot` command: run the bot, chat locally, check and draw the content."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot import __version__
from bot.entrypoints.cli_clinics import (
    CLINIC_ACTIONS,
    CliError,
    add_clinic_parsers,
    add_staff_parser,
    clinic_command,
    print_problems,
)
from bot.entrypoints.cli_privacy import PRIVACY_ACTIONS, purge_command
from bot.entrypoints.config import Settings, StartupError, async_database_url
from flows.check import read_content
from flows.content import ContentError
from flows.models import (
    REVIEW_DATE,
    ClinicDefaults,
    FlowSpec,
    RuleBook,
    SourceList,
    TextTable,
    TranslationRecord,
)
from flows.planning import ReminderPlan
from flows.reading_models import FaqPhrasings, FaqTopics, WarningSigns
from flows.review import review_lines

CHAT_ZONE = "UTC"  # the local chat's stated zone when the clinic sets none
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
    "translation": TranslationRecord,
    "reminders": ReminderPlan,
    "faq": FaqTopics,
    "faq_phrasings": FaqPhrasings,
}


def content_root(directory: Path | None) -> Path:
    """The folder a content command works on: the one given, else the one the bot would use."""
    return directory.resolve() if directory else _settings().content_folder()


def content_check(directory: Path | None) -> int:
    """Print every problem as file:line; non-zero exit when there are errors."""
    root = content_root(directory)
    print(f"checked {root}")
    content, problems = read_content(root)
    print_problems(list(problems))
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
        content = load_content(content_root(directory))
    except ContentError as exc:
        print_problems(list(exc.problems))
        return 1
    if flow not in content.flows:
        print(f"no flow {flow!r}; the flows are: {', '.join(sorted(content.flows))}", file=sys.stderr)
        return 2
    print(flow_diagram(content.flows[flow], content.locales[BASE_LOCALE].labels))
    return 0


def content_stamp(locale_code: str, directory: Path | None) -> int:
    """Record, for each text of a translation, the English text it was made from (after checking it)."""
    import yaml

    from flows.content import BASE_LOCALE, TRANSLATION_FILE, english_hash, parse_content

    root = content_root(directory)
    content, _, problems = parse_content(root)
    if content is None:
        print_problems(list(problems))
        return 1
    if locale_code == BASE_LOCALE or locale_code not in content.locales:
        others = ", ".join(sorted(set(content.locales) - {BASE_LOCALE})) or "none yet"
        print(f"no translation {locale_code!r}; the translations are: {others}", file=sys.stderr)
        return 2
    base, locale = content.locales[BASE_LOCALE], content.locales[locale_code]
    english = {**base.texts, **base.labels}
    made_from = {
        text_id: english_hash(english[text_id]) for text_id in sorted(locale.where) if text_id in english
    }
    record = {"version": 1, "locale": locale_code, "made_from": made_from}
    path = root / locale_code / TRANSLATION_FILE
    header = "# Which English text each translation was made from (`vertebrobot content stamp`).\n"
    # The file's review record (`content review`) stays as it was written.
    reviewed = "".join(review_lines(path.read_text(encoding="utf-8"))) if path.is_file() else ""
    body = yaml.safe_dump(record, allow_unicode=True, sort_keys=False)
    path.write_text(header + reviewed + body, encoding="utf-8")
    print(f"{path}: {len(made_from)} texts recorded")
    return 0


def _review_day(given: str | None) -> dt.date:
    today = dt.datetime.now().astimezone().date()
    if given is None:
        return today
    try:
        day = dt.date.fromisoformat(given) if REVIEW_DATE.match(given) else None
    except ValueError:
        day = None
    if day is None:
        raise CliError(f"--date {given!r}: write the day of the review as YYYY-MM-DD, e.g. 2026-11-20")
    if day > today:
        raise CliError(f"--date {given}: that is in the future; give the day the review was done")
    return day


def content_review(files: list[Path], by: str, date: str | None, directory: Path | None) -> int:
    """Record who reviewed content files against the sources and when, editing only those two keys."""
    from flows.content import content_files
    from flows.review import ReviewEditError, stamp_review

    root = content_root(directory)
    known = {path.resolve() for path in content_files(root)}
    problems: list[str] = []
    reviewer = by.strip()
    if not reviewer or "\n" in reviewer or "\r" in reviewer:
        problems.append('--by: give who reviewed the files on one line, e.g. "Dr A. Petrova, radiologist"')
    try:
        day = _review_day(date)
    except CliError as exc:
        problems.append(str(exc))
        day = None
    edits: dict[Path, str] = {}
    for file in files:
        path = file.resolve()
        if not path.is_relative_to(root):
            problems.append(f"{file}: not inside the content folder {root} (give --dir for another one)")
        elif path not in known:
            problems.append(
                f"{file}: not a content file: `vertebrobot content check` does not read it "
                "(review the .yaml files of the content folder)"
            )
        elif day is not None:
            try:
                edits[path] = stamp_review(path.read_text(encoding="utf-8"), reviewer, day)
            except ReviewEditError as exc:
                problems.append(f"{file}: {exc}")
    if problems:
        print_problems(["error: " + problem for problem in problems])
        print("no file was changed", file=sys.stderr)
        return 2
    for path, text in edits.items():
        path.write_bytes(text.encode("utf-8"))
        print(f"{path}: reviewed by {reviewer} on {day}")
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


def _setup_logging(level: str, fmt: str = "text") -> None:
    from bot.entrypoints.logs import setup_logging

    setup_logging(level, fmt)


async def _run_bot(settings: Settings, token: str) -> None:
    from bot.entrypoints.runner import run

    await run(settings, token)


async def _run_chat(settings: Settings, language: str) -> None:
    from bot.entrypoints.logs import quiet_libraries

    quiet_libraries()  # alembic's plugins and migration steps are not for the chat's screen
    # the chat says which content it uses in its own words, below
    logging.getLogger("bot.entrypoints.bootstrap").setLevel(logging.WARNING)
    from bot.entrypoints.bootstrap import wire
    from bot.entrypoints.chat import chat

    wiring = wire(settings, database_url="sqlite://", zone=CHAT_ZONE)
    print(f"(local chat: content from {wiring.content.root})", file=sys.stderr)
    if wiring.clinic.timezone == CHAT_ZONE and not wiring.content.clinic.timezone:
        print(f"(local chat: times are in {CHAT_ZONE}, since the clinic sets no time zone)", file=sys.stderr)
    await wiring.store.migrate()
    try:
        await chat(wiring.service, language_code=language)
    finally:
        await wiring.store.close()


def _guarded(coro: Coroutine[Any, Any, None]) -> int:
    try:
        asyncio.run(coro)
    except ContentError as exc:
        print_problems(list(exc.problems))
        print("the content has errors; fix them and start again", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def run(settings: Settings) -> int:
    """Start the bot; without a token, say how to get one and offer the local chat."""
    _setup_logging(settings.log_level, settings.log_format)
    if not settings.telegram_bot_token:
        if sys.stdin.isatty():
            print(BOTFATHER_HINT.format(then="until then, here is a local chat."), file=sys.stderr)
            return _guarded(_run_chat(settings, "en"))
        print(BOTFATHER_HINT.format(then="until then, try `vertebrobot chat`."), file=sys.stderr)
        return 2
    return _guarded(_run_bot(settings, settings.telegram_bot_token))


def db_upgrade(settings: Settings) -> int:
    """Apply the database migrations."""
    from bot.db.store import Store

    async def upgrade() -> None:
        store = Store(async_database_url(settings.database_url))
        try:
            await store.migrate()
        finally:
            await store.close()

    asyncio.run(upgrade())
    print("database is up to date")
    return 0


def db_backup(settings: Settings, target: Path | None) -> int:
    """Copy the SQLite database, while the bot runs, into a new file (PostgreSQL: pg_dump)."""
    from bot.db.backup import BackupError, backup

    if target is None:
        print("give the file to write the backup to: vertebrobot db backup FILE", file=sys.stderr)
        return 2
    try:
        size = backup(settings.database_url, target)
    except BackupError as exc:
        print(f"no backup made: {exc}", file=sys.stderr)
        return 1
    print(f"{target}: backup of the database written ({size} bytes)")
    return 0


def serve_api(settings: Settings) -> int:
    """Serve the clinic API alone."""
    from bot.entrypoints.api_server import serve_api as serve

    _setup_logging(settings.log_level, settings.log_format)
    return _guarded(serve(settings))


# ---------------------------------------------------------------- clinics and appointments


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(
        prog="vertebrobot", description="A Telegram guide for vertebroplasty patients."
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (polling); without a token, a local chat")
    sub.add_parser("serve-api", help="serve the clinic API (and /healthz, /readyz, /metrics) alone")
    chat = sub.add_parser("chat", help="try the flows in this terminal")
    chat.add_argument("--language", default="en", help="language code, e.g. en")
    content = sub.add_parser("content", help="check, draw or describe the content")
    csub = content.add_subparsers(dest="action", required=True)
    check = csub.add_parser("check", help="validate content/ (schema, then cross-references)")
    check.add_argument("directory", nargs="?", type=Path)
    graph = csub.add_parser("graph", help="print a Mermaid diagram of a flow")
    graph.add_argument("flow")
    graph.add_argument("--dir", dest="directory", type=Path)
    stamp = csub.add_parser("stamp", help="record which English texts a checked translation was made from")
    stamp.add_argument("locale", help="the translation's language code, e.g. tr")
    stamp.add_argument("--dir", dest="directory", type=Path)
    review = csub.add_parser(
        "review", help="record that content files were checked against the sources: who, and when"
    )
    review.add_argument("files", nargs="+", type=Path, help="content files, e.g. content/en/about.yaml")
    review.add_argument("--by", required=True, help='who reviewed them, e.g. "Dr A. Petrova, radiologist"')
    review.add_argument("--date", help="the day of the review, YYYY-MM-DD (default: today; never later)")
    review.add_argument("--dir", dest="directory", type=Path, help="the content folder (default: the bot's)")
    schema = csub.add_parser("schema", help="write JSON Schemas of the content files")
    schema.add_argument("output", nargs="?", type=Path, default=Path("schema"))
    sub.add_parser(
        "purge", help="remove the patient data each clinic keeps past its retention_days (counts stay)"
    )
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "backup"])
    db.add_argument("file", nargs="?", type=Path, help="backup: the new file to write the copy to")
    add_clinic_parsers(sub)
    add_staff_parser(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    from bot.db.store import DatabaseUnavailableError

    args = parser().parse_args(argv)
    try:
        return _command(args)
    except (StartupError, DatabaseUnavailableError) as exc:
        # What the operator must fix, in one line: no traceback, nothing secret.
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace) -> int:
    if args.command == "content":
        if args.action == "check":
            return content_check(args.directory)
        if args.action == "graph":
            return content_graph(args.flow, args.directory)
        if args.action == "stamp":
            return content_stamp(args.locale, args.directory)
        if args.action == "review":
            return content_review(args.files, args.by, args.date, args.directory)
        return content_schema(args.output)
    settings = _settings()
    if args.command == "run":
        return run(settings)
    if args.command == "chat":
        _setup_logging("WARNING")
        return _guarded(_run_chat(settings, args.language))
    if args.command == "serve-api":
        return serve_api(settings)
    if args.command == "db" and args.action == "backup":
        return db_backup(settings, args.file)
    if args.command == "purge":
        return purge_command(settings)
    if args.command in ("clinic", "appointment", "procedure", "staff"):
        command = "appointment" if args.command == "procedure" else args.command
        action = {**CLINIC_ACTIONS, **PRIVACY_ACTIONS}[(command, args.action)]
        return clinic_command(settings, args, action)
    return db_upgrade(settings)


if __name__ == "__main__":
    raise SystemExit(main())
