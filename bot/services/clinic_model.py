"""The clinic service's records (invites, procedure details), its errors and limits, and the
rules its parts share (a clinic that must exist, how many wrong guesses an account may make)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.db.audit_repo import Actor
from bot.db.clinic_repo import Clinic
from bot.db.reminder_repo import Procedure, ReminderView
from bot.db.store import Transaction
from bot.services.procedures import to_utc
from flows.zones import known_zone

INVITE_TTL = dt.timedelta(days=30)
GUESS_WINDOW = dt.timedelta(hours=1)
GUESSES_ALLOWED = 5  # wrong invites a Telegram account may try in GUESS_WINDOW
# A procedure starts after now and at most this far ahead (a typo such as 2062 is refused).
START_WINDOW = dt.timedelta(days=731)  # two years, a leap day included
ZONE_NAME_MAX = 64  # the longest IANA name is 32 characters
OPERATOR = Actor("operator")  # whoever runs the command line on the server
SYSTEM = Actor("system")  # the bot itself (the retention purge)


class ClinicError(Exception):
    """Something a clinic asked for cannot be done; the message says what to change."""


class NotFoundError(ClinicError):
    """No such clinic or procedure for this clinic (the same answer either way, on purpose)."""


class ConflictError(ClinicError):
    """The request clashes with a procedure the clinic has: a reference in use, say."""


def digest(secret: str) -> str:
    """How tokens, invites and codes are stored: never the secret itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A 192-bit random token, safe in a Telegram deep link (letters, digits, - and _)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Invite:
    """An invite as handed to the patient: the deep link, and when it stops working."""

    token: str
    link: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class ProcedureDetails:
    """What a clinic sees of one procedure."""

    procedure: Procedure
    local_start: dt.datetime
    patient_linked: bool
    reminders: list[ReminderView]
    warning_signs: list[tuple[str, dt.datetime]]

    @property
    def unreachable(self) -> bool:
        """Whether the patient blocked the bot: nothing the bot sends reaches them."""
        return self.procedure.unreachable_at is not None


@dataclass(frozen=True)
class Redemption:
    """The outcome of a patient opening an invite."""

    # linked | used | expired | unknown | throttled; a companion's link: companion (joined),
    # companion_used | companion_expired | companion_room | companion_own | companion_already
    result: str
    procedure: Procedure | None = None
    clinic: Clinic | None = None
    companion: int | None = None  # the companion link made

    @property
    def companion_side(self) -> bool:
        """Whether it was a companion's link (so the procedure shown is someone else's)."""
        return self.result.startswith("companion")


def iana_zone(zone_name: str) -> ZoneInfo:
    """An IANA time zone by name; ClinicError for anything else (a path, `localtime`, 5,000 letters)."""
    if len(zone_name) > ZONE_NAME_MAX or zone_name in NOT_ZONES or not known_zone(zone_name):
        shown = zone_name if len(zone_name) <= ZONE_NAME_MAX else zone_name[:ZONE_NAME_MAX] + "..."
        raise ClinicError(f"unknown time zone {shown!r}; use an IANA name such as Europe/Sofia")
    return ZoneInfo(zone_name)


WINDOW = "a procedure starts between now and two years ahead"
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})  # files in the zone database, not places


def beyond_window(starts_at: dt.datetime, now: dt.datetime) -> str | None:
    """Why a start later than the window is refused, or None within it (the past is checked apart)."""
    if starts_at <= now + START_WINDOW:
        return None
    return f"the start is too far ahead; {WINDOW} ({(now + START_WINDOW).date().isoformat()})"


def parse_start(value: str | dt.datetime, zone_name: str) -> tuple[dt.datetime, str]:
    """A procedure's start as UTC from ISO 8601 text; without an offset it is local to `zone_name`."""
    zone = iana_zone(zone_name)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        try:
            dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
        else:  # a date alone would silently mean midnight
            raise ClinicError(
                f"the time {shown!r} has a date but no time of day; write it as 2026-11-24T09:30"
            )
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ClinicError(
                f"cannot read the time {shown!r}; write it as 2026-11-24T09:30 (local) "
                "or with an offset, 2026-11-24T09:30+02:00"
            ) from None
    try:
        start = to_utc(value, zone) if value.tzinfo is None else value.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before the first day Python knows
        raise ClinicError(f"the time {value.isoformat()} is out of range; {WINDOW}") from None
    return start, zone_name


def too_many_tries(tx: Transaction, user_id: int, now: dt.datetime) -> bool:
    """Whether an account has guessed wrong (invites, staff codes) too often this past hour."""
    return tx.bookings.wrong_tries(user_id, since=now - GUESS_WINDOW) >= GUESSES_ALLOWED


def note_wrong_try(tx: Transaction, user_id: int, now: dt.datetime) -> None:
    """Count a wrong guess, and forget the ones older than the window."""
    tx.bookings.note_wrong_try(user_id, now, forget_before=now - GUESS_WINDOW)


def existing(clinic: Clinic | None) -> Clinic:
    """The clinic looked up; NotFoundError if there is none."""
    if clinic is None:
        raise NotFoundError("no such clinic")
    return clinic


def audit(
    tx: Transaction,
    clinic_id: int,
    by: Actor | None,
    action: str,
    now: dt.datetime,
    *,
    procedure: int | None = None,
) -> None:
    """Note a clinic user's action in the audit log (ids and times only); `by=None`: an inside call."""
    if by is not None:
        tx.audit.add(clinic_id, by, action, now, procedure)
