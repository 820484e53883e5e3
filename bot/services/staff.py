"""Clinic staff inside Telegram: approval with a one-time code, registering procedures, today's list."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.db.audit_repo import Actor
from bot.db.clinic_repo import Clinic
from bot.db.store import Transaction
from bot.services.clinic_model import ClinicError, audit, digest, existing, note_wrong_try, too_many_tries
from bot.services.clinics import ClinicService
from bot.services.web_access import SIGNIN_TTL, issue_signin, signin_link

STAFF_COMMANDS = ("staff", "register", "today", "dashboard", "pickup")
CODE_TTL = dt.timedelta(hours=24)


@dataclass(frozen=True)
class StaffReply:
    """What a staff command answers: text, and maybe an invite link to show as a QR code too."""

    text: str
    invite_link: str | None = None


async def issue_staff_code(clinics: ClinicService, slug: str) -> str:
    """A one-time code an admin hands to a new staff member (kept only as its hash)."""
    code = secrets.token_hex(8).upper()  # 64 bits, and wrong tries are limited per account
    now = clinics.clock()

    def issue(tx: Transaction) -> None:
        clinic = existing(tx.clinics.by_slug(slug))
        tx.staff.add_code(clinic.id, digest(code), now + CODE_TTL)

    await clinics.store.run(issue)
    return code


class StaffDesk:
    """Handles the staff commands for one update."""

    def __init__(self, clinics: ClinicService, web_url: str | None = None) -> None:
        self.clinics = clinics
        self.web_url = web_url  # where the clinic web page is (VERTEBROBOT_WEB_URL)

    async def handle(self, user_id: int, chat_id: int, command: str, argument: str) -> StaffReply:
        """Answer a staff command; strangers are told it is for staff."""
        if command == "staff":
            return await self._approve(user_id, chat_id, argument)
        clinic = await self.clinics.store.run(lambda tx: tx.staff.clinic_of(user_id))
        if clinic is None:
            return StaffReply("This command is for clinic staff. Ask your administrator for a staff code.")
        by = Actor("staff", user_id)
        if command == "today":
            return await self._today(clinic, by)
        if command == "dashboard":
            return await self._dashboard(clinic, by)
        if command == "pickup":
            return await self._pickup(clinic, argument, by)
        return await self._register(clinic, argument, by)

    async def _approve(self, user_id: int, chat_id: int, code: str) -> StaffReply:
        now = self.clinics.clock()

        def approve(tx: Transaction) -> Clinic | None:
            if too_many_tries(tx, user_id, now):
                return None
            found = tx.staff.valid_code(digest(code.strip().upper()), now)
            if found is None:
                note_wrong_try(tx, user_id, now)
                return None
            if not tx.staff.use_code(found.id, now):
                return None
            tx.staff.approve(user_id, found.clinic_id, chat_id, now)
            audit(tx, found.clinic_id, Actor("staff", user_id), "staff_added", now)
            return existing(tx.clinics.by_id(found.clinic_id))

        clinic = await self.clinics.store.run(approve) if code else None
        if clinic is None:
            return StaffReply(
                "That staff code is not valid. Codes work once and for 24 hours; "
                "after five wrong ones, wait an hour."
            )
        return StaffReply(
            f"You are now staff of {clinic.settings.name}. Warning signs your patients report will be sent "
            "here. Commands: /register YYYY-MM-DD HH:MM [reference], /today, /pickup <number> (ready for "
            "pick-up: the companions are told), /dashboard (the web page)."
        )

    async def _dashboard(self, clinic: Clinic, by: Actor) -> StaffReply:
        if not self.web_url:
            return StaffReply(
                "The clinic web page is not set up: ask the administrator to set VERTEBROBOT_WEB_URL."
            )
        token = await issue_signin(self.clinics, clinic, by)
        minutes = int(SIGNIN_TTL.total_seconds() // 60)
        return StaffReply(
            f"Your sign-in link to the clinic web page (works once, for {minutes} minutes; "
            f"share it with nobody): {signin_link(self.web_url, token)}"
        )

    async def _today(self, clinic: Clinic, by: Actor) -> StaffReply:
        zone = ZoneInfo(clinic.settings.timezone)
        today = self.clinics.clock().astimezone(zone).date()
        procedures = await self.clinics.procedures(clinic, today, by=by)
        if not procedures:
            return StaffReply(f"No procedures today ({today.isoformat()}).")
        lines = [f"Procedures today ({today.isoformat()}):"]
        for item in procedures:
            p = item.procedure
            joined = "joined" if item.patient_linked else "invite not opened yet"
            if item.unreachable:
                joined += ", blocked the bot: unreachable"
            signs = (
                f", warning signs: {', '.join(s for s, _ in item.warning_signs)}"
                if item.warning_signs
                else ""
            )
            lines.append(
                f"• {item.local_start:%H:%M} #{p.id} {p.reference or ''} ({p.status}, {joined}{signs})"
            )
        return StaffReply("\n".join(lines))

    async def _pickup(self, clinic: Clinic, argument: str, by: Actor) -> StaffReply:
        """ "Ready for pick-up": the patient's companions are told to come."""
        number = argument.strip().lstrip("#")
        if not number.isdigit():
            return StaffReply("Write: /pickup <procedure number>, as /today shows it (#12)")
        try:
            told = await self.clinics.pickup_ready(clinic, int(number), by=by)
        except ClinicError as exc:
            return StaffReply(f"Nobody told: {exc}")
        return StaffReply(f"#{number}: {told} companion(s) told the patient is ready to be picked up.")

    async def _register(self, clinic: Clinic, argument: str, by: Actor) -> StaffReply:
        words = argument.split()
        if len(words) < 2:
            return StaffReply("Write: /register 2026-11-24 09:30 [reference]")
        try:
            details, invite = await self.clinics.register(
                clinic, f"{words[0]}T{words[1]}", reference=" ".join(words[2:]) or None, by=by
            )
        except ClinicError as exc:
            return StaffReply(f"Not registered: {exc}")
        return StaffReply(
            f"Registered #{details.procedure.id} for {details.local_start:%Y-%m-%d %H:%M}. "
            f"Give the patient this link (or the QR code): {invite.link}",
            invite.link,
        )
