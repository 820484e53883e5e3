"""The clinic web page under /clinic/: server-rendered pages for clinic staff, signed in with a
one-time link from the bot (/dashboard) or `vertebrobot staff link`."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from bot.entrypoints.config import Settings
from bot.entrypoints.web.app import BASE, WebWiring, add_access
from bot.entrypoints.web.pages import pages
from bot.entrypoints.web.session import Sessions
from bot.services.clinics import ClinicService
from bot.services.procedures import qr_png


def create_web(
    clinics: ClinicService, *, qr: Callable[[str], bytes] | None = None, settings: Settings | None = None
) -> FastAPI:
    """The clinic web page as an app of its own (mounted at BASE)."""
    settings = settings or Settings()
    secure = settings.web_secure_cookie
    if secure is None:
        secure = (settings.web_url or "").startswith("https://")
    web = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    web.state.web = WebWiring(clinics, Sessions(settings.web_secret, secure=secure), qr or qr_png)
    add_access(web)
    web.include_router(pages)
    return web


def mount_web(api: FastAPI, clinics: ClinicService, *, qr: Callable[[str], bytes] | None = None) -> None:
    """Serve the clinic web page from the same server as the clinic API."""
    api.mount(BASE, create_web(clinics, qr=qr))


__all__ = ["BASE", "create_web", "mount_web"]
