"""A clinic's appointments: register a procedure, list, move and cancel it, invite its patient
and link them when they open the invite. A part of ClinicService (which inherits it)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from bot.db.audit_repo import Actor
from bot.db.checkin_repo import CheckinView
from bot.db.clinic_repo import Clinic
from bot.db.companion_repo import COMPANION_ROLE
from bot.db.reminder_repo import Procedure
from bot.db.retention_repo import Removed
from bot.db.store import Store, Transaction
from bot.services.clinic_model import (
    ClinicError,
    ConflictError,
    Invite,
    NotFoundError,
    ProcedureDetails,
    Redemption,
    audit,
    beyond_window,
    digest,
    existing,
    new_secret,
    note_wrong_try,
    parse_start,
    too_many_tries,
)
from bot.services.companions import join_companion
from bot.services.procedures import after_welcome, notice, plan_companions, tell_companions
from flows.models import REFERENCE, REFERENCE_RULE
from flows.planning import ReminderPlan, plan_reminders

log = logging.getLogger(__name__)
NO_BOT_USERNAME = (
    "no invite link: the bot's Telegram username is not known; set TELEGRAM_BOT_TOKEN (the username "
    "is then asked from Telegram and remembered) or TELEGRAM_BOT_USERNAME"
)


class Appointments:
    """Procedures a clinic registers, and the invites that link them to their patients."""

    store: Store
    plan: ReminderPlan
    bot_username: str | None
    clock: Any
    invite_ttl: dt.timedelta

    def _wake(self) -> None:
        raise NotImplementedError

    async def register(
        self,
        clinic: Clinic,
        start: str | dt.datetime,
        *,
        reference: str | None = None,
        timezone: str | None = None,
        by: Actor | None = None,
    ) -> tuple[ProcedureDetails, Invite]:
        """Register a procedure and make its invite; reminders are planned once the patient opens it."""
        starts_at, zone = parse_start(start, timezone or clinic.settings.timezone)
        now = self.clock()
        if starts_at <= now:
            raise ClinicError("the procedure's start is in the past; give a future time")
        if too_far := beyond_window(starts_at, now):
            raise ClinicError(too_far)
        if reference is not None and not REFERENCE.fullmatch(reference):
            raise ClinicError(REFERENCE_RULE)
        self._link_base()  # before anything is written: a procedure without its link helps no one
        invite_token = new_secret()

        def register(tx: Transaction) -> int:
            if reference is not None:
                _reference_free(tx, clinic, reference)
            procedure_id = tx.bookings.add(clinic.id, reference, starts_at, zone, now)
            self._add_invite(tx, procedure_id, invite_token, now)
            audit(tx, clinic.id, by, "registered", now, procedure=procedure_id)
            return procedure_id

        procedure_id = await self.store.run(register)
        return await self.details(clinic, procedure_id), self._invite(invite_token, now)

    async def details(
        self, clinic: Clinic, procedure_id: int, *, by: Actor | None = None
    ) -> ProcedureDetails:
        """One of this clinic's procedures, with its reminders and reported warning signs."""

        def read(tx: Transaction) -> ProcedureDetails:
            details = self._details(tx, clinic, procedure_id)
            audit(tx, clinic.id, by, "read", self.clock(), procedure=procedure_id)
            return details

        return await self.store.run(read)

    async def checkins(
        self, clinic: Clinic, procedure_id: int, *, by: Actor | None = None
    ) -> tuple[Procedure, list[CheckinView]]:
        """One of this clinic's procedures and its patient's check-in answers, in the order they were due."""

        def read(tx: Transaction) -> tuple[Procedure, list[CheckinView]]:
            details = self._details(tx, clinic, procedure_id)  # NotFoundError for another clinic's
            audit(tx, clinic.id, by, "read_checkins", self.clock(), procedure=procedure_id)
            return details.procedure, tx.checkins.for_procedure(procedure_id)

        return await self.store.run(read)

    async def procedures(
        self, clinic: Clinic, day: dt.date | None = None, *, by: Actor | None = None
    ) -> list[ProcedureDetails]:
        """This clinic's procedures (on one local day, if given), soonest first."""

        def listing(tx: Transaction) -> list[ProcedureDetails]:
            audit(tx, clinic.id, by, "listed", self.clock())
            return [
                self._described(tx, procedure)
                for procedure in tx.bookings.of_clinic(clinic.id)
                if day is None or procedure.starts_at.astimezone(ZoneInfo(procedure.timezone)).date() == day
            ]

        return await self.store.run(listing)

    async def reschedule(
        self, clinic: Clinic, procedure_id: int, start: str | dt.datetime, *, by: Actor | None = None
    ) -> ProcedureDetails:
        """Move a procedure; its patient's reminders are planned again and the patient is told."""
        current = await self.details(clinic, procedure_id)
        if current.procedure.status != "scheduled":
            raise ClinicError("this procedure is cancelled; register a new one")
        starts_at, _ = parse_start(start, current.procedure.timezone)
        now = self.clock()
        if starts_at <= now:
            raise ClinicError("the new start is in the past; give a future time")
        if too_far := beyond_window(starts_at, now):
            raise ClinicError(too_far)

        def move(tx: Transaction) -> None:
            # Not moved if cancelled meanwhile (by another instance or another clinic user).
            if not tx.bookings.move(procedure_id, starts_at, now):
                raise ClinicError("this procedure is cancelled; register a new one")
            audit(tx, clinic.id, by, "moved", now, procedure=procedure_id)
            procedure = tx.reminders.procedure_by_id(procedure_id)
            if procedure is not None and procedure.user_id is not None:
                tx.reminders.cancel_open(procedure_id, "rescheduled")
                self._plan(tx, procedure, clinic, now)
                tx.reminders.add_plan(procedure_id, procedure.user_id, [notice("clinic.rescheduled", now)])
                tell_companions(tx, procedure_id, "companion.rescheduled", now)

        await self.store.run(move)
        self._wake()
        return await self.details(clinic, procedure_id)

    async def change_reference(
        self,
        clinic: Clinic,
        procedure_id: int,
        reference: str,
        *,
        by: Actor | None = None,
        check: bool = False,
    ) -> ProcedureDetails:
        """Give a procedure another reference (one no other scheduled procedure has); with `check`,
        only say whether it could (raise if not) and change nothing."""
        if not REFERENCE.fullmatch(reference):
            raise ClinicError(REFERENCE_RULE)
        now = self.clock()

        def change(tx: Transaction) -> ProcedureDetails:
            current = self._details(tx, clinic, procedure_id).procedure  # NotFoundError for another's
            if current.reference == reference:
                return self._described(tx, current)
            _reference_free(tx, clinic, reference)
            if not check:
                tx.bookings.set_reference(procedure_id, reference, now)
                audit(tx, clinic.id, by, "reference_changed", now, procedure=procedure_id)
            return self._details(tx, clinic, procedure_id)

        return await self.store.run(change)

    async def cancel(self, clinic: Clinic, procedure_id: int, *, by: Actor | None = None) -> ProcedureDetails:
        """Cancel a procedure: its reminders stop and its patient is told kindly, once."""
        await self.details(clinic, procedure_id)
        now = self.clock()

        def cancel(tx: Transaction) -> None:
            if not tx.bookings.cancel(procedure_id, now):
                return  # already cancelled: nothing more to stop, nobody to tell twice
            audit(tx, clinic.id, by, "cancelled", now, procedure=procedure_id)
            tx.reminders.cancel_open(procedure_id, "cancelled by the clinic")
            tx.bookings.expire_invites(procedure_id, now)
            procedure = tx.reminders.procedure_by_id(procedure_id)
            if procedure is not None and procedure.user_id is not None:
                tx.reminders.add_plan(procedure_id, procedure.user_id, [notice("clinic.cancelled", now)])
            tell_companions(tx, procedure_id, "companion.cancelled", now)

        await self.store.run(cancel)
        self._wake()
        return await self.details(clinic, procedure_id)

    async def delete(self, clinic: Clinic, procedure_id: int, *, by: Actor | None = None) -> Removed:
        """Remove one of this clinic's procedures and its patient's data (their answers too, unless
        another procedure still has them). Nothing is sent: cancel first to tell the patient."""
        now = self.clock()

        def remove(tx: Transaction) -> Removed:
            procedure = self._details(tx, clinic, procedure_id).procedure  # NotFoundError for another's
            audit(tx, clinic.id, by, "deleted", now, procedure=procedure_id)
            return tx.patient_data.delete(procedure_id, procedure.user_id)

        removed = await self.store.run(remove)
        log.info("procedure %s of clinic %s deleted: %s", procedure_id, clinic.id, removed.summary())
        return removed

    async def new_invite(self, clinic: Clinic, procedure_id: int, *, by: Actor | None = None) -> Invite:
        """A fresh invite for a procedure whose patient has not joined yet."""
        details = await self.details(clinic, procedure_id)
        if details.patient_linked:
            raise ClinicError("the patient has already joined this procedure")
        if details.procedure.status != "scheduled":
            raise ClinicError("this procedure is cancelled")
        self._link_base()
        token, now = new_secret(), self.clock()

        def replace_invite(tx: Transaction) -> None:
            # The newest invite is the only one that works: a lost or shared link stops here.
            tx.bookings.expire_invites(procedure_id, now, role="patient")
            self._add_invite(tx, procedure_id, token, now)
            audit(tx, clinic.id, by, "invited", now, procedure=procedure_id)

        await self.store.run(replace_invite)
        return self._invite(token, now)

    # ---------------------------------------------------------------- patients

    def redeem(self, tx: Transaction, user_id: int, token: str, now: dt.datetime) -> Redemption:
        """A patient opened an invite link: link them to the procedure and plan its reminders."""
        if too_many_tries(tx, user_id, now):
            return Redemption("throttled")
        invite = tx.bookings.invite(digest(token))
        if invite is None:
            note_wrong_try(tx, user_id, now)
            return Redemption("unknown")
        if invite.role == COMPANION_ROLE:
            return join_companion(tx, user_id, invite, self.plan, now)
        if invite.used_at is not None:
            return Redemption("used")
        if invite.expires_at <= now:
            return Redemption("expired")
        procedure = tx.reminders.procedure_by_id(invite.procedure_id)
        if procedure is None or procedure.status != "scheduled" or procedure.clinic_id is None:
            return Redemption("expired")
        if procedure.user_id is not None:
            return Redemption("used")  # joined already, through another invite of the same procedure
        clinic = existing(tx.clinics.by_id(procedure.clinic_id))
        if not tx.bookings.use_invite(invite.id, user_id, now):
            return Redemption("used")
        # Any other invite of this procedure stops working: one procedure, one patient.
        tx.bookings.expire_invites(procedure.id, now, role="patient")
        # Only a procedure the patient entered themselves is replaced; another clinic's stays.
        tx.reminders.cancel(user_id, now=now, reason="replaced by the clinic's procedure", source="patient")
        tx.bookings.link_patient(procedure.id, user_id, now)
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
        plan_companions(tx, self.plan, procedure, clinic.settings, now)

    def _add_invite(self, tx: Transaction, procedure_id: int, token: str, now: dt.datetime) -> None:
        tx.bookings.add_invite(procedure_id, digest(token), now + self.invite_ttl, now)

    def link_for(self, token: str) -> str:
        """The deep link that opens the bot with a token (ClinicError if the bot's name is unknown)."""
        return self._link_base() + token

    def _link_base(self) -> str:
        if not self.bot_username:
            raise ClinicError(NO_BOT_USERNAME)
        return f"https://t.me/{self.bot_username}?start="

    def _invite(self, token: str, now: dt.datetime) -> Invite:
        return Invite(token, self._link_base() + token, now + self.invite_ttl)

    def _details(self, tx: Transaction, clinic: Clinic, procedure_id: int) -> ProcedureDetails:
        procedure = tx.reminders.procedure_by_id(procedure_id)
        if procedure is None or procedure.clinic_id != clinic.id:
            raise NotFoundError(f"no procedure {procedure_id}")
        return self._described(tx, procedure)

    def _described(self, tx: Transaction, procedure: Procedure) -> ProcedureDetails:
        return ProcedureDetails(
            procedure,
            procedure.starts_at.astimezone(ZoneInfo(procedure.timezone)),
            procedure.user_id is not None,
            tx.reminders.for_procedure(procedure.id),
            # Only signs reported under this procedure: another clinic's patient history stays there.
            tx.bookings.signs(procedure.id),
        )


def _reference_free(tx: Transaction, clinic: Clinic, reference: str) -> None:
    """Refuse a reference a scheduled procedure of the clinic has: imports and staff match by it."""
    tx.clinics.lock(clinic.id)  # two requests with one reference: the second sees the first's
    holder = tx.bookings.scheduled_with_reference(clinic.id, reference)
    if holder is not None:
        local = holder.starts_at.astimezone(ZoneInfo(holder.timezone))
        raise ConflictError(
            f"reference {reference!r} is in use: procedure {holder.id} "
            f"({local:%Y-%m-%d %H:%M} {holder.timezone}) has it; move that one, or cancel it first"
        )
