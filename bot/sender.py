"""Sending one reminder through Telegram, with Telegram's failures sorted into what to do next."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram import keyboard
from flows.render import RenderedMessage

# Bad Request answers that mean the chat itself is gone, not that this message was wrong.
GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")


class RetryLaterError(Exception):
    """Telegram asked us to slow down: try again after `seconds` (a 429)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds


class UnreachableError(Exception):
    """The patient cannot be reached: they blocked the bot, or the chat is gone (403, 400)."""


class RejectedError(Exception):
    """Telegram refused this one message (a 400 other than a missing chat): do not retry it."""


class TransientError(Exception):
    """The network or Telegram failed for now (5xx, time-outs): try again with back-off."""


class Sender(Protocol):
    """Sends one message to a chat and returns Telegram's message id."""

    async def send(self, chat_id: int, message: RenderedMessage) -> int:
        """Send, or raise RetryLaterError, UnreachableError or TransientError."""
        ...


class TelegramSender:
    """The Sender on a python-telegram-bot Bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, message: RenderedMessage) -> int:
        """Send one message; Telegram's errors become the three kinds the dispatcher handles."""
        try:
            sent = await self.bot.send_message(chat_id, message.text, reply_markup=keyboard(message))
        except RetryAfter as exc:
            wait = exc.retry_after
            raise RetryLaterError(
                wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
            ) from exc
        except Forbidden as exc:
            raise UnreachableError(exc.message) from exc
        except BadRequest as exc:
            if any(gone in exc.message.lower() for gone in GONE):
                raise UnreachableError(exc.message) from exc
            raise RejectedError(exc.message) from exc
        except (TimedOut, NetworkError) as exc:
            raise TransientError(type(exc).__name__) from exc
        return sent.message_id
