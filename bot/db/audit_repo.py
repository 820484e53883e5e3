"""The audit log: which clinic user or system did what to which procedure, and when; ids only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from bot.db.tables import AUDIT_LOG


@dataclass(frozen=True)
class Actor:
    """Who acted: an API token (its id), a staff member (Telegram id), the operator, the system."""

    kind: str  # token | staff | operator | system
    id: int | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One audited action."""

    actor_kind: str
    actor_id: int | None
    action: str
    procedure_id: int | None
    at: dt.datetime


class AuditLog:
    """Audit entries, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, clinic_id: int, actor: Actor, action: str, now: dt.datetime, procedure_id: int | None = None
    ) -> None:
        """Note one action of a clinic's user (or the system) on the clinic's data."""
        self.conn.execute(
            insert(AUDIT_LOG).values(
                clinic_id=clinic_id,
                actor_kind=actor.kind,
                actor_id=actor.id,
                action=action,
                procedure_id=procedure_id,
                at=now,
            )
        )

    def since(self, clinic_id: int, since: dt.datetime) -> list[AuditEntry]:
        """A clinic's own entries from `since` on, oldest first."""
        rows = self.conn.execute(
            select(
                AUDIT_LOG.c.actor_kind,
                AUDIT_LOG.c.actor_id,
                AUDIT_LOG.c.action,
                AUDIT_LOG.c.procedure_id,
                AUDIT_LOG.c.at,
            )
            .where(AUDIT_LOG.c.clinic_id == clinic_id, AUDIT_LOG.c.at >= since)
            .order_by(AUDIT_LOG.c.at, AUDIT_LOG.c.id)
        )
        return [AuditEntry(**row._mapping) for row in rows]
