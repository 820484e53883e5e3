"""The clinic web page's wiring: who is signed in, the language, rendering, errors, sign-in and
sign-out, and the stylesheet. The pages are in pages.py; everything they do goes through the
clinic service, as the API and the CLI do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.entrypoints.web.session import SESSION_COOKIE, VISIT_COOKIE, Sessions, WebSession
from bot.entrypoints.web.words import LANG_COOKIE, LANGUAGES, Words, pick_language, words
from bot.services.clinics import Actor, Clinic, ClinicError, ClinicService, NotFoundError
from bot.services.web_access import end_session, redeem_signin, session_clinic

BASE = "/clinic"
HERE = Path(__file__).parent
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
templates = Jinja2Templates(directory=HERE / "templates")  # autoescaped
STYLE = (HERE / "static" / "style.css").read_bytes()


@dataclass(frozen=True)
class WebWiring:
    """What the pages work with."""

    clinics: ClinicService
    sessions: Sessions
    qr: Callable[[str], bytes]


class NotSignedInError(Exception):
    """No session, an expired one, or one whose clinic or staff member is gone."""


class FormRefusedError(Exception):
    """A form without this session's CSRF token."""


@dataclass(frozen=True)
class Caller:
    """The signed-in staff member (or operator) and their clinic, found again at every request."""

    clinic: Clinic
    by: Actor
    session: WebSession


def wiring(request: Request) -> WebWiring:
    web: WebWiring = request.app.state.web
    return web


def language(request: Request) -> Words:
    """The request's words: the chosen language, else the browser's."""
    return words(pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")))


async def signed_in(request: Request) -> Caller:
    """The caller; NotSignedInError sends them to the sign-in advice."""
    web = wiring(request)
    session = web.sessions.read(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise NotSignedInError
    clinic = await session_clinic(web.clinics, session.id, session.clinic_id, session.by)
    if clinic is None:
        raise NotSignedInError
    return Caller(clinic, session.by, session)


CallerDep = Annotated[Caller, Depends(signed_in)]
WordsDep = Annotated[Words, Depends(language)]
WiringDep = Annotated[WebWiring, Depends(wiring)]


async def checked_form(request: Request, caller: Caller) -> FormData:
    """A posted form, only with this session's CSRF token."""
    form = await request.form()
    token = form.get("csrf")
    if not caller.session.csrf_ok(token if isinstance(token, str) else None):
        raise FormRefusedError
    return form


def render(
    request: Request,
    name: str,
    t: Words,
    caller: Caller | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page in the request's language, with the navigation for a signed-in caller."""
    return templates.TemplateResponse(
        request,
        name,
        {
            "t": t,
            "base": BASE,
            "languages": [(code, words(code).name) for code in LANGUAGES],
            "here": request.url.path,
            "caller": caller,
            "csrf": caller.session.csrf if caller else "",
            **context,
        },
        status_code=status,
    )


def message(request: Request, status: int, text: str, title_key: str = "error_title") -> HTMLResponse:
    """A page that says one thing (an error, or that one is signed out)."""
    return render(request, "message.html", language(request), None, status, title_key=title_key, text=text)


async def _not_signed_in(request: Request, _exc: Exception) -> Response:
    return message(request, 401, language(request)("signin_needed"), "signin_title")


async def _refused(request: Request, _exc: Exception) -> Response:
    return message(request, 403, language(request)("forbidden"))


async def _not_found(request: Request, _exc: Exception) -> Response:
    return message(request, 404, language(request)("not_found"))


async def _clinic_error(request: Request, exc: Exception) -> Response:
    return message(request, 422, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return await _not_found(request, exc)
    return message(request, exc.status_code, str(exc.detail))


def add_access(web: FastAPI) -> None:
    """Sign-in, sign-out, the language switch, the stylesheet, the errors and the page policy."""

    @web.middleware("http")
    async def _policy(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = POLICY
        response.headers["Cache-Control"] = "no-store"
        return response

    web.add_exception_handler(NotSignedInError, _not_signed_in)
    web.add_exception_handler(FormRefusedError, _refused)
    web.add_exception_handler(NotFoundError, _not_found)
    web.add_exception_handler(ClinicError, _clinic_error)
    web.add_exception_handler(StarletteHTTPException, _http_error)

    @web.get("/signin", response_class=HTMLResponse)
    async def signin_page(request: Request, t: WordsDep, web_: WiringDep, token: str = "") -> HTMLResponse:
        """The one-time link's page: opening it (or a link preview) uses nothing; the button does."""
        visit = web_.sessions.new_visit()
        response = render(request, "signin.html", t, token=token, visit=visit)
        web_.sessions.open_visit(response, visit)
        return response

    @web.post("/signin")
    async def signin(request: Request, web_: WiringDep) -> Response:
        form = await request.form()
        visit = form.get("visit")
        if not web_.sessions.visit_ok(
            request.cookies.get(VISIT_COOKIE), visit if isinstance(visit, str) else None
        ):
            # Another site's form (login CSRF), or a sign-in page older than 10 minutes.
            return message(request, 403, language(request)("signin_elsewhere"), "signin_title")
        token, session_id = form.get("token"), web_.sessions.new_id()
        found = (
            await redeem_signin(web_.clinics, token, session_id) if isinstance(token, str) and token else None
        )
        if found is None:
            return message(request, 400, language(request)("signin_refused"), "signin_title")
        response = RedirectResponse(f"{BASE}/", status_code=303)
        web_.sessions.start(response, found[0].id, found[1], session_id)
        web_.sessions.close_visit(response)
        return response

    @web.post("/signout")
    async def signout(request: Request, caller: CallerDep, web_: WiringDep) -> Response:
        await checked_form(request, caller)
        await end_session(web_.clinics, caller.session.id)
        response = message(request, 200, language(request)("signed_out"), "signin_title")
        web_.sessions.end(response)
        return response

    @web.get("/lang/{code}")
    async def switch_language(code: str, back: str = f"{BASE}/") -> Response:
        if code not in LANGUAGES:
            raise NotFoundError(code)
        # Only back to a page of ours: never an open redirect.
        target = back if back.startswith(f"{BASE}/") and "//" not in back and "\\" not in back else f"{BASE}/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, path=BASE, samesite="strict")
        return response

    @web.get("/static/style.css", include_in_schema=False)
    async def style() -> Response:
        return Response(STYLE, media_type="text/css")
