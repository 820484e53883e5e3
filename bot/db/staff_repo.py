"""Clinic staff: who is staff of which clinic, where they hear alerts, and the one-time codes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from bot.db.clinic_repo import Clinic, clinic_from_row
from bot.db.tables import CLINICS, STAFF, STAFF_CODES


@dataclass(frozen=True)
class StaffCode:
    """An unused, unexpired staff code (kept only as its hash)."""

    id: int
    clinic_id: int


class Staff:
    """Staff rows and staff codes, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def clinic_of(self, user_id: int) -> Clinic | None:
        """The clinic a Telegram account is staff of, if any."""
        row = self.conn.execute(
            select(CLINICS).join(STAFF, STAFF.c.clinic_id == CLINICS.c.id).where(STAFF.c.user_id == user_id)
        ).first()
        return None if row is None else clinic_from_row(row)

    def chats(self, clinic_id: int) -> list[int]:
        """Where a clinic's staff hear alerts: each approved member's chat."""
        return list(
            self.conn.execute(select(STAFF.c.chat_id).where(STAFF.c.clinic_id == clinic_id)).scalars()
        )

    def add_code(self, clinic_id: int, code_hash: str, expires_at: dt.datetime) -> None:
        """Keep a new one-time staff code of a clinic (only its hash)."""
        self.conn.execute(
            insert(STAFF_CODES).values(clinic_id=clinic_id, code_hash=code_hash, expires_at=expires_at)
        )

    def valid_code(self, code_hash: str, now: dt.datetime) -> StaffCode | None:
        """The code with this hash, if it is neither used nor expired."""
        row = self.conn.execute(
            select(STAFF_CODES.c.id, STAFF_CODES.c.clinic_id).where(
                STAFF_CODES.c.code_hash == code_hash,
                STAFF_CODES.c.used_at.is_(None),
                STAFF_CODES.c.expires_at > now,
            )
        ).first()
        return None if row is None else StaffCode(row.id, row.clinic_id)

    def use_code(self, code_id: int, now: dt.datetime) -> bool:
        """Mark a code used; False if someone used it first."""
        result = self.conn.execute(
            update(STAFF_CODES)
            .where(STAFF_CODES.c.id == code_id, STAFF_CODES.c.used_at.is_(None))
            .values(used_at=now)
        )
        return result.rowcount == 1

    def approve(self, user_id: int, clinic_id: int, chat_id: int, now: dt.datetime) -> None:
        """Make an account staff of one clinic (only this one), hearing alerts in that chat."""
        self.conn.execute(delete(STAFF).where(STAFF.c.user_id == user_id))
        self.conn.execute(
            insert(STAFF).values(user_id=user_id, clinic_id=clinic_id, chat_id=chat_id, approved_at=now)
        )

    def remove(self, user_id: int, clinic_id: int) -> bool:
        """An account is no longer staff of this clinic: no alerts, no staff commands; False if it was not."""
        result = self.conn.execute(
            delete(STAFF).where(STAFF.c.user_id == user_id, STAFF.c.clinic_id == clinic_id)
        )
        return result.rowcount == 1
