"""`/readyz` (ready to serve, with the reasons) and `/metrics` (Prometheus), beside `/healthz`."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from bot.services.health import Health
from bot.services.metrics import Metrics


def add_health(api: FastAPI, health: Health, metrics: Metrics) -> None:
    """Serve readiness and metrics (no token needed: ids and counts only; keep the port private)."""

    @api.get("/readyz", tags=["health"], responses={503: {"description": "Not ready; `reasons` say why."}})
    async def readyz() -> JSONResponse:
        """200 when the database answers, Telegram was reached within the last minute and the reminder
        dispatcher runs; else 503. The body gives each check and the pending and overdue reminders."""
        ready, body = await health.check()
        return JSONResponse(body, status_code=200 if ready else 503)

    @api.get("/metrics", tags=["health"], response_class=Response)
    async def prometheus_metrics() -> Response:
        """Updates handled, reply latency, messages sent by kind, 429s, reminders by status and
        overdue, warning signs reported; in Prometheus's text format."""
        # The database down: /readyz says so; the other metrics still serve.
        with contextlib.suppress(Exception):
            metrics.set_reminders(await health.reminder_counts())
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
