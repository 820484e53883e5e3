"""The clinic web page's access and alerts: one-time sign-in links (kept as their hash, 10 minutes,
single use), live sessions (kept as the hash of their id, 12 hours, ended by signing out), who a
session still belongs to, and marking an alert handled. The pages themselves
use ClinicService for everything else, as the API and the CLI do."""

from __future__ import annotations

import datetime as dt

from bot.db.audit_repo import Actor
from bot.db.clinic_repo import Clinic
from bot.db.store import Transaction
from bot.db.web_repo import Alert
from bot.services.clinic_model import NotFoundError, audit, digest, new_secret
from bot.services.clinics import ClinicService

SIGNIN_TTL = dt.timedelta(minutes=10)
SESSION_TTL = dt.timedelta(hours=12)
SIGNIN_PATH = "/clinic/signin"
ALERTS_SHOWN = 200


def signin_link(base_url: str, token: str) -> str:
    """The link a staff member opens: the page with a "Sign in" button (opening it uses nothing)."""
    return f"{base_url.rstrip('/')}{SIGNIN_PATH}?token={token}"


async def issue_signin(clinics: ClinicService, clinic: Clinic, by: Actor) -> str:
    """A new one-time sign-in token for a staff member (or the operator) of a clinic."""
    token, now = new_secret(), clinics.clock()  # 192 random bits

    def issue(tx: Transaction) -> None:
        tx.signins.add(clinic.id, by.id if by.kind == "staff" else None, digest(token), now + SIGNIN_TTL, now)
        audit(tx, clinic.id, by, "signin_issued", now)

    await clinics.store.run(issue)
    return token


async def redeem_signin(clinics: ClinicService, token: str, session_id: str) -> tuple[Clinic, Actor] | None:
    """Use a sign-in token and start the session `session_id` (a random value): the clinic and who
    signs in, or None (unknown, used, expired, or a staff member no longer staff of that clinic)."""
    now = clinics.clock()

    def redeem(tx: Transaction) -> tuple[Clinic, Actor] | None:
        used = tx.signins.use(digest(token), now)
        if used is None:
            return None
        by = Actor("operator") if used.user_id is None else Actor("staff", used.user_id)
        clinic = _allowed(tx, used.clinic_id, by)
        if clinic is None:
            return None
        tx.web_sessions.start(digest(session_id), clinic.id, by.id, now + SESSION_TTL, now)
        audit(tx, clinic.id, by, "signed_in", now)
        return clinic, by

    return await clinics.store.run(redeem)


async def session_clinic(clinics: ClinicService, session_id: str, clinic_id: int, by: Actor) -> Clinic | None:
    """The clinic a signed-in session may see, looked up at every request: None once the session
    was ended (signed out) or is over 12 hours old, the clinic is gone or the staff member removed."""
    now = clinics.clock()

    def look(tx: Transaction) -> Clinic | None:
        if not tx.web_sessions.live(digest(session_id), clinic_id, by.id, now):
            return None
        return _allowed(tx, clinic_id, by)

    return await clinics.store.run(look)


async def end_session(clinics: ClinicService, session_id: str) -> None:
    """Sign out: the session is refused from now on, also where its cookie was copied."""
    await clinics.store.run(lambda tx: tx.web_sessions.end(digest(session_id)))


def _allowed(tx: Transaction, clinic_id: int, by: Actor) -> Clinic | None:
    if by.kind == "staff":
        assert by.id is not None
        clinic = tx.staff.clinic_of(by.id)
        return clinic if clinic is not None and clinic.id == clinic_id else None
    return tx.clinics.by_id(clinic_id)


async def alerts(clinics: ClinicService, clinic: Clinic) -> list[Alert]:
    """The clinic's alerts, newest first."""
    return await clinics.store.run(lambda tx: tx.alerts.of_clinic(clinic.id, ALERTS_SHOWN))


async def handle_alert(clinics: ClinicService, clinic: Clinic, alert_id: int, by: Actor) -> None:
    """Mark one of the clinic's alerts handled, by whom and when; NotFoundError for another's."""
    now = clinics.clock()

    def mark(tx: Transaction) -> None:
        procedure_id = tx.alerts.mark_handled(clinic.id, alert_id, by, now)
        if procedure_id is None:
            if not any(alert.id == alert_id for alert in tx.alerts.of_clinic(clinic.id, ALERTS_SHOWN)):
                raise NotFoundError(f"no alert {alert_id}")
            return  # handled already: the first who and when stay
        audit(tx, clinic.id, by, "alert_handled", now, procedure=procedure_id)

    await clinics.store.run(mark)


async def staff_clinic(clinics: ClinicService, user_id: int) -> Clinic | None:
    """The clinic a Telegram account is staff of, if any."""
    return await clinics.store.run(lambda tx: tx.staff.clinic_of(user_id))


__all__ = [
    "SESSION_TTL",
    "SIGNIN_TTL",
    "Alert",
    "alerts",
    "end_session",
    "handle_alert",
    "issue_signin",
    "redeem_signin",
    "session_clinic",
    "signin_link",
    "staff_clinic",
]
