"""Where log lines go and how they look: text for a person, JSON lines for a log collector; the
log guard (bot/entrypoints/upstream.py) on every handler either way, so no token or message leaks."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from bot.entrypoints.upstream import GUARD, guard_logs

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that log every request (httpx: its URL holds the token), their own start-up steps
# or every state change (transitions).
QUIET = ("httpx", "httpcore", "alembic", "sqlalchemy", "transitions", "uvicorn", "matplotlib", "apscheduler")


class GuardedJsonFormatter(JsonFormatter):
    """One JSON object a line (time, level, logger, message, exc_info); the token cut out of
    everything, tracebacks included (the library formats them again from the exception)."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        """The traceback without the token."""
        return GUARD.redact(logging.Formatter.formatException(self, ei))

    def format(self, record: logging.LogRecord) -> str:
        """The line without the token, whatever field it hid in."""
        return GUARD.redact(super().format(record))


def setup_logging(level: str, fmt: str = "text") -> None:
    """Log to standard error at `level`, as text or (`json`) one JSON object a line, through the guard."""
    handler = logging.StreamHandler()
    handler.setFormatter(GuardedJsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    guard_logs(None)
    # httpx logs every request URL, and the URL holds the bot token; python-telegram-bot logs
    # whole requests and answers (names, message texts) at DEBUG. Neither may reach the logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLogger().level))


def quiet_libraries() -> None:
    """Keep the libraries' information lines (alembic's migration steps...) off a terminal chat's
    screen; their warnings still show."""
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).level))


__all__ = ["GuardedJsonFormatter", "quiet_libraries", "setup_logging"]
