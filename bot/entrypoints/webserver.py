"""The HTTP server (clinic API, health, Telegram webhook) on the bot's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import logging
import os
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from telegram.ext import Application

from bot.db.store import Store
from bot.db.update_repo import UpdateTakenError
from bot.entrypoints.config import StartupError
from bot.entrypoints.telegram import SERVICE_KEY
from bot.entrypoints.upstream import read_update

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside our loop: the bot owns the signals and tells the server when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def claim(store: Store, update_id: int) -> bool:
    """Whether this instance takes the update: False if this or another instance took it before.
    Taken before it is handled: an instance that dies in between loses that one update rather than
    letting a redelivery answer it twice."""
    try:
        await store.run(lambda tx: tx.updates.claim(update_id, tx.clock()))
    except UpdateTakenError:
        return False
    return True


def add_webhook(api: FastAPI, app: Application, secret: str) -> None:  # type: ignore[type-arg]
    """Receive Telegram's updates at WEBHOOK_PATH, only with Telegram's secret token header.
    Each update is handled once: a redelivery (to any instance on the same database) is skipped."""
    store: Store = app.bot_data[SERVICE_KEY].store

    @api.post(WEBHOOK_PATH, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call without the right secret token refused")
            raise HTTPException(status_code=403, detail="wrong secret token")
        try:
            data = await request.json()
        except ValueError:
            raise HTTPException(status_code=400, detail="not JSON") from None
        update = read_update(data, app.bot)
        if update is None:  # logged by its id only; a 200, or Telegram would send it forever
            return Response(status_code=200)
        if not await claim(store, update.update_id):
            log.info("update %s was delivered again; skipped", update.update_id)
            return Response(status_code=200)
        await app.update_queue.put(update)
        return Response(status_code=200)


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, taken at start-up: a port in use is said before anything else starts."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as error:
        reason = (os.strerror(error.errno) if error.errno else str(error)).lower()
        hint = (
            "another program (or another vertebrobot) is using it: stop that, or set "
            "VERTEBROBOT_HTTP_PORT to a free port"
            if error.errno == errno.EADDRINUSE
            else "set VERTEBROBOT_HTTP_HOST and VERTEBROBOT_HTTP_PORT to an address of this machine"
        )
        raise StartupError(f"cannot listen on {host}:{port} for the clinic API ({reason}): {hint}") from None


async def serve(api: FastAPI, sock: socket.socket, stop: asyncio.Event) -> None:
    """Serve on `sock` (from `listen`) until `stop` is set."""
    host, port = sock.getsockname()[:2]
    # log_config=None: uvicorn's lines go to our handlers and through their guard (no token, no data).
    config = uvicorn.Config(api, host=host, port=port, log_level="warning", lifespan="off", log_config=None)
    server = EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await stop.wait()
    server.should_exit = True
    await task
