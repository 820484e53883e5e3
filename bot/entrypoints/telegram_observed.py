"""Watching the Bot API connection: every answer tells readiness that Telegram was reached and
counts the 429s; every update handled and every message sent is counted (`/metrics`)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes
from telegram.request import HTTPXRequest

from bot.entrypoints.upstream import UpdatesRequest
from bot.services.health import Health
from bot.services.metrics import Metrics

METRICS_KEY = "metrics"
Observer = Callable[[int], None]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
_TOKEN_REFUSED = frozenset({401, 404})  # a wrong token: Telegram answers, but not to this bot


def observer(metrics: Metrics, health: Health | None) -> Observer:
    """What to do with the HTTP status of each Bot API answer."""

    def observe(status: int) -> None:
        if status == 429:
            metrics.too_many_requests.inc()
        if health is not None and status < 500 and status not in _TOKEN_REFUSED:
            health.telegram_reached()

    return observe


class ObservedRequest(HTTPXRequest):
    """python-telegram-bot's connection, telling `observe` the status of every answer."""

    def __init__(self, *args: Any, observe: Observer | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.observe = observe

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Make the call; a network failure raises before anything is observed."""
        status, payload = await super().do_request(*args, **kwargs)
        if self.observe is not None:
            self.observe(status)
        return status, payload


class ObservedUpdatesRequest(ObservedRequest, UpdatesRequest):
    """The getUpdates connection (unreadable updates skipped), observed too."""


def metrics_of(context: ContextTypes.DEFAULT_TYPE) -> Metrics:
    """The application's metrics (build_application always puts one there)."""
    metrics: Metrics = context.bot_data[METRICS_KEY]
    return metrics


def counted(kind: str, handler: Handler) -> Handler:
    """`handler`, counted as an update of `kind`, its time until the last reply in the histogram."""

    @functools.wraps(handler)
    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        metrics = metrics_of(context)
        started = time.perf_counter()  # a duration, not a moment: the monotonic clock
        try:
            await handler(update, context)
        finally:
            metrics.updates.labels(kind).inc()
            metrics.reply_latency.observe(time.perf_counter() - started)

    return handle
