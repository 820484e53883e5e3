"""`vertebrobot run`: the bot, the reminder dispatcher and the HTTP server on one event loop."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
import signal

from fastapi import FastAPI
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.db.store import Clock, utcnow
from bot.entrypoints.api import create_api, qr_png
from bot.entrypoints.api_health import add_health
from bot.entrypoints.bootstrap import wire
from bot.entrypoints.config import Settings, StartupError
from bot.entrypoints.startup import check_web_secret, telegram_problem
from bot.entrypoints.telegram import build_application, register_commands, stop_polling
from bot.entrypoints.telegram_sender import TelegramSender
from bot.entrypoints.upstream import guard_logs
from bot.entrypoints.webserver import WEBHOOK_PATH, add_webhook, listen, serve
from bot.services.health import Health
from bot.services.metrics import Metrics

log = logging.getLogger(__name__)
WEBHOOK_FOUND = (
    "a webhook is set for this bot (%s), so Telegram sends the updates there and polling would "
    "take them away: stop the instance in webhook mode (it removes its webhook when it stops), or "
    "remove the webhook with https://api.telegram.org/bot<token>/deleteWebhook, or set "
    "TELEGRAM_WEBHOOK_URL to run this instance in webhook mode too"
)


async def run(
    settings: Settings, token: str, stop: asyncio.Event | None = None, *, clock: Clock | None = None
) -> None:
    """Run until SIGINT/SIGTERM (or `stop`): polling, or a webhook when TELEGRAM_WEBHOOK_URL is set.
    `clock`: the one readiness reads (tests move it)."""
    guard_logs(token)  # before anything can log a payload or a URL with the token
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    wiring = wire(settings)
    try:
        check_web_secret(settings, shared=wiring.store.shared)  # before anything is opened
        await wiring.prepare(train=True)  # it answers patients: the sign models are trained first
        sock = listen(settings.http_host, settings.http_port)
    except BaseException:
        await wiring.store.close()
        raise
    budget = wiring.send_budget(token)
    metrics, health = Metrics(), Health(wiring.store, clock=clock or utcnow)
    app = build_application(
        token,
        wiring.service,
        base_url=settings.telegram_api_base_url,
        budget=budget,
        metrics=metrics,
        health=health,
        flood=wiring.flood,
    )
    health.telegram_probe = app.bot.get_me
    dispatcher = wiring.start_dispatcher(
        TelegramSender(app.bot),
        budget=budget,
        on_pass=health.dispatcher_ran,
        on_sent=metrics.sent.labels("reminder").inc,
    )
    health.dispatcher_wake = dispatcher.wake.set
    purger = wiring.start_purger()
    api = create_api(wiring.clinics, qr=qr_png)
    add_health(api, health, metrics)
    tasks: list[asyncio.Task[None]] = []
    webhook_set = False
    try:
        try:
            await app.initialize()  # getMe: the token and the way to Telegram, checked at once
        except TelegramError as error:
            raise StartupError(telegram_problem(error, settings)) from None
        await wiring.learn_bot_username(app.bot.username)
        await register_commands(app)
        await app.start()
        webhook_set = await _receive_updates(app, api, settings)
        # What startup built (modules, content, the application: some 200,000 objects) lives as
        # long as the process: out of the garbage collector's way, a full collection takes a few
        # milliseconds instead of about 100, which would hold replies and paced sends up.
        gc.collect()
        gc.freeze()
        tasks = [
            health.watch(dispatcher.run(stop)),
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
        if webhook_set:
            await _remove_webhook(app, shared=wiring.store.shared)
        sock.close()
        await stop_polling(app)
        await wiring.store.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _remove_webhook(app: Application, *, shared: bool) -> None:  # type: ignore[type-arg]
    """Take down the webhook this instance set, so updates wait at Telegram for the next start."""
    if shared:  # other instances on this database may still be serving the same webhook
        log.info("webhook left set: other instances on this database may still serve it")
        return
    try:
        await app.bot.delete_webhook()
    except TelegramError as exc:  # Telegram unreachable: the webhook stays; the next start sets it again
        log.warning("the webhook could not be removed on shutdown (%s)", type(exc).__name__)
    else:
        log.info("webhook removed")


async def _receive_updates(app: Application, api: FastAPI, settings: Settings) -> bool:  # type: ignore[type-arg]
    """Set the webhook (and return True), or start polling unless a webhook is set."""
    if settings.telegram_webhook_url:
        secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
        add_webhook(api, app, secret)
        url = settings.telegram_webhook_url.rstrip("/") + WEBHOOK_PATH
        await app.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        log.info("receiving updates by webhook")
        return True
    assert app.updater is not None
    found = (await app.bot.get_webhook_info()).url
    if found:  # python-telegram-bot would delete it without a word, and take another instance's updates
        log.error(WEBHOOK_FOUND, found)
        raise SystemExit(1)
    await app.updater.start_polling(poll_interval=0.0, timeout=10, allowed_updates=Update.ALL_TYPES)
    log.info("receiving updates by polling")
    return False
