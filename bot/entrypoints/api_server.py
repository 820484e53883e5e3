"""`vertebrobot serve-api`: the clinic API alone (with /healthz, /readyz and /metrics), for an
operator who runs it apart from the bot; it never calls Telegram and sends no reminders."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.entrypoints.api import create_api, qr_png
from bot.entrypoints.api_health import add_health
from bot.entrypoints.bootstrap import wire
from bot.entrypoints.config import Settings
from bot.entrypoints.startup import check_web_secret
from bot.entrypoints.webserver import listen, serve
from bot.services.health import Health
from bot.services.metrics import Metrics

log = logging.getLogger(__name__)


async def serve_api(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Serve the clinic API until SIGINT/SIGTERM (or `stop`); the database is migrated first.
    Procedures registered here are sent their reminders by a `vertebrobot run` on the same database."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    wiring = wire(settings)
    try:
        check_web_secret(settings, shared=wiring.store.shared)  # before anything is opened
        await wiring.prepare()
        sock = listen(settings.http_host, settings.http_port)  # a port in use is one line, as for `run`
        api = create_api(wiring.clinics, qr=qr_png)
        # Readiness here is the database's: this process has no Telegram connection or dispatcher.
        add_health(api, Health(wiring.store), Metrics())
        log.info("clinic API alone on http://%s:%s", *sock.getsockname()[:2])
        try:
            await serve(api, sock, stop)
        finally:
            sock.close()
    finally:
        await wiring.store.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
