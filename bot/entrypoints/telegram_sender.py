"""The Sender on a python-telegram-bot Bot: Telegram's failures sorted into what to do next."""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot

from bot.entrypoints.telegram import keyboard
from bot.entrypoints.telegram_limits import BUDGETED
from bot.services.sender import RejectedError, RetryLaterError, TransientError, UnreachableError
from flows.render import RenderedMessage

# Bad Request answers that mean the chat itself is gone, not that this message was wrong.
GONE = ("chat not found", "user is deactivated", "bot was blocked", "peer_id_invalid")


class TelegramSender:
    """The Sender on a python-telegram-bot Bot."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        # The dispatcher took its turn of the send budget already: the bot's limiter lets it pass.
        limited = isinstance(bot, ExtBot) and bot.rate_limiter is not None
        self._extra: dict[str, Any] = {"rate_limit_args": BUDGETED} if limited else {}

    async def send(self, chat_id: int, message: RenderedMessage) -> int:
        """Send one message; Telegram's errors become the three kinds the dispatcher handles."""
        try:
            sent = await self.bot.send_message(
                chat_id, message.text, reply_markup=keyboard(message), **self._extra
            )
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
