"""The clinic service: clinics, their tokens, procedures, invites. The API, CLI and staff use it."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.db.audit_repo import Actor, AuditEntry
from bot.db.clinic_repo import Clinic, ClinicExistsError
from bot.db.reminder_repo import DEFAULT_CLINIC
from bot.db.retention_repo import ClinicCounts
from bot.db.settings_repo import BOT_USERNAME
from bot.db.store import Store, Transaction, utcnow
from bot.services.appointments import Appointments
from bot.services.clinic_model import (
    INVITE_TTL,
    OPERATOR,
    ClinicError,
    ConflictError,
    Invite,
    NotFoundError,
    ProcedureDetails,
    Redemption,
    audit,
    digest,
    existing,
    new_secret,
    parse_start,
)
from bot.services.companions import CompanionPickup
from bot.services.procedures import replan
from flows.content import ContentError, Problem, read_yaml_file
from flows.models import NO_ZONE, SLUG, SLUG_RULE, ClinicSettings
from flows.planning import ReminderPlan
from flows.yamlio import line_at

log = logging.getLogger(__name__)
# What the clinics' API, CLI and staff desk import from here: the service and its records.
__all__ = [
    "OPERATOR",
    "Actor",
    "AuditEntry",
    "Clinic",
    "ClinicError",
    "ClinicService",
    "ConflictError",
    "Invite",
    "NotFoundError",
    "ProcedureDetails",
    "Redemption",
    "parse_start",
]


class ClinicService(Appointments, CompanionPickup):
    """Everything clinics do, on one store; every method is one transaction."""

    def __init__(
        self,
        store: Store,
        plan: ReminderPlan,
        *,
        bot_username: str | None = None,
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

        def save(tx: Transaction) -> Clinic:
            before = tx.clinics.by_slug(slug)
            if before is None:
                return existing(tx.clinics.by_id(tx.clinics.add(slug, settings, now)))
            tx.clinics.set_settings(before.id, settings, now)
            # Reminders already planned follow the new numbers, and their texts name them.
            moved = self._replan(tx, before.id, settings, now)
            if moved:
                log.info("clinic %s changed: reminders of %s procedure(s) planned again", before.id, moved)
            return existing(tx.clinics.by_id(before.id))

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

        def sync(tx: Transaction) -> Clinic:
            clinic_id = tx.reminders.default_clinic_id()
            if clinic_id is None:
                clinic_id = tx.clinics.add(DEFAULT_CLINIC, settings, now)
            else:
                tx.clinics.set_settings(clinic_id, settings, now)
            tx.bookings.adopt_unowned(clinic_id)
            moved = self._replan(tx, clinic_id, settings, now)
            if moved:
                log.info("default clinic changed: reminders of %s procedure(s) planned again", moved)
            return existing(tx.clinics.by_id(clinic_id))

        try:
            clinic = await self.store.run(sync)
        except ClinicExistsError:  # another instance, starting on the same new database, added it
            clinic = await self.store.run(sync)
        self._wake()
        return clinic

    def _replan(self, tx: Transaction, clinic_id: int, settings: ClinicSettings, now: dt.datetime) -> int:
        """Plan the clinic's procedures still to come again with its new settings; how many changed."""
        return sum(
            replan(tx, self.plan, procedure, settings, now, old=planned_with)
            for procedure, planned_with in tx.bookings.upcoming(clinic_id, now)
        )

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
        return await self.store.run(lambda tx: tx.clinics.all())

    async def clinic(self, slug: str) -> Clinic:
        """A clinic by its slug."""
        return await self.store.run(lambda tx: existing(tx.clinics.by_slug(slug)))

    async def issue_token(self, slug: str, label: str = "api", *, by: Actor = OPERATOR) -> str:
        """A new API token for a clinic; only its hash is kept, so show it once."""
        token = new_secret()
        now = self.clock()

        def issue(tx: Transaction) -> None:
            clinic = existing(tx.clinics.by_slug(slug))
            tx.clinics.add_token(clinic.id, digest(token), label, now)
            audit(tx, clinic.id, by, "token_issued", now)

        await self.store.run(issue)
        return token

    async def revoke_tokens(self, slug: str, label: str | None = None, *, by: Actor = OPERATOR) -> int:
        """Revoke a clinic's tokens (only those with this label, if given): 401 from the next call on."""
        now = self.clock()

        def revoke(tx: Transaction) -> int:
            clinic = existing(tx.clinics.by_slug(slug))
            revoked = tx.clinics.revoke_tokens(clinic.id, label, now)
            for _ in revoked:
                audit(tx, clinic.id, by, "token_revoked", now)
            return len(revoked)

        return await self.store.run(revoke)

    async def authenticate(self, token: str) -> tuple[Clinic, Actor] | None:
        """The clinic a bearer token belongs to and the token as the actor, or None."""
        found = await self.store.run(lambda tx: tx.clinics.by_token(digest(token)))
        return None if found is None else (found[0], Actor("token", found[1]))

    async def remove_staff(self, slug: str, user_id: int, *, by: Actor = OPERATOR) -> bool:
        """An account stops being the clinic's staff: no more alerts, no staff commands, and its
        clinic web page sessions are over."""
        now = self.clock()

        def remove(tx: Transaction) -> bool:
            clinic = existing(tx.clinics.by_slug(slug))
            removed = tx.staff.remove(user_id, clinic.id)
            tx.web_sessions.end_of_staff(clinic.id, user_id)  # also if they become staff again
            if removed:
                audit(tx, clinic.id, by, "staff_removed", now)
            return removed

        return await self.store.run(remove)

    async def audit_log(self, clinic: Clinic, since: dt.datetime) -> list[AuditEntry]:
        """The clinic's own audit entries from `since` on, oldest first."""
        return await self.store.run(lambda tx: tx.audit.since(clinic.id, since))

    async def counts(self, clinic: Clinic) -> ClinicCounts:
        """How many procedures and warning signs the clinic has had (purged ones counted)."""
        return await self.store.run(lambda tx: tx.patient_data.counts(clinic.id))

    async def learn_bot_username(self, username: str) -> None:
        """The bot's username as Telegram gave it: invite links name it from now on, and the
        command line finds it in the database when it cannot ask Telegram."""
        self.bot_username = username
        await self.store.run(lambda tx: tx.bot_settings.put(BOT_USERNAME, username, tx.clock()))

    async def remembered_bot_username(self) -> str | None:
        """The username Telegram last gave, or None if it was never asked."""
        return await self.store.run(lambda tx: tx.bot_settings.get(BOT_USERNAME))

    def _wake(self) -> None:
        if self.on_scheduled:
            self.on_scheduled()
