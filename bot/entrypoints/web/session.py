"""Signed-in sessions of the clinic web page: a signed cookie (HttpOnly, SameSite=Strict, Secure
behind TLS) holding the clinic, who signed in and a CSRF token; valid for 12 hours. The sign-in
page's visit cookie: a sign-in is only taken from a form this browser was shown by this site."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from bot.services.clinics import Actor
from bot.services.web_access import SESSION_TTL

SESSION_COOKIE = "vb_clinic"
SESSION_SECONDS = int(SESSION_TTL.total_seconds())
COOKIE_PATH = "/clinic"
VISIT_COOKIE = "vb_signin"  # the sign-in page's per-visit value, for that page's form only
VISIT_SECONDS = 600
VISIT_PATH = "/clinic/signin"


@dataclass(frozen=True)
class WebSession:
    """Who is signed in, to which clinic, and the token every form of theirs carries."""

    clinic_id: int
    by: Actor
    csrf: str  # the session's random id: kept server-side as its hash, and every form's token

    @property
    def id(self) -> str:
        """What names the session in the database (as its hash)."""
        return self.csrf

    def csrf_ok(self, given: str | None) -> bool:
        """Whether a form came from a page this session was shown."""
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


class Sessions:
    """Signs and reads the session cookie."""

    def __init__(self, secret: str | None, *, secure: bool) -> None:
        # Without a configured secret, sessions last as long as this process.
        self.serializer = URLSafeTimedSerializer(secret or secrets.token_urlsafe(32), salt="clinic-web")
        self.secure = secure

    @staticmethod
    def new_id() -> str:
        """A fresh session's random id (and CSRF token)."""
        return secrets.token_urlsafe(24)

    def start(self, response: Response, clinic_id: int, by: Actor, session_id: str) -> None:
        """Sign someone in: the cookie of the session `session_id` (started in the database)."""
        value = self.serializer.dumps({"c": clinic_id, "k": by.kind, "u": by.id, "x": session_id})
        self._set_cookie(response, SESSION_COOKIE, value, SESSION_SECONDS, COOKIE_PATH)

    def read(self, value: str | None) -> WebSession | None:
        """The session a cookie holds, or None (missing, forged, or older than 12 hours)."""
        if not value:
            return None
        try:
            data = self.serializer.loads(value, max_age=SESSION_SECONDS)
        except BadSignature:  # a SignatureExpired too
            return None
        return WebSession(int(data["c"]), Actor(str(data["k"]), data["u"]), str(data["x"]))

    @staticmethod
    def new_visit() -> str:
        """A visit to the sign-in page: a random value for its form (and its cookie)."""
        return secrets.token_urlsafe(24)

    def open_visit(self, response: Response, visit: str) -> None:
        """The visit's value also in a short-lived SameSite=Strict cookie, which a browser never
        sends with another site's form."""
        self._set_cookie(response, VISIT_COOKIE, visit, VISIT_SECONDS, VISIT_PATH)

    def _set_cookie(self, response: Response, name: str, value: str, seconds: int, path: str) -> None:
        """A cookie no script reads and no other site's request carries."""
        response.set_cookie(
            name, value, max_age=seconds, path=path, httponly=True, samesite="strict", secure=self.secure
        )

    @staticmethod
    def visit_ok(cookie: str | None, given: str | None) -> bool:
        """Whether a sign-in was posted by the sign-in page this browser was shown (login CSRF)."""
        return (
            bool(cookie) and given is not None and hmac.compare_digest(given.encode(), str(cookie).encode())
        )

    def close_visit(self, response: Response) -> None:
        """The visit is over: the browser forgets its value."""
        response.delete_cookie(
            VISIT_COOKIE, path=VISIT_PATH, httponly=True, samesite="strict", secure=self.secure
        )

    def end(self, response: Response) -> None:
        """Sign out: the browser forgets the cookie (the database ended the session)."""
        response.delete_cookie(
            SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=self.secure
        )
