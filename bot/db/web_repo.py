"""What the clinic web page keeps: one-time sign-in links, live sessions, and alerts (warning
signs reported under a clinic's procedures) with who of the clinic handled them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from bot.db.audit_repo import Actor
from bot.db.tables import PROCEDURES, SAFETY_EVENTS, WEB_SESSIONS, WEB_SIGNINS


@dataclass(frozen=True)
class SignIn:
    """Who a used sign-in link signs in: a clinic, and the staff account (None: the operator)."""

    clinic_id: int
    user_id: int | None


@dataclass(frozen=True)
class Alert:
    """A warning sign reported under one of a clinic's procedures; ids and times, never words."""

    id: int
    procedure_id: int
    reference: str | None
    sign: str
    reported_at: dt.datetime
    handled_at: dt.datetime | None
    handled_by: Actor | None


class WebSignIns:
    """Sign-in links, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, clinic_id: int, user_id: int | None, token_hash: str, expires_at: dt.datetime, now: dt.datetime
    ) -> None:
        """Keep a new sign-in link (only its hash)."""
        self.conn.execute(
            insert(WEB_SIGNINS).values(
                clinic_id=clinic_id,
                user_id=user_id,
                token_hash=token_hash,
                expires_at=expires_at,
                created_at=now,
            )
        )

    def use(self, token_hash: str, now: dt.datetime) -> SignIn | None:
        """Use the link with this hash once; None if unknown, used or expired."""
        row = self.conn.execute(
            update(WEB_SIGNINS)
            .where(
                WEB_SIGNINS.c.token_hash == token_hash,
                WEB_SIGNINS.c.used_at.is_(None),
                WEB_SIGNINS.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(WEB_SIGNINS.c.clinic_id, WEB_SIGNINS.c.user_id)
        ).first()
        return None if row is None else SignIn(row.clinic_id, row.user_id)


class WebSessions:
    """Live sessions (only the hash of each one's random id), inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def start(
        self, id_hash: str, clinic_id: int, user_id: int | None, expires_at: dt.datetime, now: dt.datetime
    ) -> None:
        """Keep a new session; sessions past their end are trimmed on the way."""
        self.conn.execute(delete(WEB_SESSIONS).where(WEB_SESSIONS.c.expires_at <= now))
        self.conn.execute(
            insert(WEB_SESSIONS).values(
                id_hash=id_hash, clinic_id=clinic_id, user_id=user_id, expires_at=expires_at, created_at=now
            )
        )

    def live(self, id_hash: str, clinic_id: int, user_id: int | None, now: dt.datetime) -> bool:
        """Whether this session of this clinic and person is still on (not ended, not expired)."""
        row = self.conn.execute(
            select(WEB_SESSIONS.c.id_hash).where(
                WEB_SESSIONS.c.id_hash == id_hash,
                WEB_SESSIONS.c.clinic_id == clinic_id,
                WEB_SESSIONS.c.user_id.is_(None) if user_id is None else WEB_SESSIONS.c.user_id == user_id,
                WEB_SESSIONS.c.expires_at > now,
            )
        ).first()
        return row is not None

    def end(self, id_hash: str) -> None:
        """Sign-out: the session is over, wherever its cookie is."""
        self.conn.execute(delete(WEB_SESSIONS).where(WEB_SESSIONS.c.id_hash == id_hash))

    def end_of_staff(self, clinic_id: int, user_id: int) -> int:
        """Every session of a staff account at a clinic is over (they were removed); how many."""
        result = self.conn.execute(
            delete(WEB_SESSIONS).where(
                WEB_SESSIONS.c.clinic_id == clinic_id, WEB_SESSIONS.c.user_id == user_id
            )
        )
        return int(result.rowcount)


_ALERTS = select(
    SAFETY_EVENTS.c.id,
    SAFETY_EVENTS.c.procedure_id,
    PROCEDURES.c.reference,
    SAFETY_EVENTS.c.sign,
    SAFETY_EVENTS.c.created_at,
    SAFETY_EVENTS.c.handled_at,
    SAFETY_EVENTS.c.handled_by_kind,
    SAFETY_EVENTS.c.handled_by_id,
).join(PROCEDURES, PROCEDURES.c.id == SAFETY_EVENTS.c.procedure_id)


class Alerts:
    """A clinic's alerts, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def of_clinic(self, clinic_id: int, limit: int) -> list[Alert]:
        """The clinic's newest alerts first, at most `limit`."""
        rows = self.conn.execute(
            _ALERTS.where(PROCEDURES.c.clinic_id == clinic_id)
            .order_by(SAFETY_EVENTS.c.id.desc())
            .limit(limit)
        )
        return [
            Alert(
                row.id,
                row.procedure_id,
                row.reference,
                row.sign,
                row.created_at,
                row.handled_at,
                None if row.handled_by_kind is None else Actor(row.handled_by_kind, row.handled_by_id),
            )
            for row in rows
        ]

    def mark_handled(self, clinic_id: int, alert_id: int, by: Actor, now: dt.datetime) -> int | None:
        """Mark one of the clinic's unhandled alerts handled; its procedure's id, or None."""
        of_clinic = select(PROCEDURES.c.id).where(PROCEDURES.c.clinic_id == clinic_id)
        row = self.conn.execute(
            update(SAFETY_EVENTS)
            .where(
                SAFETY_EVENTS.c.id == alert_id,
                SAFETY_EVENTS.c.handled_at.is_(None),
                SAFETY_EVENTS.c.procedure_id.in_(of_clinic),
            )
            .values(handled_at=now, handled_by_kind=by.kind, handled_by_id=by.id)
            .returning(SAFETY_EVENTS.c.procedure_id)
        ).first()
        return None if row is None else int(row.procedure_id)
