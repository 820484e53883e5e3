"""What guards the clinic API around its routes: wrong tokens slowed per client address, security
headers on every answer, and the optional /docs page with a policy that allows only its own scripts."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import math
import re
from collections import deque
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

Clock = Callable[[], dt.datetime]
WRONG_TOKENS_ALLOWED = 5  # wrong tokens one address may send in WRONG_TOKEN_WINDOW
WRONG_TOKEN_WINDOW = dt.timedelta(minutes=1)
ADDRESSES_KEPT = 10_000  # beyond this many addresses, those with nothing recent are forgotten
TOO_MANY = "too many wrong API tokens from this address; wait Retry-After seconds and check the token"

LOCKED = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    # JSON and PNG only: nothing may load, nothing may frame it.
    "Content-Security-Policy": f"default-src 'none'; {LOCKED}",
}
DOCS_URL = "/docs"
SWAGGER = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"


class WrongTokenLimit:
    """Wrong tokens per client address in a sliding window, kept in this process's memory.

    Once an address has sent `allowed` wrong tokens within `window`, its calls without a right
    token get 429 until the oldest of them leaves the window. A right token is always served:
    several clinics may share one address (a proxy, a hospital network), and tokens are 192-bit
    random, so the limit is there to slow a misconfigured or noisy client, not to hide tokens."""

    def __init__(
        self, clock: Clock, *, allowed: int = WRONG_TOKENS_ALLOWED, window: dt.timedelta = WRONG_TOKEN_WINDOW
    ) -> None:
        self.clock = clock
        self.allowed = allowed
        self.window = window
        self._wrong: dict[str, deque[dt.datetime]] = {}

    def _recent(self, address: str, now: dt.datetime) -> deque[dt.datetime]:
        times = self._wrong.get(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, address: str) -> int | None:
        """Seconds until this address may try again, or None if it may try now."""
        now = self.clock()
        times = self._recent(address, now)
        if len(times) < self.allowed:
            return None
        return max(1, math.ceil((times[-self.allowed] + self.window - now).total_seconds()))

    def note_wrong(self, address: str) -> None:
        """Count a wrong (or missing) token from this address."""
        now = self.clock()
        if address not in self._wrong and len(self._wrong) >= ADDRESSES_KEPT:
            self._wrong = {a: t for a, t in self._wrong.items() if self._recent(a, now)}
        times = self._recent(address, now)
        times.append(now)
        while len(times) > self.allowed:
            times.popleft()  # only the last `allowed` matter for when it may try again
        self._wrong[address] = times


def _inline_script_hash(html: str) -> str:
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    digests = (base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in scripts)
    return " ".join(f"'sha256-{d}'" for d in digests)


def add_docs(api: FastAPI, openapi_url: str) -> None:
    """Swagger UI at /docs (Swagger's own scripts from jsDelivr, pinned by the page's policy)."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{api.title} - docs",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url="data:,",
    )
    html = bytes(page.body).decode()
    policy = (
        f"default-src 'none'; script-src {SWAGGER}/ {_inline_script_hash(html)}; style-src {SWAGGER}/; "
        f"img-src 'self' data:; connect-src 'self'; {LOCKED}"
    )

    async def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": policy})

    api.add_api_route(DOCS_URL, docs, methods=["GET"], include_in_schema=False)


def add_security_headers(api: FastAPI) -> None:
    """Every answer, errors included, carries SECURITY_HEADERS (a route's own policy is kept)."""

    @api.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
