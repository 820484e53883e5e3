"""Companions: who the patient invited to drive them home, linked to a procedure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from bot.db.reminder_repo import Procedure, procedure_from_row
from bot.db.tables import COMPANIONS, INVITE_ATTEMPTS, INVITES, PROCEDURES, REMINDERS, USERS

COMPANION_ROLE = "companion"


@dataclass(frozen=True)
class Companion:
    """A companion of a procedure: their Telegram account and language, and when they joined."""

    id: int
    procedure_id: int
    user_id: int
    chat_id: int
    locale: str
    joined_at: dt.datetime


_COLUMNS = (
    COMPANIONS.c.id,
    COMPANIONS.c.procedure_id,
    COMPANIONS.c.user_id,
    USERS.c.chat_id,
    USERS.c.locale,
    COMPANIONS.c.joined_at,
)


class Companions:
    """Companion links, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, procedure_id: int, user_id: int, now: dt.datetime) -> int:
        """Link a companion to a procedure; their id."""
        return int(
            self.conn.execute(
                insert(COMPANIONS)
                .values(procedure_id=procedure_id, user_id=user_id, joined_at=now)
                .returning(COMPANIONS.c.id)
            ).scalar_one()
        )

    def of_procedure(self, procedure_id: int) -> list[Companion]:
        """A procedure's companions, first to join first."""
        rows = self.conn.execute(
            select(*_COLUMNS)
            .join(USERS, USERS.c.user_id == COMPANIONS.c.user_id)
            .where(COMPANIONS.c.procedure_id == procedure_id)
            .order_by(COMPANIONS.c.id)
        )
        return [Companion(**row._mapping) for row in rows]

    def by_id(self, companion_id: int) -> Companion | None:
        """One companion link by its id."""
        row = self.conn.execute(
            select(*_COLUMNS)
            .join(USERS, USERS.c.user_id == COMPANIONS.c.user_id)
            .where(COMPANIONS.c.id == companion_id)
        ).first()
        return None if row is None else Companion(**row._mapping)

    def of_user(self, user_id: int) -> list[Companion]:
        """The links of someone who accompanies patients, newest first."""
        rows = self.conn.execute(
            select(*_COLUMNS)
            .join(USERS, USERS.c.user_id == COMPANIONS.c.user_id)
            .where(COMPANIONS.c.user_id == user_id)
            .order_by(COMPANIONS.c.id.desc())
        )
        return [Companion(**row._mapping) for row in rows]

    def accompanied(self, user_id: int) -> Procedure | None:
        """The scheduled procedure this account accompanies (the newest), if any."""
        row = self.conn.execute(
            select(PROCEDURES)
            .join(COMPANIONS, COMPANIONS.c.procedure_id == PROCEDURES.c.id)
            .where(COMPANIONS.c.user_id == user_id, PROCEDURES.c.status == "scheduled")
            .order_by(COMPANIONS.c.id.desc())
            .limit(1)
        ).first()
        return None if row is None else procedure_from_row(row)

    def procedures_of(self, patient_id: int) -> list[int]:
        """The ids of a patient's procedures, whatever their state."""
        return list(
            self.conn.execute(select(PROCEDURES.c.id).where(PROCEDURES.c.user_id == patient_id)).scalars()
        )

    def move(self, old_procedure: int, new_procedure: int) -> int:
        """The patient set a new date (a new procedure row): their companions come along; how many."""
        return int(
            self.conn.execute(
                COMPANIONS.update()
                .where(COMPANIONS.c.procedure_id == old_procedure)
                .values(procedure_id=new_procedure)
            ).rowcount
        )

    def remove(self, companion: Companion) -> None:
        """Unlink a companion: the link and their reminders for that procedure go."""
        self.conn.execute(
            delete(REMINDERS).where(
                REMINDERS.c.procedure_id == companion.procedure_id, REMINDERS.c.user_id == companion.user_id
            )
        )
        self.conn.execute(delete(COMPANIONS).where(COMPANIONS.c.id == companion.id))

    def remove_all(self, procedure_ids: list[int]) -> list[Companion]:
        """Unlink every companion of these procedures, their companion invites too (the patient's
        data is going); each companion's account goes as well when nothing else holds it.
        Returns who was unlinked, to be told."""
        if not procedure_ids:
            return []
        gone = [c for p in procedure_ids for c in self.of_procedure(p)]
        for companion in gone:
            self.remove(companion)
        self.conn.execute(
            delete(INVITES).where(INVITES.c.procedure_id.in_(procedure_ids), INVITES.c.role == COMPANION_ROLE)
        )
        for user_id in {c.user_id for c in gone}:
            self.forget_if_alone(user_id)
        return gone

    def forget_if_alone(self, user_id: int) -> bool:
        """Delete a companion's account (chat, language) unless they are a patient or still
        accompany someone: they came to the bot for the patient whose data is going."""
        held = (
            self.conn.execute(select(func.count()).where(PROCEDURES.c.user_id == user_id)).scalar_one()
            + self.conn.execute(select(func.count()).where(COMPANIONS.c.user_id == user_id)).scalar_one()
        )
        if held:
            return False
        self.conn.execute(delete(REMINDERS).where(REMINDERS.c.user_id == user_id))
        self.conn.execute(delete(INVITE_ATTEMPTS).where(INVITE_ATTEMPTS.c.user_id == user_id))
        self.conn.execute(INVITES.update().where(INVITES.c.used_by == user_id).values(used_by=None))
        return int(self.conn.execute(delete(USERS).where(USERS.c.user_id == user_id)).rowcount) > 0
