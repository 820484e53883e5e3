"""The clinic service: clinics, their tokens, procedures, invites. The API, CLI and staff use it."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from sqlalchemy import delete, func, insert, select, update

from bot.db.checkin_repo import CheckinView
from bot.db.reminder_repo import DEFAULT_CLINIC, Procedure, ReminderView
from bot.db.store import Store, Transaction, utcnow
from bot.db.tables import CLINIC_TOKENS, CLINICS, INVITE_ATTEMPTS, INVITES, PROCEDURES, SAFETY_EVENTS
from bot.services.procedures import after_welcome, notice, replan, to_utc
from flows.content import ContentError, Problem, read_yaml_file
from flows.models import NO_ZONE, ClinicSettings
from flows.planning import ReminderPlan, plan_reminders
from flows.yamlio import line_at

log = logging.getLogger(__name__)

INVITE_TTL = dt.timedelta(days=30)
GUESS_WINDOW = dt.timedelta(hours=1)
GUESSES_ALLOWED = 5  # wrong invites a Telegram account may try in GUESS_WINDOW
MAX_REFERENCE = 64
# One token, no spaces: a clinic's own id fits, a patient's full name does not.
REFERENCE = re.compile(rf"[^\s\x00-\x1f\x7f]{{1,{MAX_REFERENCE}}}")
REFERENCE_RULE = f"a reference is the clinic's own id: 1 to {MAX_REFERENCE} characters, no spaces, no names"
SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
SLUG_RULE = "a clinic's short name has 1 to 40 lower-case letters, digits, - or _"


class ClinicError(Exception):
    """Something a clinic asked for cannot be done; the message says what to change."""


class NotFoundError(ClinicError):
    """No such clinic or procedure for this clinic (the same answer either way, on purpose)."""


def digest(secret: str) -> str:
    """How tokens, invites and codes are stored: never the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A 192-bit random token, safe in a Telegram deep link (letters, digits, - and _)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Clinic:
    """A clinic as the service sees it."""

    id: int
    slug: str
    settings: ClinicSettings
    staff_chat_id: int | None


@dataclass(frozen=True)
class Invite:
    """An invite as handed to the patient: the deep link, and when it stops working."""

    token: str
    link: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class ProcedureDetails:
    """What a clinic sees of one procedure."""

    procedure: Procedure
    local_start: dt.datetime
    patient_linked: bool
    reminders: list[ReminderView]
    warning_signs: list[tuple[str, dt.datetime]]


@dataclass(frozen=True)
class Redemption:
    """The outcome of a patient opening an invite."""

    result: str  # linked | used | expired | unknown | throttled
    procedure: Procedure | None = None
    clinic: Clinic | None = None


def parse_start(value: str | dt.datetime, zone_name: str) -> tuple[dt.datetime, str]:
    """A procedure's start as UTC from ISO 8601 text; without an offset it is local to `zone_name`."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ClinicError(f"unknown time zone {zone_name!r}; use an IANA name such as Europe/Sofia") from None
    if isinstance(value, str):
        try:
            dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
        else:  # a date alone would silently mean midnight
            raise ClinicError(
                f"the time {value!r} has a date but no time of day; write it as 2026-11-24T09:30"
            )
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ClinicError(
                f"cannot read the time {value!r}; write it as 2026-11-24T09:30 (local) "
                "or with an offset, 2026-11-24T09:30+02:00"
            ) from None
    start = to_utc(value, zone) if value.tzinfo is None else value.astimezone(dt.UTC)
    return start, zone_name


class ClinicService:
    """Everything clinics do, on one store; every method is one transaction."""

    def __init__(
        self,
        store: Store,
        plan: ReminderPlan,
        *,
        bot_username: str = "vertebrobot",
        clock: Any = utcnow,
        invite_ttl: dt.timedelta = INVITE_TTL,
        on_scheduled: Any = None,
    ) -> None:
        self.store = store
        self.plan = plan
        self.bot_username = bot_username
        self.clock = clock
        self.invite_ttl = invite_ttl
        self.on_scheduled = on_scheduled

    # ---------------------------------------------------------------- clinics

    async def save_clinic(self, slug: str, settings: ClinicSettings) -> Clinic:
        """Create a clinic, or replace the settings of one with this slug."""
        if not SLUG.fullmatch(slug):
            raise ClinicError(f"clinic {slug!r}: {SLUG_RULE}")
        if slug == DEFAULT_CLINIC:
            raise ClinicError(
                f"clinic {slug!r} is the default clinic: set it in content/clinic.yaml or the file named by "
                "VERTEBROBOT_CLINIC_FILE; it is copied into the database at every start"
            )
        if not settings.timezone:
            raise ClinicError(f"clinic {slug!r}: {NO_ZONE}")
        now = self.clock()
        data = settings.model_dump(mode="json")

        def save(tx: Transaction) -> Clinic:
            existing = tx.conn.execute(
                select(CLINICS.c.id).where(CLINICS.c.slug == slug)
            ).scalar_one_or_none()
            if existing is None:
                tx.conn.execute(
                    insert(CLINICS).values(slug=slug, settings=data, created_at=now, updated_at=now)
                )
            else:
                tx.conn.execute(
                    update(CLINICS).where(CLINICS.c.id == existing).values(settings=data, updated_at=now)
                )
                # Reminders already planned follow the new numbers, and their texts name them.
                moved = self._replan_where(tx, PROCEDURES.c.clinic_id == existing, settings, now)
                if moved:
                    log.info("clinic %s changed: reminders of %s procedure(s) planned again", existing, moved)
            return clinic_where(tx, CLINICS.c.slug == slug)

        clinic = await self.store.run(save)
        self._wake()
        return clinic

    async def sync_default(self, settings: ClinicSettings) -> Clinic:
        """At start-up: the default clinic (content/clinic.yaml or VERTEBROBOT_CLINIC_FILE) is kept
        in the database like every other clinic, so every patient's clinic settings are read from
        one place. Procedures patients entered themselves belong to it, and follow its settings as
        they are now (the file may have changed since they were planned). It may lack a time zone:
        its patients then name their own."""
        now = self.clock()
        data = settings.model_dump(mode="json")

        def sync(tx: Transaction) -> Clinic:
            existing = tx.reminders.default_clinic_id()
            if existing is None:
                existing = tx.conn.execute(
                    insert(CLINICS)
                    .values(slug=DEFAULT_CLINIC, settings=data, created_at=now, updated_at=now)
                    .returning(CLINICS.c.id)
                ).scalar_one()
            else:
                tx.conn.execute(
                    update(CLINICS).where(CLINICS.c.id == existing).values(settings=data, updated_at=now)
                )
            tx.conn.execute(
                update(PROCEDURES).where(PROCEDURES.c.clinic_id.is_(None)).values(clinic_id=existing)
            )
            moved = self._replan_where(tx, PROCEDURES.c.clinic_id == existing, settings, now)
            if moved:
                log.info("default clinic changed: reminders of %s procedure(s) planned again", moved)
            return clinic_where(tx, CLINICS.c.id == existing)

        clinic = await self.store.run(sync)
        self._wake()
        return clinic

    def _replan_where(
        self, tx: Transaction, condition: Any, settings: ClinicSettings, now: dt.datetime
    ) -> int:
        ids = tx.conn.execute(
            select(PROCEDURES.c.id).where(
                condition, PROCEDURES.c.status == "scheduled", PROCEDURES.c.starts_at > now
            )
        ).scalars()
        procedures = [p for p in (tx.reminders.procedure_by_id(i) for i in list(ids)) if p is not None]
        return sum(replan(tx, self.plan, procedure, settings, now) for procedure in procedures)

    async def load_clinics_file(self, path: Path, defaults: ClinicSettings) -> list[Clinic]:
        """Create or update clinics from YAML (`clinics: {slug: {settings...}}`); errors as file:line."""
        tree = read_yaml_file(path)
        clinics = tree.get("clinics") if isinstance(tree, dict) else None
        if not isinstance(clinics, dict) or not clinics:
            raise ContentError([Problem(str(path), 1, "expected `clinics:` with one entry per clinic slug")])
        parsed: dict[str, ClinicSettings] = {}
        problems: list[Problem] = []
        for slug, raw in clinics.items():
            if not SLUG.fullmatch(str(slug)) or not isinstance(raw, dict | None):
                problems.append(
                    Problem(
                        str(path),
                        line_at(tree, ("clinics", slug)),
                        f"{slug}: {SLUG_RULE}, with settings under it",
                    )
                )
                continue
            if not (raw or {}).get("timezone") and not defaults.timezone:
                problems.append(Problem(str(path), line_at(tree, ("clinics", slug)), f"{slug}: {NO_ZONE}"))
                continue
            try:
                parsed[slug] = ClinicSettings.given(defaults, raw or {})
            except ValidationError as exc:
                for err in exc.errors():
                    where = line_at(tree, ("clinics", slug, *err["loc"]))
                    problems.append(
                        Problem(str(path), where, f"{slug}.{'.'.join(map(str, err['loc']))}: {err['msg']}")
                    )
        if problems:
            raise ContentError(problems)
        return [await self.save_clinic(slug, settings) for slug, settings in parsed.items()]

    async def clinics(self) -> list[Clinic]:
        """Every clinic."""
        return await self.store.run(
            lambda tx: [clinic_from_row(row) for row in tx.conn.execute(select(CLINICS))]
        )

    async def clinic(self, slug: str) -> Clinic:
        """A clinic by its slug."""
        return await self.store.run(lambda tx: clinic_where(tx, CLINICS.c.slug == slug))

    async def issue_token(self, slug: str, label: str = "api") -> str:
        """A new API token for a clinic; only its hash is kept, so show it once."""
        token = new_secret()
        now = self.clock()

        def issue(tx: Transaction) -> None:
            clinic = clinic_where(tx, CLINICS.c.slug == slug)
            tx.conn.execute(
                insert(CLINIC_TOKENS).values(
                    clinic_id=clinic.id, token_hash=digest(token), label=label, created_at=now
                )
            )

        await self.store.run(issue)
        return token

    async def authenticate(self, token: str) -> Clinic | None:
        """The clinic a bearer token belongs to, or None."""

        def find(tx: Transaction) -> Clinic | None:
            row = tx.conn.execute(
                select(CLINICS)
                .join(CLINIC_TOKENS, CLINIC_TOKENS.c.clinic_id == CLINICS.c.id)
                .where(CLINIC_TOKENS.c.token_hash == digest(token), CLINIC_TOKENS.c.revoked_at.is_(None))
            ).first()
            return None if row is None else clinic_from_row(row)

        return await self.store.run(find)

    # ---------------------------------------------------------------- procedures

    async def register(
        self,
        clinic: Clinic,
        start: str | dt.datetime,
        *,
        reference: str | None = None,
        timezone: str | None = None,
    ) -> tuple[ProcedureDetails, Invite]:
        """Register a procedure and make its invite; reminders are planned once the patient opens it."""
        starts_at, zone = parse_start(start, timezone or clinic.settings.timezone)
        now = self.clock()
        if starts_at <= now:
            raise ClinicError("the procedure's start is in the past; give a future time")
        if reference is not None and not REFERENCE.fullmatch(reference):
            raise ClinicError(REFERENCE_RULE)
        invite_token = new_secret()

        def register(tx: Transaction) -> int:
            procedure_id = tx.conn.execute(
                insert(PROCEDURES)
                .values(
                    clinic_id=clinic.id,
                    reference=reference,
                    starts_at=starts_at,
                    timezone=zone,
                    status="scheduled",
                    source="clinic",
                    created_at=now,
                    updated_at=now,
                )
                .returning(PROCEDURES.c.id)
            ).scalar_one()
            self._add_invite(tx, int(procedure_id), invite_token, now)
            return int(procedure_id)

        procedure_id = await self.store.run(register)
        return await self.details(clinic, procedure_id), self._invite(invite_token, now)

    async def details(self, clinic: Clinic, procedure_id: int) -> ProcedureDetails:
        """One of this clinic's procedures, with its reminders and reported warning signs."""
        return await self.store.run(lambda tx: self._details(tx, clinic, procedure_id))

    async def checkins(self, clinic: Clinic, procedure_id: int) -> tuple[Procedure, list[CheckinView]]:
        """One of this clinic's procedures and its patient's check-in answers, in the order they were due."""

        def read(tx: Transaction) -> tuple[Procedure, list[CheckinView]]:
            details = self._details(tx, clinic, procedure_id)  # NotFoundError for another clinic's
            return details.procedure, tx.checkins.for_procedure(procedure_id)

        return await self.store.run(read)

    async def procedures(self, clinic: Clinic, day: dt.date | None = None) -> list[ProcedureDetails]:
        """This clinic's procedures (on one local day, if given), soonest first."""

        def listing(tx: Transaction) -> list[ProcedureDetails]:
            ids = tx.conn.execute(
                select(PROCEDURES.c.id, PROCEDURES.c.starts_at, PROCEDURES.c.timezone)
                .where(PROCEDURES.c.clinic_id == clinic.id)
                .order_by(PROCEDURES.c.starts_at)
            ).all()
            chosen = [
                row.id
                for row in ids
                if day is None or row.starts_at.astimezone(ZoneInfo(row.timezone)).date() == day
            ]
            return [self._details(tx, clinic, procedure_id) for procedure_id in chosen]

        return await self.store.run(listing)

    async def reschedule(
        self, clinic: Clinic, procedure_id: int, start: str | dt.datetime
    ) -> ProcedureDetails:
        """Move a procedure; its patient's reminders are planned again and the patient is told."""
        current = await self.details(clinic, procedure_id)
        if current.procedure.status != "scheduled":
            raise ClinicError("this procedure is cancelled; register a new one")
        starts_at, _ = parse_start(start, current.procedure.timezone)
        now = self.clock()
        if starts_at <= now:
            raise ClinicError("the new start is in the past; give a future time")

        def move(tx: Transaction) -> None:
            moved = tx.conn.execute(
                update(PROCEDURES)
                .where(PROCEDURES.c.id == procedure_id, PROCEDURES.c.status == "scheduled")
                .values(starts_at=starts_at, updated_at=now)
            )
            if moved.rowcount != 1:  # cancelled meanwhile (another instance or another clinic user)
                raise ClinicError("this procedure is cancelled; register a new one")
            procedure = tx.reminders.procedure_by_id(procedure_id)
            if procedure is not None and procedure.user_id is not None:
                tx.reminders.cancel_open(procedure_id, "rescheduled")
                self._plan(tx, procedure, clinic, now)
                tx.reminders.add_plan(procedure_id, procedure.user_id, [notice("clinic.rescheduled", now)])

        await self.store.run(move)
        self._wake()
        return await self.details(clinic, procedure_id)

    async def cancel(self, clinic: Clinic, procedure_id: int) -> ProcedureDetails:
        """Cancel a procedure: its reminders stop and its patient is told kindly, once."""
        await self.details(clinic, procedure_id)
        now = self.clock()

        def cancel(tx: Transaction) -> None:
            changed = tx.conn.execute(
                update(PROCEDURES)
                .where(PROCEDURES.c.id == procedure_id, PROCEDURES.c.status == "scheduled")
                .values(status="cancelled", updated_at=now)
            )
            if changed.rowcount != 1:
                return  # already cancelled: nothing more to stop, nobody to tell twice
            tx.reminders.cancel_open(procedure_id, "cancelled by the clinic")
            tx.conn.execute(
                update(INVITES)
                .where(INVITES.c.procedure_id == procedure_id, INVITES.c.used_at.is_(None))
                .values(expires_at=now)
            )
            procedure = tx.reminders.procedure_by_id(procedure_id)
            if procedure is not None and procedure.user_id is not None:
                tx.reminders.add_plan(procedure_id, procedure.user_id, [notice("clinic.cancelled", now)])

        await self.store.run(cancel)
        self._wake()
        return await self.details(clinic, procedure_id)

    async def new_invite(self, clinic: Clinic, procedure_id: int) -> Invite:
        """A fresh invite for a procedure whose patient has not joined yet."""
        details = await self.details(clinic, procedure_id)
        if details.patient_linked:
            raise ClinicError("the patient has already joined this procedure")
        if details.procedure.status != "scheduled":
            raise ClinicError("this procedure is cancelled")
        token, now = new_secret(), self.clock()

        def replace_invite(tx: Transaction) -> None:
            # The newest invite is the only one that works: a lost or shared link stops here.
            tx.conn.execute(
                update(INVITES)
                .where(INVITES.c.procedure_id == procedure_id, INVITES.c.used_at.is_(None))
                .values(expires_at=now)
            )
            self._add_invite(tx, procedure_id, token, now)

        await self.store.run(replace_invite)
        return self._invite(token, now)

    # ---------------------------------------------------------------- patients

    def redeem(self, tx: Transaction, user_id: int, token: str, now: dt.datetime) -> Redemption:
        """A patient opened an invite link: link them to the procedure and plan its reminders."""
        if too_many_tries(tx, user_id, now):
            return Redemption("throttled")
        invite = tx.conn.execute(select(INVITES).where(INVITES.c.token_hash == digest(token))).first()
        if invite is None:
            note_wrong_try(tx, user_id, now)
            return Redemption("unknown")
        if invite.used_at is not None:
            return Redemption("used")
        if invite.expires_at <= now:
            return Redemption("expired")
        procedure = tx.reminders.procedure_by_id(invite.procedure_id)
        if procedure is None or procedure.status != "scheduled" or procedure.clinic_id is None:
            return Redemption("expired")
        if procedure.user_id is not None:
            return Redemption("used")  # joined already, through another invite of the same procedure
        clinic = clinic_where(tx, CLINICS.c.id == procedure.clinic_id)
        taken = tx.conn.execute(
            update(INVITES)
            .where(INVITES.c.id == invite.id, INVITES.c.used_at.is_(None))
            .values(used_at=now, used_by=user_id)
        )
        if taken.rowcount != 1:
            return Redemption("used")
        # Any other invite of this procedure stops working: one procedure, one patient.
        tx.conn.execute(
            update(INVITES)
            .where(INVITES.c.procedure_id == procedure.id, INVITES.c.used_at.is_(None))
            .values(expires_at=now)
        )
        # Only a procedure the patient entered themselves is replaced; another clinic's stays.
        tx.reminders.cancel(user_id, now=now, reason="replaced by the clinic's procedure", source="patient")
        tx.conn.execute(
            update(PROCEDURES)
            .where(PROCEDURES.c.id == procedure.id, PROCEDURES.c.user_id.is_(None))
            .values(user_id=user_id, updated_at=now)
        )
        linked = tx.reminders.procedure_by_id(procedure.id)
        assert linked is not None
        self._plan(tx, linked, clinic, now)
        return Redemption("linked", linked, clinic)

    # ---------------------------------------------------------------- inside

    def _plan(self, tx: Transaction, procedure: Procedure, clinic: Clinic, now: dt.datetime) -> None:
        assert procedure.user_id is not None
        planned = after_welcome(
            plan_reminders(
                self.plan, procedure.starts_at, ZoneInfo(procedure.timezone), clinic.settings, now
            ),
            now,
        )
        tx.reminders.add_plan(procedure.id, procedure.user_id, planned)
        tx.reminders.planned_with(procedure.id, clinic.settings)

    def _add_invite(self, tx: Transaction, procedure_id: int, token: str, now: dt.datetime) -> None:
        tx.conn.execute(
            insert(INVITES).values(
                procedure_id=procedure_id,
                token_hash=digest(token),
                expires_at=now + self.invite_ttl,
                created_at=now,
            )
        )

    def _invite(self, token: str, now: dt.datetime) -> Invite:
        return Invite(token, f"https://t.me/{self.bot_username}?start={token}", now + self.invite_ttl)

    def _details(self, tx: Transaction, clinic: Clinic, procedure_id: int) -> ProcedureDetails:
        procedure = tx.reminders.procedure_by_id(procedure_id)
        if procedure is None or procedure.clinic_id != clinic.id:
            raise NotFoundError(f"no procedure {procedure_id}")
        # Only signs reported under this procedure: another clinic's patient history stays there.
        signs = [
            (row.sign, row.created_at)
            for row in tx.conn.execute(
                select(SAFETY_EVENTS.c.sign, SAFETY_EVENTS.c.created_at)
                .where(SAFETY_EVENTS.c.procedure_id == procedure_id)
                .order_by(SAFETY_EVENTS.c.id)
            )
        ]
        return ProcedureDetails(
            procedure,
            procedure.starts_at.astimezone(ZoneInfo(procedure.timezone)),
            procedure.user_id is not None,
            tx.reminders.for_procedure(procedure_id),
            signs,
        )

    def _wake(self) -> None:
        if self.on_scheduled:
            self.on_scheduled()


def too_many_tries(tx: Transaction, user_id: int, now: dt.datetime) -> bool:
    """Whether an account has guessed wrong (invites, staff codes) too often this past hour."""
    recent: int = tx.conn.execute(
        select(func.count()).where(
            INVITE_ATTEMPTS.c.user_id == user_id, INVITE_ATTEMPTS.c.at > now - GUESS_WINDOW
        )
    ).scalar_one()
    return recent >= GUESSES_ALLOWED


def note_wrong_try(tx: Transaction, user_id: int, now: dt.datetime) -> None:
    """Count a wrong guess, and forget the ones older than the window."""
    tx.conn.execute(insert(INVITE_ATTEMPTS).values(user_id=user_id, at=now))
    tx.conn.execute(delete(INVITE_ATTEMPTS).where(INVITE_ATTEMPTS.c.at < now - GUESS_WINDOW))


def clinic_from_row(row: Any) -> Clinic:
    return Clinic(row.id, row.slug, ClinicSettings.model_validate(row.settings), row.staff_chat_id)


def clinic_where(tx: Transaction, condition: Any) -> Clinic:
    row = tx.conn.execute(select(CLINICS).where(condition)).first()
    if row is None:
        raise NotFoundError("no such clinic")
    return clinic_from_row(row)
