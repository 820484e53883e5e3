"""The HTTP server's own log lines (uvicorn's) go through the bot's log guard: a crash in a route
is logged with its traceback, without the bot token."""

from __future__ import annotations

import asyncio
import io
import logging

import httpx
from fastapi import FastAPI

from bot.entrypoints.upstream import LogGuard
from bot.entrypoints.webserver import listen, serve

TOKEN = "123456:SECRET-part-of-the-token"  # a fake token


async def test_a_crash_in_a_route_is_logged_through_the_guard_without_the_token() -> None:
    api = FastAPI()

    @api.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"calling https://api.telegram.org/bot{TOKEN}/getMe failed")

    written = io.StringIO()
    handler = logging.StreamHandler(written)
    guard = LogGuard()
    guard.tokens.add(TOKEN)
    handler.addFilter(guard)
    root = logging.getLogger()
    root.addHandler(handler)
    sock, stop = listen("127.0.0.1", 0), asyncio.Event()
    port = sock.getsockname()[1]
    task = asyncio.create_task(serve(api, sock, stop))
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):  # bounded: the local server coming up, at most ~10 s
                try:
                    answer = await client.get(f"http://127.0.0.1:{port}/boom")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("the HTTP server did not come up")
        assert answer.status_code == 500
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        root.removeHandler(handler)
    log = written.getvalue()
    assert "RuntimeError" in log, "uvicorn's line about the crash reached the bot's handler"
    assert "SECRET" not in log
    assert "bot<token>/getMe" in log
