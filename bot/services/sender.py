"""Sending one reminder: the Sender the dispatcher uses, and the kinds of failure it handles.

The Telegram implementation lives with the entry points (bot/entrypoints/telegram_sender.py)."""

from __future__ import annotations

from typing import Protocol

from flows.render import RenderedMessage


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
