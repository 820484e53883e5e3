"""The `vertebrobot` command: run the bot, chat locally, check and draw the content."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from bot.entrypoints.config import Settings, async_database_url
from flows.check import read_content
from flows.content import Content, ContentError, default_content_dir
from flows.models import (
    REVIEW_DATE,
    ClinicDefaults,
    ClinicSettings,
    FlowSpec,
    RuleBook,
    SourceList,
    TextTable,
    TranslationRecord,
)
from flows.planning import ReminderPlan
from flows.reading_models import FaqPhrasings, FaqTopics, WarningSigns
from flows.review import review_lines

if TYPE_CHECKING:  # the clinic service pulls in the database; `content check` stays light without it
    from bot.services.clinics import Clinic, ClinicService, Invite

    ClinicAction = Callable[[ClinicService, Content, argparse.Namespace], Awaitable[int]]

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


def content_stamp(locale_code: str, directory: Path | None) -> int:
    """Record, for each text of a translation, the English text it was made from (after checking it)."""
    import yaml

    from flows.content import BASE_LOCALE, TRANSLATION_FILE, english_hash, parse_content

    root = directory or default_content_dir()
    content, _, problems = parse_content(root)
    if content is None:
        _print_problems(list(problems))
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
        raise _CliError(f"--date {given!r}: write the day of the review as YYYY-MM-DD, e.g. 2026-11-20")
    if day > today:
        raise _CliError(f"--date {given}: that is in the future; give the day the review was done")
    return day


def content_review(files: list[Path], by: str, date: str | None, directory: Path | None) -> int:
    """Record who reviewed content files against the sources and when, editing only those two keys."""
    from flows.content import content_files
    from flows.review import ReviewEditError, stamp_review

    root = (directory or default_content_dir()).resolve()
    known = {path.resolve() for path in content_files(root)}
    problems: list[str] = []
    reviewer = by.strip()
    if not reviewer or "\n" in reviewer or "\r" in reviewer:
        problems.append('--by: give who reviewed the files on one line, e.g. "Dr A. Petrova, radiologist"')
    try:
        day = _review_day(date)
    except _CliError as exc:
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
        _print_problems(["error: " + problem for problem in problems])
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


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and the URL holds the bot token; python-telegram-bot logs
    # whole requests and answers (names, message texts) at DEBUG. Neither may reach the logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLogger().level))


async def _run_bot(settings: Settings, token: str) -> None:
    from bot.entrypoints.runner import run

    await run(settings, token)


async def _run_chat(settings: Settings, language: str) -> None:
    from bot.entrypoints.bootstrap import wire
    from bot.entrypoints.chat import chat

    wiring = wire(settings, database_url="sqlite://", zone=CHAT_ZONE)
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


# ---------------------------------------------------------------- clinics and appointments

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
REFERENCE_MAX = 64  # the procedures.reference column
LABEL_MAX = 80  # the clinic_tokens.label column


class _CliError(Exception):
    """A request the command line refuses; the message is the one line it prints."""


def _local(moment: dt.datetime, zone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


def _clinic_line(clinic: Clinic) -> str:
    s = clinic.settings
    phone = s.phone or "(not set)"
    rule = "the clinic's own rule" if s.own_fasting_times else "the usual advice"
    return (
        f"{clinic.slug}: {s.name}, {s.timezone}, fasting food {s.fasting_food_hours:g} h, "
        f"clear fluids {s.fasting_fluid_hours:g} h ({rule}), phone {phone}, emergency {s.emergency_number}"
    )


async def _find_clinic(service: ClinicService, slug: str) -> Clinic:
    from bot.services.clinics import NotFoundError

    try:
        return await service.clinic(slug)
    except NotFoundError:
        raise _CliError(f"no clinic {slug!r}; `vertebrobot clinic list` shows them") from None


async def _clinic_add(service: ClinicService, content: Content, args: argparse.Namespace) -> int:
    if not SLUG_PATTERN.match(args.slug):
        raise _CliError(f"slug {args.slug!r}: use up to 40 lowercase letters, digits, - and _")
    from bot.services.clinics import NotFoundError

    try:
        existing: Clinic | None = await service.clinic(args.slug)
    except NotFoundError:
        existing = None
    # A new clinic starts from the shipped defaults; an existing one keeps what is not given.
    base = existing.settings if existing else content.clinic
    given = {
        "name": args.name,
        "timezone": args.timezone,
        "phone": args.phone,
        "emergency_number": args.emergency_number,
        "fasting_food_hours": args.fasting_food_hours,
        "fasting_fluid_hours": args.fasting_fluid_hours,
    }
    try:
        settings = ClinicSettings.given(base, {k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        problems = (
            f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise _CliError("; ".join(problems)) from None
    clinic = await service.save_clinic(args.slug, settings)
    print(f"{'updated' if existing else 'added'} {_clinic_line(clinic)}")
    return 0


async def _clinic_load(service: ClinicService, content: Content, args: argparse.Namespace) -> int:
    saved = await service.load_clinics_file(args.file, content.clinic)
    for clinic in saved:
        print(f"saved {_clinic_line(clinic)}")
    return 0


async def _clinic_list(service: ClinicService, _content: Content, _args: argparse.Namespace) -> int:
    clinics = await service.clinics()
    for clinic in clinics:
        print(_clinic_line(clinic))
    if not clinics:
        print("no clinics yet; add one with `vertebrobot clinic add`")
    return 0


async def _clinic_token(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    if not 0 < len(args.label) <= LABEL_MAX:
        raise _CliError(f"--label: give 1 to {LABEL_MAX} characters")
    clinic = await _find_clinic(service, args.slug)
    token = await service.issue_token(clinic.slug, args.label)
    print(f"API token for clinic {clinic.slug} (label {args.label}):")
    print(token)
    print("it is shown only this once: store it now; send it as `Authorization: Bearer <token>`")
    return 0


def _print_invite(invite: Invite, zone: str, qr_file: Path | None) -> None:
    print(f"invite link (one patient, until {_local(invite.expires_at, zone)}): {invite.link}")
    if qr_file is not None:
        from bot.entrypoints.api import qr_png

        qr_file.write_bytes(qr_png(invite.link))
        print(f"QR code of the link written to {qr_file}")


async def _appointment_add(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    if args.ref is not None and not 0 < len(args.ref) <= REFERENCE_MAX:
        raise _CliError(f"--ref: give 1 to {REFERENCE_MAX} characters (the clinic's reference, no names)")
    clinic = await _find_clinic(service, args.clinic)
    details, invite = await service.register(clinic, args.at, reference=args.ref, timezone=args.timezone)
    procedure = details.procedure
    ref = f" (ref {procedure.reference})" if procedure.reference else ""
    print(f"procedure {procedure.id}: {_local(procedure.starts_at, procedure.timezone)}{ref}")
    _print_invite(invite, procedure.timezone, args.qr)
    return 0


async def _appointment_list(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    try:
        day = None if args.date is None else dt.date.fromisoformat(args.date)
    except ValueError:
        raise _CliError(f"--date {args.date!r}: write a date as 2026-11-24") from None
    clinic = await _find_clinic(service, args.clinic)
    listed = await service.procedures(clinic, day)
    for details in listed:
        procedure = details.procedure
        joined = "patient joined" if details.patient_linked else "invite not opened"
        print(
            f"{procedure.id}: {_local(procedure.starts_at, procedure.timezone)}, {procedure.status}, "
            f"{joined}, ref {procedure.reference or '-'}"
        )
    if not listed:
        print(f"no procedures{'' if day is None else f' on {day}'} for clinic {clinic.slug}")
    return 0


async def _appointment_cancel(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    clinic = await _find_clinic(service, args.clinic)
    if (await service.details(clinic, args.id)).procedure.status == "cancelled":
        raise _CliError(f"procedure {args.id} is already cancelled")
    details = await service.cancel(clinic, args.id)
    told = "; the patient will be told" if details.patient_linked else ""
    print(f"procedure {args.id} cancelled: its reminders stopped{told}")
    return 0


async def _appointment_reschedule(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    clinic = await _find_clinic(service, args.clinic)
    details = await service.reschedule(clinic, args.id, args.at)
    procedure = details.procedure
    told = "; reminders planned again and the patient will be told" if details.patient_linked else ""
    print(f"procedure {procedure.id} moved to {_local(procedure.starts_at, procedure.timezone)}{told}")
    return 0


async def _appointment_invite(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    clinic = await _find_clinic(service, args.clinic)
    invite = await service.new_invite(clinic, args.id)
    details = await service.details(clinic, args.id)
    _print_invite(invite, details.procedure.timezone, args.qr)
    return 0


async def _appointment_import(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    from bot.services.clinic_import import import_csv, import_fhir

    clinic = await _find_clinic(service, args.clinic)
    try:
        data = args.file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise _CliError(f"{args.file}: cannot read the file: {exc.strerror}") from None
    is_fhir = args.file.suffix.lower() == ".json"
    report = await (import_fhir(service, clinic, data) if is_fhir else import_csv(service, clinic, data))
    print(report.summary())
    for procedure_id, invite in sorted(report.invites.items()):
        print(f"#{procedure_id} invite: {invite.link}")
    for message in report.messages():
        print(f"{args.file}: {message}", file=sys.stderr)
    return 1 if report.problems else 0


async def _staff_code(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    from bot.services.staff import CODE_TTL, issue_staff_code

    await _find_clinic(service, args.clinic)
    code = await issue_staff_code(service, args.clinic)
    hours = int(CODE_TTL.total_seconds() // 3600)
    usage = f"works once, for {hours} hours: send /staff {code} to the bot"
    print(f"staff code for {args.clinic}: {code}  ({usage})")
    return 0


CLINIC_ACTIONS: dict[tuple[str, str], ClinicAction] = {
    ("clinic", "add"): _clinic_add,
    ("clinic", "load"): _clinic_load,
    ("clinic", "list"): _clinic_list,
    ("clinic", "token"): _clinic_token,
    ("appointment", "add"): _appointment_add,
    ("appointment", "list"): _appointment_list,
    ("appointment", "cancel"): _appointment_cancel,
    ("appointment", "reschedule"): _appointment_reschedule,
    ("appointment", "invite"): _appointment_invite,
    ("appointment", "import"): _appointment_import,
    ("staff", "code"): _staff_code,
}


def clinic_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run a `clinic` or `appointment` action on the configured database, migrated first."""
    from bot.db.store import Store
    from bot.services.clinics import ClinicError, ClinicService
    from flows.check import load_content

    action = CLINIC_ACTIONS[(args.command, args.action)]

    async def work() -> int:
        content = load_content(settings.content_dir)
        store = Store(async_database_url(settings.database_url))
        try:
            await store.migrate()
            service = ClinicService(store, content.plan, bot_username=settings.bot_username)
            return await action(service, content, args)
        finally:
            await store.close()

    try:
        return asyncio.run(work())
    except ContentError as exc:
        _print_problems(list(exc.problems))
        return 1
    except (_CliError, ClinicError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _add_staff_parser(sub: Any) -> None:
    staff = sub.add_parser("staff", help="approve clinic staff for the Telegram staff commands")
    ssub = staff.add_subparsers(dest="action", required=True)
    code = ssub.add_parser("code", help="a one-time code a staff member sends to the bot as /staff CODE")
    code.add_argument("--clinic", required=True)


def _add_clinic_parsers(sub: Any) -> None:
    clinic = sub.add_parser("clinic", help="add clinics, load them from YAML, list them, issue API tokens")
    csub = clinic.add_subparsers(dest="action", required=True)
    add = csub.add_parser("add", help="add a clinic (or update one); unset numbers keep the defaults")
    add.add_argument("slug", help="short name used in commands, e.g. sofia-spine")
    add.add_argument("--name", required=True)
    add.add_argument("--timezone", required=True, help="IANA zone, e.g. Europe/Sofia")
    add.add_argument("--phone")
    add.add_argument("--emergency-number")
    add.add_argument("--fasting-food-hours", type=float)
    add.add_argument("--fasting-fluid-hours", type=float)
    load = csub.add_parser("load", help="add or update clinics from a YAML file (`clinics: {slug: ...}`)")
    load.add_argument("file", type=Path)
    csub.add_parser("list", help="list the clinics")
    token = csub.add_parser("token", help="issue an API token for a clinic (shown once)")
    token.add_argument("slug")
    token.add_argument("--label", default="api", help="what the token is for, e.g. the system using it")

    appointment = sub.add_parser("appointment", help="register, list, move and cancel a clinic's procedures")
    asub = appointment.add_subparsers(dest="action", required=True)
    add = asub.add_parser("add", help="register a procedure and print its invite link")
    add.add_argument("--clinic", required=True)
    add.add_argument("--at", required=True, help="local start, e.g. 2026-11-24T09:30")
    add.add_argument("--timezone", help="IANA zone of the procedure (default: the clinic's)")
    add.add_argument("--ref", help="the clinic's own reference (no patient names)")
    add.add_argument("--qr", type=Path, help="also write the invite link as a QR code PNG to this file")
    listing = asub.add_parser("list", help="list a clinic's procedures")
    listing.add_argument("--clinic", required=True)
    listing.add_argument("--date", help="only those on this local date, e.g. 2026-11-24")
    for name, helptext in (("cancel", "cancel a procedure"), ("invite", "a new invite link for a procedure")):
        action = asub.add_parser(name, help=helptext)
        action.add_argument("--clinic", required=True)
        action.add_argument("id", type=int)
        if name == "invite":
            action.add_argument("--qr", type=Path, help="also write the link as a QR code PNG to this file")
    imports = asub.add_parser("import", help="import a CSV file, or FHIR Appointments (.json)")
    imports.add_argument("--clinic", required=True)
    imports.add_argument("file", type=Path, help="CSV (start,reference[,timezone][,action]) or FHIR JSON")
    reschedule = asub.add_parser("reschedule", help="move a procedure to a new local start")
    reschedule.add_argument("--clinic", required=True)
    reschedule.add_argument("id", type=int)
    reschedule.add_argument("--at", required=True, help="new local start, e.g. 2026-11-25T10:00")


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
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    _add_clinic_parsers(sub)
    _add_staff_parser(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = parser().parse_args(argv)
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
    if args.command in ("clinic", "appointment", "staff"):
        return clinic_command(settings, args)
    return db_upgrade(settings)


if __name__ == "__main__":
    raise SystemExit(main())
