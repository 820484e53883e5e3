"""The flood gate: the first handler every update meets. A patient sending faster than a person
can read is told once to slow down; the rest of the burst stops here, before the database and
before the other patients' updates, unless it names a warning sign."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.services.flood import FloodGuard, worrying
from bot.services.service import GuideService

log = logging.getLogger(__name__)

SLOW_DOWN = "bot.slow_down"
GATE_GROUP = -1  # before the guide's handlers (group 0)


class FloodGate:
    """The gate's handler, holding the counts and the guide it lets updates through to."""

    def __init__(self, guard: FloodGuard, service: GuideService) -> None:
        self.guard = guard
        self.service = service

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Let the update through, or tell the patient once to slow down and drop it."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or chat.type != ChatType.PRIVATE:
            return
        message = update.message
        if message is None:
            # Presses are not counted: ticking a checklist is quick, and each press is answered
            # (edits and blocks are not messages the patient sends either).
            return
        text = message.text or message.caption or ""
        sent_at = int(message.date.timestamp())  # when the patient sent it, not when it is handled
        if not self.guard.flooding(user.id, sent_at):
            return
        if await self._worrying(text, user.id, user.language_code):
            return
        if self.guard.first_dropped(user.id):
            log.info("user %s sends faster than a person can read; the rest of the burst is dropped", user.id)
            locale = self.guard.locale(user.id) or self.service.pick_locale(user.language_code)
            try:
                await context.bot.send_message(chat.id, self.service.renderer.text(SLOW_DOWN, locale))
            except TelegramError as exc:  # a courtesy: its failure must not be loud
                log.info("slow-down notice to user %s not sent: %s", user.id, type(exc).__name__)
        raise ApplicationHandlerStop

    async def _worrying(self, text: str, user_id: int, language_code: str | None) -> bool:
        """Whether a message reports or may report a warning sign: it goes through at any pace."""
        if not text or self.guard.known_calm(user_id, text):
            return False
        locale = self.guard.locale(user_id)
        if locale is None:  # read in the language the guide answers in, looked up once a burst
            locale = await self.service.locale_of(user_id, language_code)
            self.guard.note_locale(user_id, locale)
        if worrying(self.service.engine.matcher(locale), text):
            return True
        self.guard.note_calm(user_id, text)
        return False


def add_flood_gate(app: Application, guard: FloodGuard, service: GuideService) -> None:  # type: ignore[type-arg]
    """Put the gate in front of every other handler."""
    app.add_handler(TypeHandler(Update, FloodGate(guard, service)), group=GATE_GROUP)
