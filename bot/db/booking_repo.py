"""A clinic's bookings: the procedures it registers, their invites, the warning signs reported
under them, and the wrong guesses (at invites and staff codes) an account made."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from bot.db.reminder_repo import Procedure, procedure_from_row, stored_settings
from bot.db.tables import INVITE_ATTEMPTS, INVITES, PROCEDURES, SAFETY_EVENTS
from flows.models import ClinicSettings


@dataclass(frozen=True)
class StoredInvite:
    """An invite as kept: only the hash of its token, and whether it still works."""

    id: int
    procedure_id: int
    expires_at: dt.datetime
    used_at: dt.datetime | None
    role: str = "patient"  # or companion: someone the patient invited to drive them home


class Bookings:
    """A clinic's procedures and invites, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ---------------------------------------------------------------- procedures

    def add(
        self, clinic_id: int, reference: str | None, starts_at: dt.datetime, timezone: str, now: dt.datetime
    ) -> int:
        """A procedure the clinic registers, awaiting its patient; its id."""
        procedure_id = self.conn.execute(
            insert(PROCEDURES)
            .values(
                clinic_id=clinic_id,
                reference=reference,
                starts_at=starts_at,
                timezone=timezone,
                status="scheduled",
                source="clinic",
                created_at=now,
                updated_at=now,
            )
            .returning(PROCEDURES.c.id)
        ).scalar_one()
        return int(procedure_id)

    def of_clinic(self, clinic_id: int) -> list[Procedure]:
        """Every procedure of a clinic, soonest first."""
        rows = self.conn.execute(
            select(PROCEDURES)
            .where(PROCEDURES.c.clinic_id == clinic_id)
            .order_by(PROCEDURES.c.starts_at, PROCEDURES.c.id)
        )
        return [procedure_from_row(row) for row in rows]

    def upcoming(self, clinic_id: int, now: dt.datetime) -> list[tuple[Procedure, ClinicSettings | None]]:
        """A clinic's scheduled procedures still to come, each with the settings it was planned with."""
        rows = self.conn.execute(
            select(PROCEDURES)
            .where(
                PROCEDURES.c.clinic_id == clinic_id,
                PROCEDURES.c.status == "scheduled",
                PROCEDURES.c.starts_at > now,
            )
            .order_by(PROCEDURES.c.id)
        )
        return [(procedure_from_row(row), stored_settings(row.planned_with)) for row in rows]

    def with_references(self, clinic_id: int, references: set[str]) -> dict[str, list[Procedure]]:
        """A clinic's procedures with these references (any status), oldest first under each."""
        found: dict[str, list[Procedure]] = {}
        if not references:
            return found
        rows = self.conn.execute(
            select(PROCEDURES)
            .where(PROCEDURES.c.clinic_id == clinic_id, PROCEDURES.c.reference.in_(sorted(references)))
            .order_by(PROCEDURES.c.id)
        )
        for row in rows:
            found.setdefault(row.reference, []).append(procedure_from_row(row))
        return found

    def scheduled_with_reference(self, clinic_id: int, reference: str) -> Procedure | None:
        """The clinic's scheduled procedure with this reference, if any (the oldest, if several)."""
        row = self.conn.execute(
            select(PROCEDURES)
            .where(
                PROCEDURES.c.clinic_id == clinic_id,
                PROCEDURES.c.reference == reference,
                PROCEDURES.c.status == "scheduled",
            )
            .order_by(PROCEDURES.c.id)
            .limit(1)
        ).first()
        return None if row is None else procedure_from_row(row)

    def set_reference(self, procedure_id: int, reference: str, now: dt.datetime) -> None:
        """Give a procedure another clinic reference."""
        self.conn.execute(
            update(PROCEDURES)
            .where(PROCEDURES.c.id == procedure_id)
            .values(reference=reference, updated_at=now)
        )

    def adopt_unowned(self, clinic_id: int) -> None:
        """Give the procedures of no clinic (patients entered them) to this one."""
        self.conn.execute(
            update(PROCEDURES).where(PROCEDURES.c.clinic_id.is_(None)).values(clinic_id=clinic_id)
        )

    def move(self, procedure_id: int, starts_at: dt.datetime, now: dt.datetime) -> bool:
        """Move a scheduled procedure; False if it is not scheduled (any more)."""
        return self._change_scheduled(procedure_id, starts_at=starts_at, updated_at=now)

    def cancel(self, procedure_id: int, now: dt.datetime) -> bool:
        """Cancel a scheduled procedure; False if it was not scheduled (any more)."""
        return self._change_scheduled(procedure_id, status="cancelled", updated_at=now)

    def link_patient(self, procedure_id: int, user_id: int, now: dt.datetime) -> None:
        """Make a patient the procedure's, unless it has one already."""
        self.conn.execute(
            update(PROCEDURES)
            .where(PROCEDURES.c.id == procedure_id, PROCEDURES.c.user_id.is_(None))
            .values(user_id=user_id, updated_at=now)
        )

    def signs(self, procedure_id: int) -> list[tuple[str, dt.datetime]]:
        """The warning signs reported under a procedure, and when, oldest first."""
        rows = self.conn.execute(
            select(SAFETY_EVENTS.c.sign, SAFETY_EVENTS.c.created_at)
            .where(SAFETY_EVENTS.c.procedure_id == procedure_id)
            .order_by(SAFETY_EVENTS.c.id)
        )
        return [(row.sign, row.created_at) for row in rows]

    def _change_scheduled(self, procedure_id: int, **values: object) -> bool:
        result = self.conn.execute(
            update(PROCEDURES)
            .where(PROCEDURES.c.id == procedure_id, PROCEDURES.c.status == "scheduled")
            .values(**values)
        )
        return result.rowcount == 1

    # ---------------------------------------------------------------- invites

    def add_invite(
        self,
        procedure_id: int,
        token_hash: str,
        expires_at: dt.datetime,
        now: dt.datetime,
        *,
        role: str = "patient",
    ) -> None:
        """Keep a new invite to a procedure (only its token's hash)."""
        self.conn.execute(
            insert(INVITES).values(
                procedure_id=procedure_id,
                token_hash=token_hash,
                expires_at=expires_at,
                created_at=now,
                role=role,
            )
        )

    def invite(self, token_hash: str) -> StoredInvite | None:
        """The invite with this token hash, if any."""
        row = self.conn.execute(select(INVITES).where(INVITES.c.token_hash == token_hash)).first()
        if row is None:
            return None
        return StoredInvite(row.id, row.procedure_id, row.expires_at, row.used_at, row.role)

    def use_invite(self, invite_id: int, user_id: int, now: dt.datetime) -> bool:
        """Mark an invite used by a patient; False if someone used it first."""
        result = self.conn.execute(
            update(INVITES)
            .where(INVITES.c.id == invite_id, INVITES.c.used_at.is_(None))
            .values(used_at=now, used_by=user_id)
        )
        return result.rowcount == 1

    def expire_invites(self, procedure_id: int, now: dt.datetime, *, role: str | None = None) -> None:
        """Stop a procedure's unused invites (of one role, if given) from working."""
        chosen = [INVITES.c.procedure_id == procedure_id, INVITES.c.used_at.is_(None)]
        if role is not None:
            chosen.append(INVITES.c.role == role)
        self.conn.execute(update(INVITES).where(*chosen).values(expires_at=now))

    # ---------------------------------------------------------------- wrong guesses

    def wrong_tries(self, user_id: int, since: dt.datetime) -> int:
        """How many wrong guesses an account made since then."""
        count: int = self.conn.execute(
            select(func.count()).where(INVITE_ATTEMPTS.c.user_id == user_id, INVITE_ATTEMPTS.c.at > since)
        ).scalar_one()
        return count

    def note_wrong_try(self, user_id: int, now: dt.datetime, forget_before: dt.datetime) -> None:
        """Count a wrong guess, and forget every one made before `forget_before`."""
        self.conn.execute(insert(INVITE_ATTEMPTS).values(user_id=user_id, at=now))
        self.conn.execute(delete(INVITE_ATTEMPTS).where(INVITE_ATTEMPTS.c.at < forget_before))
