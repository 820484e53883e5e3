"""`vertebrobot run`: the bot, the reminder dispatcher and the HTTP server on one event loop."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal

from telegram import Update
from telegram.error import TelegramError

from bot.entrypoints.api import create_api, qr_png
from bot.entrypoints.bootstrap import wire
from bot.entrypoints.config import Settings, StartupError
from bot.entrypoints.startup import telegram_problem
from bot.entrypoints.telegram import build_application, register_commands, stop_polling
from bot.entrypoints.telegram_sender import TelegramSender
from bot.entrypoints.upstream import guard_logs
from bot.entrypoints.webserver import WEBHOOK_PATH, add_webhook, listen, serve

log = logging.getLogger(__name__)


async def run(settings: Settings, token: str, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop`): polling, or a webhook when TELEGRAM_WEBHOOK_URL is set."""
    guard_logs(token)  # before anything can log a payload or a URL with the token
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    wiring = wire(settings)
    try:
        await wiring.prepare()
        sock = listen(settings.http_host, settings.http_port)
    except BaseException:
        await wiring.store.close()
        raise
    budget = wiring.send_budget(token)
    app = build_application(
        token, wiring.service, base_url=settings.telegram_api_base_url, budget=budget, flood=wiring.flood
    )
    dispatcher = wiring.start_dispatcher(TelegramSender(app.bot), budget=budget)
    purger = wiring.start_purger()
    api = create_api(wiring.clinics, qr=qr_png)
    tasks: list[asyncio.Task[None]] = []
    try:
        try:
            await app.initialize()  # getMe: the token and the way to Telegram, checked at once
        except TelegramError as error:
            raise StartupError(telegram_problem(error, settings)) from None
        await wiring.learn_bot_username(app.bot.username)
        await register_commands(app)
        await app.start()
        if settings.telegram_webhook_url:
            secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
            add_webhook(api, app, secret)
            url = settings.telegram_webhook_url.rstrip("/") + WEBHOOK_PATH
            await app.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
            log.info("receiving updates by webhook")
        else:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=10, allowed_updates=Update.ALL_TYPES)
            log.info("receiving updates by polling")
        tasks = [
            asyncio.create_task(dispatcher.run(stop)),
            asyncio.create_task(purger.run(stop)),
            asyncio.create_task(serve(api, sock, stop)),
        ]
        log.info("clinic API and /healthz on http://%s:%s", *sock.getsockname()[:2])
        await stop.wait()
        await asyncio.gather(*tasks)
    finally:
        stop.set()
        for task in tasks:
            if not task.done():
                await task
        sock.close()
        await stop_polling(app)
        await wiring.store.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
