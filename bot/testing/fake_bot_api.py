"""A local fake of the Telegram Bot API for end-to-end tests and benchmarks.

It answers like the real Bot API (same URLs, envelopes, error codes and texts)
so an unmodified python-telegram-bot ``Application`` can run against it, while
tests play the user's side with synchronous helpers. It binds to 127.0.0.1
only and never talks to Telegram.

Known simplifications: only private chats; Markdown parse modes are not parsed
(HTML is); entities Telegram would auto-detect in bot texts (URLs, mentions)
are not added; photo thumbnails get Telegram's sizes but share the original's bytes.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import math
import random
import re
import time
from collections import deque
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from bot.testing._bot_api_rules import ApiError
from bot.testing._fake_bot_methods import BotApiMethods
from bot.testing._fake_bot_types import JSON, StoredFile, maybe_int
from bot.testing._fake_http import int_param, read_params, reply, update_type
from bot.testing._fake_users import FakeUsers

__all__ = ["ApiError", "FakeBotAPI", "StoredFile"]

_TOKEN_RE = re.compile(r"\d+:[\w-]+")


class FakeBotAPI(FakeUsers, BotApiMethods):
    """Fake Telegram Bot API server; use as ``async with FakeBotAPI() as server``."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",  # noqa: S107 - a fake token for a fake server
        *,
        bot_username: str = "fake_test_bot",
        bot_first_name: str = "Fake Bot",
        port: int = 0,
        global_rate: float | None = None,
        per_chat_rate: float | None = None,
        error_rate: float = 0.0,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        bot_id, sep, _ = token.partition(":")
        if not sep or not bot_id.isdigit():
            raise ValueError("token must look like '<digits>:<secret>'")
        super().__init__(
            {
                "id": int(bot_id),
                "is_bot": True,
                "first_name": bot_first_name,
                "username": bot_username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )
        self.token = token
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self.error_rate = error_rate
        self.calls: list[tuple[str, JSON]] = []
        self.too_many_requests = 0
        # Seeded so a benchmark's fault pattern is reproducible; not used for secrets.
        self._rng = random.Random(seed)  # noqa: S311
        self._clock = clock
        self._requested_port = port
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        self._next_update_id = 1
        self._allowed_updates: set[str] | None = None
        self._poll_generation = 0
        self._faults: dict[str, deque[ApiError]] = {}
        self._global_hits: deque[float] = deque()
        self._chat_hits: dict[int, deque[float]] = {}
        # An Event swapped on every change, because the user-side helpers are
        # synchronous and cannot take an asyncio.Condition's lock to notify.
        self._changed = asyncio.Event()
        self._methods = {**self.api_methods(), "getupdates": self.getUpdates}

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start listening on 127.0.0.1."""
        self._closing = False
        app = web.Application(client_max_size=50 * 1024 * 1024)  # bots may upload up to 50 MB
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._requested_port)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Release long pollers and stop the server."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port actually bound."""
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def base_url(self) -> str:
        """Value for PTB's ``base_url``: PTB appends ``<token>/<method>``."""
        return f"http://127.0.0.1:{self.port}/bot"

    # ------------------------------------------------------------------ fault knobs

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with this error, without performing them."""
        if status == 429 and retry_after is None:
            retry_after = 1  # Telegram always tells how long to wait
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else HTTPStatus(status).phrase
            )
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend(ApiError(status, description, retry_after) for _ in range(count))

    # ------------------------------------------------------------------ HTTP layer

    async def _not_found(self, request: web.Request) -> web.Response:
        """Telegram answers every unknown path with a JSON 404."""
        return reply(ApiError(404, "Not Found").body(), 404)

    async def _handle(self, request: web.Request) -> web.Response:
        """Dispatch one Bot API call and answer with Telegram's envelope."""
        token = request.match_info["token"]
        if token != self.token:
            # Telegram: 404 for a malformed token, 401 for a well-formed but unknown one.
            status, text = (401, "Unauthorized") if _TOKEN_RE.fullmatch(token) else (404, "Not Found")
            return reply(ApiError(status, text).body(), status)
        handler = self._methods.get(request.match_info["method"].lower())
        if handler is None:
            return reply(ApiError(404, "Not Found").body(), 404)
        name = handler.__name__
        try:
            params = await read_params(request)
            self.calls.append((name, params))
            result = self._call_limited(name, handler, params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            if error.status == 429:
                self.too_many_requests += 1
            return reply(error.body(), error.status)
        finally:
            self._notify()
        return reply({"ok": True, "result": result}, 200)

    def _call_limited(self, name: str, handler: Callable[[JSON], Any], params: JSON) -> Any:
        """Apply injected faults and flood limits around one method call."""
        faults = self._faults.get(name.lower())
        if faults:
            raise faults.popleft()
        if not name.startswith(("send", "edit")):
            return handler(params)
        if self.error_rate and self._rng.random() < self.error_rate:
            raise ApiError(502, "Bad Gateway")
        if name == "sendChatAction":  # not a message: Telegram's message limits do not count it
            return handler(params)
        chat_id = maybe_int(params.get("chat_id"))
        windows: list[tuple[deque[float], float]] = []
        if self.global_rate is not None:
            windows.append((self._global_hits, self.global_rate))
        if self.per_chat_rate is not None and chat_id is not None:
            windows.append((self._chat_hits.setdefault(chat_id, deque()), self.per_chat_rate))
        now = self._clock()
        for hits, rate in windows:
            self._check_window(hits, rate, now)
        result = handler(params)
        for hits, _ in windows:  # only performed calls use up the allowance
            hits.append(now)
        return result

    @staticmethod
    def _check_window(hits: deque[float], rate: float, now: float) -> None:
        """Raise 429 if ``rate`` calls/second would be exceeded within the sliding window."""
        span = max(1.0, 1.0 / rate)  # rates below 1/s become one call per 1/rate seconds
        allowed = max(1, int(rate * span + 1e-9))
        while hits and hits[0] <= now - span:
            hits.popleft()
        if len(hits) >= allowed:
            wait = max(1, math.ceil(hits[-allowed] + span - now))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)

    def _notify(self) -> None:
        """Wake every waiter (long pollers and wait_for)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_change(self, seconds: float) -> None:
        """Sleep until the next change, for at most ``seconds``."""
        try:
            async with asyncio.timeout(seconds):
                await self._changed.wait()
        except TimeoutError:
            pass

    async def getUpdates(self, p: JSON) -> list[JSON]:  # noqa: N802
        """Long-poll for updates; offset confirms everything before it."""
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int_param(p, "offset", 0)
        limit = min(max(int_param(p, "limit", 100), 1), 100)
        timeout = max(int_param(p, "timeout", 0), 0)
        if isinstance(p.get("allowed_updates"), list):
            self._allowed_updates = set(p["allowed_updates"]) or None
        # A newer getUpdates terminates the older one, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if self._allowed_updates is not None:  # filtered updates are never delivered
                self._updates = [u for u in self._updates if update_type(u) in self._allowed_updates]
            remaining = deadline - loop.time()
            if self._updates or self._closing or remaining <= 0:
                return copy.deepcopy(self._updates[:limit])
            await self._wait_change(remaining)

    # ------------------------------------------------------------------ inspection

    def messages(self, chat_id: int) -> list[JSON]:
        """All messages of a chat (user's and bot's) with their current content, oldest first."""
        chat = self._chats.get(chat_id)
        return copy.deepcopy(list(chat.messages.values())) if chat else []

    def bot_messages(self, chat_id: int) -> list[JSON]:
        """The bot's messages in a chat, oldest first."""
        return copy.deepcopy(self._bot_messages(chat_id))

    def _bot_messages(self, chat_id: int) -> list[JSON]:
        """The bot's stored messages in a chat, uncopied so that polling them stays cheap."""
        chat = self._chats.get(chat_id)
        bot_id = self.bot_user["id"]
        return [m for m in chat.messages.values() if m["from"]["id"] == bot_id] if chat else []

    def last_bot_message(self, chat_id: int) -> JSON | None:
        """The bot's newest message in a chat, or None."""
        sent = self.bot_messages(chat_id)
        return sent[-1] if sent else None

    def take_updates(self) -> list[JSON]:
        """Remove and return the queued updates, as Telegram does when it delivers them to a
        webhook (the caller posts them to the bot's webhook)."""
        taken, self._updates = self._updates, []
        return taken

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates' offset."""
        return copy.deepcopy(self._updates)

    # ``timeout`` is these helpers' documented interface, hence the ASYNC109 waivers.
    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        what: str | None = None,
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking after every API call or user action."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(name for name, _ in self.calls[-8:]) or "none"
                label = what or getattr(predicate, "__qualname__", "condition")
                raise TimeoutError(
                    f"{label} not met within {timeout}s; "
                    f"{len(self.calls)} API calls handled, latest: {recent}"
                )
            await self._wait_change(remaining)

    async def wait_for_bot_messages(
        self,
        chat_id: int,
        n: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[JSON]:
        """Wait until the bot has at least ``n`` messages in the chat and return them."""
        await self.wait_for(
            lambda: len(self._bot_messages(chat_id)) >= n,
            timeout,
            what=f"{n} bot message(s) in chat {chat_id}",
        )
        return self.bot_messages(chat_id)


# ---------------------------------------------------------------------- module helpers
