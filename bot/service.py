"""The guide service: one update in, replies out, state saved in one transaction."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.store import StaleRecordError, Store, Transaction, UserRecord
from flows.content import BASE_LOCALE
from flows.engine import Event, FlowEngine, Outcome
from flows.render import RenderedMessage, Renderer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """An update reduced to what the service needs: ids, language and the event."""

    user_id: int
    chat_id: int
    language_code: str | None
    event: Event


@dataclass(frozen=True)
class Handled:
    """What to send back: messages in order and an optional short notice (a toast)."""

    messages: tuple[RenderedMessage, ...]
    notice: str | None = None
    warning_sign: str | None = None


class GuideService:
    """Runs the flow engine for one user at a time against the store."""

    def __init__(self, engine: FlowEngine, renderer: Renderer, store: Store) -> None:
        self.engine = engine
        self.renderer = renderer
        self.store = store
        self.locales = set(engine.content.locales)

    def pick_locale(self, language_code: str | None) -> str:
        """The content locale for a Telegram language code (base locale if we lack it)."""
        code = (language_code or "")[:2].lower()
        return code if code in self.locales else BASE_LOCALE

    async def handle(self, incoming: Incoming) -> Handled:
        """Handle one event for one user, starting again once if another writer got there first."""
        try:
            return await self._handle_once(incoming)
        except StaleRecordError:
            log.info("user %s changed elsewhere; handling the update again", incoming.user_id)
            return await self._handle_once(incoming)

    async def _handle_once(self, incoming: Incoming) -> Handled:
        record, outcome = await self.store.run(lambda tx: self._apply(tx, incoming))
        if outcome.warning_sign:
            log.warning("warning sign %s reported by user %s", outcome.warning_sign, record.user_id)
        messages = tuple(self.renderer.render(reply, record.locale) for reply in outcome.replies)
        notice = self.renderer.text(outcome.notice, record.locale) if outcome.notice else None
        return Handled(messages, notice, outcome.warning_sign)

    def _apply(self, tx: Transaction, incoming: Incoming) -> tuple[UserRecord, Outcome]:
        """Load, run the engine, save: all inside the caller's transaction."""
        record = tx.load_user(incoming.user_id) or UserRecord(
            incoming.user_id,
            incoming.chat_id,
            self.pick_locale(incoming.language_code),
            self.engine.new_session(),
            is_new=True,
        )
        outcome = self.engine.handle(record.session, incoming.event, record.locale)
        if outcome.changed or record.is_new or record.chat_id != incoming.chat_id:
            record.chat_id = incoming.chat_id
            tx.save_user(record)
        if outcome.warning_sign:
            tx.record_warning_sign(record.user_id, outcome.warning_sign, record.session)
        return record, outcome
