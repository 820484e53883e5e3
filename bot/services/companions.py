"""Companions: the adult who drives the patient there and home and stays the first night (S001,
F-prep9). The patient invites them with a link of their own (an invite with the companion role:
single use, kept hashed, until the procedure); they get their own reminders and the clinic's
"ready for pick-up", and can report a warning sign they see. They never see the patient's answers,
scores or comments. Either side can end the link, and both are told."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.db.audit_repo import Actor
from bot.db.booking_repo import StoredInvite
from bot.db.clinic_repo import Clinic
from bot.db.companion_repo import COMPANION_ROLE, Companion
from bot.db.store import Store, Transaction, UserRecord
from bot.services.clinic_model import ClinicError, NotFoundError, Redemption, audit, digest, new_secret
from bot.services.procedures import EffectResult, plan_companions, tell_companions
from flows.callbacks import companion_data
from flows.outcome import EndCompanion
from flows.planning import ReminderPlan
from flows.render import RenderedButton, RenderedMessage, Renderer

log = logging.getLogger(__name__)
MAX_COMPANIONS = 2
# The link works until the procedure's day is over: joining in time for "ready for pick-up" helps.
LINK_GRACE = dt.timedelta(hours=12)
COMPANION_ACTIONS = ("invite_companion", "list_companions")
PICKUP = "companion.pickup"


class LinkMaker(Protocol):
    """Makes a deep link from a token (the clinic service: it knows the bot's username)."""

    def link_for(self, token: str) -> str: ...


def join_companion(
    tx: Transaction, user_id: int, invite: StoredInvite, plan: ReminderPlan, now: dt.datetime
) -> Redemption:
    """Someone opened a companion link: link them to the procedure and plan their reminders."""
    if invite.used_at is not None:
        return Redemption("companion_used")
    procedure = tx.reminders.procedure_by_id(invite.procedure_id)
    if (
        invite.expires_at <= now
        or procedure is None
        or procedure.status != "scheduled"
        or procedure.user_id is None
    ):
        return Redemption("companion_expired")
    if procedure.user_id == user_id:
        return Redemption("companion_own")  # not used up: the patient can still forward it
    linked = tx.companions.of_procedure(procedure.id)
    clinic = tx.clinics.by_id(procedure.clinic_id) if procedure.clinic_id is not None else None
    if any(c.user_id == user_id for c in linked):
        return Redemption("companion_already", procedure, clinic)
    if len(linked) >= MAX_COMPANIONS:
        return Redemption("companion_room")
    if not tx.bookings.use_invite(invite.id, user_id, now):
        return Redemption("companion_used")
    companion_id = tx.companions.add(procedure.id, user_id, now)
    settings = tx.reminders.clinic_of(procedure.user_id)
    if settings is not None and settings.timezone:
        plan_companions(tx, plan, procedure, settings, now, only=user_id)
    log.info("companion %s joined procedure %s", companion_id, procedure.id)
    return Redemption("companion", procedure, clinic, companion_id)


class CompanionActions:
    """What the patient and their companions do about the link, inside the update's transaction."""

    def __init__(self, renderer: Renderer, links: LinkMaker | None) -> None:
        self.renderer = renderer
        self.links = links

    def action(
        self, tx: Transaction, user_id: int, name: str, locale: str, *, now: dt.datetime, result: EffectResult
    ) -> None:
        """The patient's "Invite my companion" or "My companions"."""
        procedure = tx.reminders.procedure(user_id)
        if procedure is None:
            result.texts.append(self.renderer.text("companion.no_procedure", locale))
            return
        linked = tx.companions.of_procedure(procedure.id)
        if name == "invite_companion" and procedure.starts_at + LINK_GRACE <= now:
            result.texts.append(self.renderer.text("companion.past", locale))
            return
        if name == "list_companions":
            result.messages.append(self._listing(linked, procedure.timezone, locale))
            return
        if len(linked) >= MAX_COMPANIONS:
            result.texts.append(self.renderer.text("companion.full", locale))
            return
        if self.links is None:
            raise ClinicError("no companion links without the clinic service")
        token = new_secret()
        link = self.links.link_for(token)
        # One link at a time: a new one stops an older one nobody opened.
        tx.bookings.expire_invites(procedure.id, now, role=COMPANION_ROLE)
        expires = procedure.starts_at + LINK_GRACE
        tx.bookings.add_invite(procedure.id, digest(token), expires, now, role=COMPANION_ROLE)
        result.texts.append(f"{self.renderer.text('companion.link', locale)}\n\n{link}")
        log.info("user %s made a companion link for procedure %s", user_id, procedure.id)

    def _listing(self, linked: list[Companion], zone: str, locale: str) -> RenderedMessage:
        if not linked:
            return RenderedMessage(self.renderer.text("companion.none", locale))
        label = self.renderer.text("companion.btn.remove", locale)
        lines, buttons = [self.renderer.text("companion.list", locale)], []
        for number, companion in enumerate(linked, start=1):
            joined = format_datetime(
                companion.joined_at.astimezone(ZoneInfo(zone)), "d MMM, HH:mm", locale=locale
            )
            lines.append(f"{number}. {joined}")
            buttons.append(RenderedButton(f"{label} {number}", companion_data(companion.id, leave=False)))
        return RenderedMessage("\n".join(lines), tuple(buttons))

    def welcome(self, redemption: Redemption, locale: str, params: dict[str, str]) -> RenderedMessage:
        """The companion's welcome: the day, the place, what is asked of them; a button to leave."""
        text = self.renderer.text("companion.welcome", locale, params)
        assert redemption.companion is not None
        leave = RenderedButton(
            self.renderer.text("companion.btn.leave", locale),
            companion_data(redemption.companion, leave=True),
        )
        return RenderedMessage(text, (leave,))

    def end(
        self,
        tx: Transaction,
        record: UserRecord,
        effect: EndCompanion,
        now: dt.datetime,
        result: EffectResult,
    ) -> None:
        """The patient removes a companion, or the companion leaves: the link and the companion's
        reminders go, and the other side is told at once."""
        companion = tx.companions.by_id(effect.companion)
        procedure = tx.reminders.procedure_by_id(companion.procedure_id) if companion else None
        if companion is None or procedure is None:
            result.stale = True
            return
        if effect.leave and companion.user_id == record.user_id:
            tx.companions.remove(companion)
            result.texts.append(self.renderer.text("companion.left", record.locale))
            patient = tx.load_user(procedure.user_id) if procedure.user_id is not None else None
            if patient is not None:
                result.alerts.append(
                    (patient.chat_id, self.renderer.text("companion.left_patient", patient.locale))
                )
            log.info("companion %s left procedure %s", companion.id, procedure.id)
        elif not effect.leave and procedure.user_id == record.user_id:
            tx.companions.remove(companion)
            result.texts.append(self.renderer.text("companion.removed", record.locale))
            result.alerts.append(
                (companion.chat_id, self.renderer.text("companion.removed_you", companion.locale))
            )
            log.info("companion %s removed from procedure %s", companion.id, procedure.id)
        else:
            result.stale = True  # someone else's link: changes nothing

    def forgetting(self, tx: Transaction, user_id: int, result: EffectResult) -> None:
        """Before /forget: the patient's companions are unlinked (their account too, when nothing
        else holds it) and told; a companion who forgets is unlinked and their patient told."""
        own = tx.companions.procedures_of(user_id)
        for companion in tx.companions.remove_all(own):
            result.alerts.append((companion.chat_id, self.renderer.text("companion.gone", companion.locale)))
        for companion in tx.companions.of_user(user_id):
            procedure = tx.reminders.procedure_by_id(companion.procedure_id)
            tx.companions.remove(companion)
            patient = tx.load_user(procedure.user_id) if procedure and procedure.user_id else None
            if patient is not None:
                text = self.renderer.text("companion.left_patient", patient.locale)
                result.alerts.append((patient.chat_id, text))


class CompanionPickup:
    """The clinic's side: "ready for pick-up" (API, staff command, web page). Part of ClinicService."""

    store: Store
    clock: Any

    def _wake(self) -> None:
        raise NotImplementedError

    async def pickup_ready(self, clinic: Clinic, procedure_id: int, *, by: Actor | None = None) -> int:
        """Tell the procedure's companions that the patient is ready to be picked up; how many."""
        now = self.clock()

        def send(tx: Transaction) -> int:
            procedure = tx.reminders.procedure_by_id(procedure_id)
            if procedure is None or procedure.clinic_id != clinic.id:
                raise NotFoundError(f"no procedure {procedure_id}")
            if procedure.status != "scheduled":
                raise ClinicError("this procedure is cancelled")
            companions = tx.companions.of_procedure(procedure_id)
            if not companions:
                raise ClinicError("no companion has joined this procedure: nobody to tell")
            tell_companions(tx, procedure_id, PICKUP, now)
            audit(tx, clinic.id, by, "pickup_ready", now, procedure=procedure_id)
            return len(companions)

        told = await self.store.run(send)
        self._wake()
        return told
