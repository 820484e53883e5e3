"""Bad data from upstream: updates python-telegram-bot cannot read, and library log lines that
would carry message payloads or the bot token."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)

# Loggers of the libraries that log requests, answers and updates whole.
LIBRARY_LOGGERS = frozenset({"telegram", "httpx", "httpcore", "uvicorn"})
WITHHELD = "<withheld>"
# A library argument kept as it is: a word, a method name or a URL, never a sentence.
_PLAIN = re.compile(r"[\w./:<>@%?=&+-]{0,120}")
# The token as it appears in Bot API URLs (.../bot<id>:<secret>/sendMessage).
_TOKEN_IN_URL = re.compile(r"bot\d+:[\w-]+")


def readable(data: object) -> dict[str, Any] | None:
    """The update as given if the library can read it; else an empty update with its id, or None.

    Telegram has sent updates the library fails on (a message without `date`). An empty update
    keeps its place in the batch, so polling confirms it and moves on; no handler matches it.
    """
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(update_id, int) or isinstance(update_id, bool):
        log.warning("an update without an id was skipped")
        return None
    try:
        Update.de_json(data, None)
    except Exception as exc:
        log.warning("update %s could not be read (%s); skipped", update_id, type(exc).__name__)
        return {"update_id": update_id}
    return data


def read_update(data: object, bot: Bot) -> Update | None:
    """An update from the webhook, or None when it cannot be read (logged by its id only)."""
    checked = readable(data)
    return Update.de_json(checked, bot) if checked is not None and checked is data else None


class UpdatesRequest(HTTPXRequest):
    """The getUpdates connection: an unreadable update never stops the batch or the others."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """Parse the answer; replace each update the library cannot read by an empty one."""
        try:
            answer = json.loads(payload.decode("utf-8", "replace"))
        except ValueError as exc:  # the library would log the whole answer, updates and all
            log.error("getUpdates answered %s bytes that are not JSON", len(payload))
            raise TelegramError("Invalid server response") from exc
        if isinstance(answer, dict) and isinstance(answer.get("result"), list):
            answer["result"] = [u for u in map(readable, answer["result"]) if u is not None]
        return answer  # type: ignore[no-any-return]


def _plain(value: object) -> object:
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, Update):
        return value.update_id
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        return value
    return WITHHELD


class LogGuard(logging.Filter):
    """Keeps message data and the token out of the logs, whoever logs them.

    Arguments of the libraries' log lines (updates, request parameters, answers) are withheld
    unless plain (numbers, words, URLs); an update shows as its id. The token is cut out of
    every line and traceback.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def redact(self, text: str) -> str:
        """The text without the bot token."""
        for token in self.tokens:
            text = text.replace(token, "<token>")
        return _TOKEN_IN_URL.sub("bot<token>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and record.name.partition(".")[0] in LIBRARY_LOGGERS:
            args = record.args
            if isinstance(args, Mapping) and "%(" in str(record.msg):
                record.args = {key: _plain(value) for key, value in args.items()}
            else:
                given = (args,) if isinstance(args, Mapping) else args
                record.args = tuple(_plain(value) for value in given)
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:  # also when a handler without the guard formatted it first
            record.exc_text = self.redact(record.exc_text)
        return True


GUARD = LogGuard()


def guard_logs(token: str | None, handlers: Iterable[logging.Handler] | None = None) -> None:
    """Put the guard on these handlers (the root logger's by default), hiding this token too."""
    if token:
        GUARD.tokens.add(token)
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        if GUARD not in handler.filters:
            handler.addFilter(GUARD)
