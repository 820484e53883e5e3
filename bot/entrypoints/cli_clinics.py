"""The `vertebrobot clinic`, `appointment` and `staff` commands: what a coordinator types and reads.

The clinic service pulls in the database, so it is imported only when one of these runs:
`vertebrobot content check` stays light.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot.entrypoints.config import Settings, async_database_url
from flows.content import Content, ContentError
from flows.models import MAX_REFERENCE, MAX_TOKEN_LABEL, SLUG, ClinicSettings

if TYPE_CHECKING:
    from bot.services.clinics import Actor, Clinic, ClinicService, Invite

    ClinicAction = Callable[[ClinicService, Content, argparse.Namespace], Awaitable[int]]


# `clinic add` options beside --name and --timezone: every clinic setting, as in a clinic file.
CLINIC_OPTIONS = tuple(name for name in ClinicSettings.model_fields if name not in ("name", "timezone"))
METAVARS: dict[object, str] = {float: "HOURS", int: "N", bool: "true|false", dt.time: "HH:MM"}


def print_problems(problems: list[object]) -> None:
    """Each problem on its own line, on standard error."""
    for problem in problems:
        print(problem, file=sys.stderr)


class CliError(Exception):
    """A request the command line refuses; the message is the one line it prints."""


def operator() -> Actor:
    """Who the audit log names for the command line: the operator of the server."""
    from bot.services.clinic_model import OPERATOR

    return OPERATOR


def _local(moment: dt.datetime, zone: str) -> str:
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"


def _clinic_line(clinic: Clinic) -> str:
    """A clinic and every setting it has, on two lines."""
    s = clinic.settings
    phone = s.phone or "(not set)"
    rule = "the clinic's own rule" if s.own_fasting_times else "the usual advice"
    thinners = "its own text" if s.blood_thinner_text else "the usual advice"
    return (
        f"{clinic.slug}: {s.name}, {s.timezone}, fasting food {s.fasting_food_hours:g} h, "
        f"clear fluids {s.fasting_fluid_hours:g} h ({rule}), phone {phone}, emergency {s.emergency_number}, "
        f"data kept {s.retention_days} days\n"
        f"  address {s.address or '(not set)'}; arrival {s.arrival_minutes_before} min before, "
        f"travel {s.travel_minutes} min; quiet hours {s.quiet_start:%H:%M}-{s.quiet_end:%H:%M}, "
        f"evening time {s.evening_time:%H:%M}; severe pain from {s.pain_severe_from}, "
        f"pain rise alert {s.pain_rise_alert}; blood thinners: {thinners}"
    )


async def find_clinic(service: ClinicService, slug: str) -> Clinic:
    from bot.services.clinics import NotFoundError

    try:
        return await service.clinic(slug)
    except NotFoundError:
        raise CliError(f"no clinic {slug!r}; `vertebrobot clinic list` shows them") from None


async def _clinic_add(service: ClinicService, content: Content, args: argparse.Namespace) -> int:
    if not SLUG.fullmatch(args.slug):
        raise CliError(f"slug {args.slug!r}: use up to 40 lowercase letters, digits, - and _")
    from bot.services.clinics import NotFoundError

    try:
        existing: Clinic | None = await service.clinic(args.slug)
    except NotFoundError:
        existing = None
    # A new clinic starts from the shipped defaults; an existing one keeps what is not given.
    base = existing.settings if existing else content.clinic
    given = {name: getattr(args, name) for name in ("name", "timezone", *CLINIC_OPTIONS)}
    try:
        settings = ClinicSettings.given(base, {k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        problems = (
            f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise CliError("; ".join(problems)) from None
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
    if args.label is not None and not 0 < len(args.label) <= MAX_TOKEN_LABEL:
        raise CliError(f"--label: give 1 to {MAX_TOKEN_LABEL} characters")
    if len(args.slug) == 2 and args.slug[0] == "revoke":
        clinic = await find_clinic(service, args.slug[1])
        revoked = await service.revoke_tokens(clinic.slug, args.label)
        which = "" if args.label is None else f" labelled {args.label}"
        print(f"{revoked} API token(s){which} of clinic {clinic.slug} revoked: calls with them now get 401")
        return 0
    if len(args.slug) != 1:
        raise CliError("write `clinic token SLUG` to issue a token, `clinic token revoke SLUG` to revoke")
    label = args.label or "api"
    clinic = await find_clinic(service, args.slug[0])
    token = await service.issue_token(clinic.slug, label)
    print(f"API token for clinic {clinic.slug} (label {label}):")
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
    if args.ref is not None and not 0 < len(args.ref) <= MAX_REFERENCE:
        raise CliError(f"--ref: give 1 to {MAX_REFERENCE} characters (the clinic's reference, no names)")
    clinic = await find_clinic(service, args.clinic)
    details, invite = await service.register(
        clinic, args.at, reference=args.ref, timezone=args.timezone, by=operator()
    )
    procedure = details.procedure
    ref = f" (ref {procedure.reference})" if procedure.reference else ""
    print(f"procedure {procedure.id}: {_local(procedure.starts_at, procedure.timezone)}{ref}")
    _print_invite(invite, procedure.timezone, args.qr)
    return 0


async def _appointment_list(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    try:
        day = None if args.date is None else dt.date.fromisoformat(args.date)
    except ValueError:
        raise CliError(f"--date {args.date!r}: write a date as 2026-11-24") from None
    clinic = await find_clinic(service, args.clinic)
    listed = await service.procedures(clinic, day, by=operator())
    for details in listed:
        procedure = details.procedure
        joined = "patient joined" if details.patient_linked else "invite not opened"
        if details.unreachable:
            joined += ", patient unreachable (blocked the bot)"
        print(
            f"{procedure.id}: {_local(procedure.starts_at, procedure.timezone)}, {procedure.status}, "
            f"{joined}, ref {procedure.reference or '-'}"
        )
    if not listed:
        print(f"no procedures{'' if day is None else f' on {day}'} for clinic {clinic.slug}")
    return 0


async def _appointment_cancel(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    clinic = await find_clinic(service, args.clinic)
    if (await service.details(clinic, args.id)).procedure.status == "cancelled":
        raise CliError(f"procedure {args.id} is already cancelled")
    details = await service.cancel(clinic, args.id, by=operator())
    told = "; the patient will be told" if details.patient_linked else ""
    print(f"procedure {args.id} cancelled: its reminders stopped{told}")
    return 0


async def _appointment_reschedule(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    clinic = await find_clinic(service, args.clinic)
    details = await service.reschedule(clinic, args.id, args.at, by=operator())
    procedure = details.procedure
    told = "; reminders planned again and the patient will be told" if details.patient_linked else ""
    print(f"procedure {procedure.id} moved to {_local(procedure.starts_at, procedure.timezone)}{told}")
    return 0


async def _appointment_invite(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    clinic = await find_clinic(service, args.clinic)
    invite = await service.new_invite(clinic, args.id, by=operator())
    details = await service.details(clinic, args.id)
    _print_invite(invite, details.procedure.timezone, args.qr)
    return 0


async def _appointment_import(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    from bot.services.clinic_import import import_csv
    from bot.services.fhir_import import import_fhir

    clinic = await find_clinic(service, args.clinic)
    try:
        data = args.file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CliError(f"{args.file}: cannot read the file: {exc.strerror}") from None
    is_fhir = args.file.suffix.lower() == ".json"
    report = await (
        import_fhir(service, clinic, data, by=operator(), fhir_version=args.fhir_version)
        if is_fhir
        else import_csv(service, clinic, data, by=operator())
    )
    print(report.summary())
    references = {row.procedure_id: row.reference for row in report.rows}
    for procedure_id, invite in sorted(report.invites.items()):
        print(f"#{procedure_id} (ref {references.get(procedure_id) or '-'}) invite: {invite.link}")
    for message in report.skip_messages():
        print(f"{args.file}: {message}")
    for message in report.messages():
        print(f"{args.file}: {message}", file=sys.stderr)
    return 1 if report.problems else 0


async def _staff_code(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    from bot.services.staff import CODE_TTL, issue_staff_code

    await find_clinic(service, args.clinic)
    code = await issue_staff_code(service, args.clinic)
    hours = int(CODE_TTL.total_seconds() // 3600)
    usage = f"works once, for {hours} hours: send /staff {code} to the bot"
    print(f"staff code for {args.clinic}: {code}  ({usage})")
    return 0


async def _staff_link(service: ClinicService, _content: Content, args: argparse.Namespace) -> int:
    from bot.services.web_access import SIGNIN_TTL, issue_signin, signin_link

    settings = Settings()
    clinic = await find_clinic(service, args.clinic)
    token = await issue_signin(service, clinic, operator())
    base = settings.web_url or f"http://{settings.http_host}:{settings.http_port}"
    minutes = int(SIGNIN_TTL.total_seconds() // 60)
    print(f"sign-in link for {args.clinic} (works once, for {minutes} minutes): {signin_link(base, token)}")
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
    ("staff", "link"): _staff_link,
}
MAKES_LINKS = (_appointment_add, _appointment_invite, _appointment_import)


def clinic_command(settings: Settings, args: argparse.Namespace, action: ClinicAction) -> int:
    """Run a `clinic`, `appointment` or `staff` action on the configured database, migrated first."""
    from bot.db.store import Store
    from bot.entrypoints.startup import StartupError, invite_username
    from bot.services.clinics import ClinicError, ClinicService
    from flows.check import load_content

    async def work() -> int:
        content = load_content(settings.content_folder())
        store = Store(async_database_url(settings.database_url))
        try:
            await store.migrate()
            service = ClinicService(store, content.plan, bot_username=settings.bot_username)
            if action in MAKES_LINKS:  # known before anything is written
                await invite_username(settings, service)
            return await action(service, content, args)
        finally:
            await store.close()

    try:
        return asyncio.run(work())
    except ContentError as exc:
        print_problems(list(exc.problems))
        return 1
    except (CliError, ClinicError, StartupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def add_staff_parser(sub: Any) -> None:
    staff = sub.add_parser("staff", help="approve clinic staff for the Telegram staff commands")
    ssub = staff.add_subparsers(dest="action", required=True)
    code = ssub.add_parser("code", help="a one-time code a staff member sends to the bot as /staff CODE")
    code.add_argument("--clinic", required=True)
    link = ssub.add_parser("link", help="a one-time sign-in link to the clinic web page (10 minutes)")
    link.add_argument("--clinic", required=True)
    remove = ssub.add_parser("remove", help="a staff member gets no more alerts and no staff commands")
    remove.add_argument("slug", help="the clinic")
    remove.add_argument("user_id", type=int, help="the staff member's Telegram user id")


def add_clinic_parsers(sub: Any) -> None:
    clinic = sub.add_parser("clinic", help="add clinics, load them from YAML, list them, issue API tokens")
    csub = clinic.add_subparsers(dest="action", required=True)
    add = csub.add_parser("add", help="add a clinic (or update one); unset numbers keep the defaults")
    add.add_argument("slug", help="short name used in commands, e.g. sofia-spine")
    add.add_argument("--name", required=True)
    add.add_argument("--timezone", required=True, help="IANA zone, e.g. Europe/Sofia")
    for name in CLINIC_OPTIONS:  # every setting `clinic load` reads; the settings check the values
        field = ClinicSettings.model_fields[name]
        helptext = (field.description or "").replace("%", "%%") or None
        metavar = METAVARS.get(field.annotation, "TEXT")
        add.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar=metavar, help=helptext)
    load = csub.add_parser("load", help="add or update clinics from a YAML file (`clinics: {slug: ...}`)")
    load.add_argument("file", type=Path)
    csub.add_parser("list", help="list the clinics")
    stats = csub.add_parser("stats", help="how many procedures and warning signs a clinic has had")
    stats.add_argument("slug")
    token = csub.add_parser(
        "token", help="issue an API token for a clinic (shown once); `token revoke SLUG` revokes them"
    )
    token.add_argument("slug", nargs="+", metavar="[revoke] SLUG")
    token.add_argument(
        "--label", help="what the token is for (default api); with revoke: only the tokens with this label"
    )

    appointment = sub.add_parser(
        "appointment",
        aliases=["procedure"],
        help="register, list, move, cancel and delete a clinic's procedures",
    )
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
    for name, helptext in (
        ("cancel", "cancel a procedure"),
        ("invite", "a new invite link for a procedure"),
        ("delete", "delete a procedure and its patient's data (the patient is not told: cancel first)"),
    ):
        action = asub.add_parser(name, help=helptext)
        action.add_argument("--clinic", required=True)
        action.add_argument("id", type=int)
        if name == "invite":
            action.add_argument("--qr", type=Path, help="also write the link as a QR code PNG to this file")
    imports = asub.add_parser("import", help="import a CSV file, or FHIR Appointments (.json)")
    imports.add_argument("--clinic", required=True)
    imports.add_argument("file", type=Path, help="CSV (start,reference[,timezone][,action]) or FHIR JSON")
    imports.add_argument(
        "--fhir-version", help="R4, R4B or R5 (4.0, 4.3, 5.0): else meta.profile, else tried"
    )
    reschedule = asub.add_parser("reschedule", help="move a procedure to a new local start")
    reschedule.add_argument("--clinic", required=True)
    reschedule.add_argument("id", type=int)
    reschedule.add_argument("--at", required=True, help="new local start, e.g. 2026-11-25T10:00")
