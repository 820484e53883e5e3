"""Clinic rows and their API tokens: settings go in and come out as the validated model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc, insert, select, update
from sqlalchemy.engine import Connection

from bot.db.tables import CLINIC_TOKENS, CLINICS
from flows.models import ClinicSettings


@dataclass(frozen=True)
class Clinic:
    """A clinic as the service sees it."""

    id: int
    slug: str
    settings: ClinicSettings
    staff_chat_id: int | None


class ClinicExistsError(Exception):
    """Another writer added a clinic with this slug meanwhile; start the transaction again."""


def clinic_from_row(row: Any) -> Clinic:
    """A clinic from a row of the clinics table."""
    return Clinic(row.id, row.slug, ClinicSettings.model_validate(row.settings), row.staff_chat_id)


class Clinics:
    """Clinic rows and tokens, inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def by_slug(self, slug: str) -> Clinic | None:
        """The clinic with this slug, if any."""
        return self._first(CLINICS.c.slug == slug)

    def by_id(self, clinic_id: int) -> Clinic | None:
        """The clinic with this id, if any."""
        return self._first(CLINICS.c.id == clinic_id)

    def lock(self, clinic_id: int) -> None:
        """Hold the clinic's row until the transaction ends: its registrations then go one at a time.

        PostgreSQL only (a SQLite writer has the whole file); read-then-write checks such as
        "no scheduled procedure has this reference" stay true until the commit.
        """
        self.conn.execute(select(CLINICS.c.id).where(CLINICS.c.id == clinic_id).with_for_update())

    def all(self) -> list[Clinic]:
        """Every clinic, oldest first."""
        return [clinic_from_row(row) for row in self.conn.execute(select(CLINICS).order_by(CLINICS.c.id))]

    def add(self, slug: str, settings: ClinicSettings, now: dt.datetime) -> int:
        """A new clinic; its id. ClinicExistsError if the slug was taken meanwhile."""
        try:
            clinic_id = self.conn.execute(
                insert(CLINICS)
                .values(slug=slug, settings=settings.model_dump(mode="json"), created_at=now, updated_at=now)
                .returning(CLINICS.c.id)
            ).scalar_one()
        except exc.IntegrityError as error:
            raise ClinicExistsError(slug) from error
        return int(clinic_id)

    def set_settings(self, clinic_id: int, settings: ClinicSettings, now: dt.datetime) -> None:
        """Replace a clinic's settings."""
        self.conn.execute(
            update(CLINICS)
            .where(CLINICS.c.id == clinic_id)
            .values(settings=settings.model_dump(mode="json"), updated_at=now)
        )

    def add_token(self, clinic_id: int, token_hash: str, label: str, now: dt.datetime) -> None:
        """Keep the hash of a new API token of a clinic."""
        self.conn.execute(
            insert(CLINIC_TOKENS).values(
                clinic_id=clinic_id, token_hash=token_hash, label=label, created_at=now
            )
        )

    def by_token(self, token_hash: str) -> tuple[Clinic, int] | None:
        """The clinic a token (by its hash) belongs to, and the token's id, unless it was revoked."""
        row = self.conn.execute(
            select(CLINICS, CLINIC_TOKENS.c.id.label("token_id"))
            .join(CLINIC_TOKENS, CLINIC_TOKENS.c.clinic_id == CLINICS.c.id)
            .where(CLINIC_TOKENS.c.token_hash == token_hash, CLINIC_TOKENS.c.revoked_at.is_(None))
        ).first()
        return None if row is None else (clinic_from_row(row), int(row.token_id))

    def revoke_tokens(self, clinic_id: int, label: str | None, now: dt.datetime) -> list[int]:
        """Revoke a clinic's live tokens (those with this label, if given); their ids."""
        chosen = [CLINIC_TOKENS.c.clinic_id == clinic_id, CLINIC_TOKENS.c.revoked_at.is_(None)]
        if label is not None:
            chosen.append(CLINIC_TOKENS.c.label == label)
        ids = list(self.conn.execute(select(CLINIC_TOKENS.c.id).where(*chosen)).scalars())
        if ids:
            self.conn.execute(update(CLINIC_TOKENS).where(CLINIC_TOKENS.c.id.in_(ids)).values(revoked_at=now))
        return ids

    def _first(self, condition: Any) -> Clinic | None:
        row = self.conn.execute(select(CLINICS).where(condition)).first()
        return None if row is None else clinic_from_row(row)
