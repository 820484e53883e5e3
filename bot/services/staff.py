"""Clinic staff inside Telegram: approval with a one-time code, registering procedures, today's list."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update

from bot.db.store import Transaction
from bot.db.tables import CLINICS, STAFF, STAFF_CODES
from bot.services.clinic_model import (
    Clinic,
    ClinicError,
    clinic_from_row,
    clinic_where,
    digest,
    note_wrong_try,
    too_many_tries,
)
from bot.services.clinics import ClinicService

STAFF_COMMANDS = ("staff", "register", "today")
CODE_TTL = dt.timedelta(hours=24)


@dataclass(frozen=True)
class StaffReply:
    """What a staff command answers: text, and maybe an invite link to show as a QR code too."""

    text: str
    invite_link: str | None = None


def staff_clinic(tx: Transaction, user_id: int) -> Clinic | None:
    """The clinic a Telegram account is staff of, if any."""
    row = tx.conn.execute(
        select(CLINICS).join(STAFF, STAFF.c.clinic_id == CLINICS.c.id).where(STAFF.c.user_id == user_id)
    ).first()
    return None if row is None else clinic_from_row(row)


def staff_chats(tx: Transaction, clinic_id: int) -> list[int]:
    """Where a clinic's staff hear alerts: each approved member's chat."""
    return list(tx.conn.execute(select(STAFF.c.chat_id).where(STAFF.c.clinic_id == clinic_id)).scalars())


async def issue_staff_code(clinics: ClinicService, slug: str) -> str:
    """A one-time code an admin hands to a new staff member (kept only as its hash)."""
    code = secrets.token_hex(8).upper()  # 64 bits, and wrong tries are limited per account
    now = clinics.clock()

    def issue(tx: Transaction) -> None:
        clinic = clinic_where(tx, CLINICS.c.slug == slug)
        tx.conn.execute(
            insert(STAFF_CODES).values(clinic_id=clinic.id, code_hash=digest(code), expires_at=now + CODE_TTL)
        )

    await clinics.store.run(issue)
    return code


class StaffDesk:
    """Handles the staff commands for one update."""

    def __init__(self, clinics: ClinicService) -> None:
        self.clinics = clinics

    async def handle(self, user_id: int, chat_id: int, command: str, argument: str) -> StaffReply:
        """Answer a staff command; strangers are told it is for staff."""
        if command == "staff":
            return await self._approve(user_id, chat_id, argument)
        clinic = await self.clinics.store.run(lambda tx: staff_clinic(tx, user_id))
        if clinic is None:
            return StaffReply("This command is for clinic staff. Ask your administrator for a staff code.")
        if command == "today":
            return await self._today(clinic)
        return await self._register(clinic, argument)

    async def _approve(self, user_id: int, chat_id: int, code: str) -> StaffReply:
        now = self.clinics.clock()

        def approve(tx: Transaction) -> Clinic | None:
            if too_many_tries(tx, user_id, now):
                return None
            row = tx.conn.execute(
                select(STAFF_CODES).where(
                    STAFF_CODES.c.code_hash == digest(code.strip().upper()),
                    STAFF_CODES.c.used_at.is_(None),
                    STAFF_CODES.c.expires_at > now,
                )
            ).first()
            if row is None:
                note_wrong_try(tx, user_id, now)
                return None
            taken = tx.conn.execute(
                update(STAFF_CODES)
                .where(STAFF_CODES.c.id == row.id, STAFF_CODES.c.used_at.is_(None))
                .values(used_at=now)
            )
            if taken.rowcount != 1:
                return None
            tx.conn.execute(STAFF.delete().where(STAFF.c.user_id == user_id))
            tx.conn.execute(
                insert(STAFF).values(
                    user_id=user_id, clinic_id=row.clinic_id, chat_id=chat_id, approved_at=now
                )
            )
            return clinic_where(tx, CLINICS.c.id == row.clinic_id)

        clinic = await self.clinics.store.run(approve) if code else None
        if clinic is None:
            return StaffReply(
                "That staff code is not valid. Codes work once and for 24 hours; "
                "after five wrong ones, wait an hour."
            )
        return StaffReply(
            f"You are now staff of {clinic.settings.name}. Warning signs your patients report will be sent "
            "here. Commands: /register YYYY-MM-DD HH:MM [reference], /today."
        )

    async def _today(self, clinic: Clinic) -> StaffReply:
        zone = ZoneInfo(clinic.settings.timezone)
        today = self.clinics.clock().astimezone(zone).date()
        procedures = await self.clinics.procedures(clinic, today)
        if not procedures:
            return StaffReply(f"No procedures today ({today.isoformat()}).")
        lines = [f"Procedures today ({today.isoformat()}):"]
        for item in procedures:
            p = item.procedure
            joined = "joined" if item.patient_linked else "invite not opened yet"
            signs = (
                f", warning signs: {', '.join(s for s, _ in item.warning_signs)}"
                if item.warning_signs
                else ""
            )
            lines.append(
                f"• {item.local_start:%H:%M} #{p.id} {p.reference or ''} ({p.status}, {joined}{signs})"
            )
        return StaffReply("\n".join(lines))

    async def _register(self, clinic: Clinic, argument: str) -> StaffReply:
        words = argument.split()
        if len(words) < 2:
            return StaffReply("Write: /register 2026-11-24 09:30 [reference]")
        try:
            details, invite = await self.clinics.register(
                clinic, f"{words[0]}T{words[1]}", reference=" ".join(words[2:]) or None
            )
        except ClinicError as exc:
            return StaffReply(f"Not registered: {exc}")
        return StaffReply(
            f"Registered #{details.procedure.id} for {details.local_start:%Y-%m-%d %H:%M}. "
            f"Give the patient this link (or the QR code): {invite.link}",
            invite.link,
        )
