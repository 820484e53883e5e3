"""The guide service: one update in, replies out, state and side effects saved in one transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from bot.db.reminder_repo import Procedure
from bot.db.store import StaleRecordError, Store, Transaction, UserRecord, utcnow
from bot.services.companions import CompanionActions, LinkMaker
from bot.services.effects import EffectAppliers, Redeem
from bot.services.pain_chart import PainPoint, pain_chart_png
from bot.services.privacy import DataExport
from bot.services.procedures import Document, EffectResult, ProcedureActions, qr_png
from bot.services.reachability import Return, patient_blocked, patient_returned
from bot.services.staff import STAFF_COMMANDS, StaffDesk
from flows.callbacks import CheckinPress, parse
from flows.checkins import awaited_comment
from flows.content import BASE_LOCALE, placeholders
from flows.engine import Event, FlowEngine, Outcome, asks
from flows.models import ClinicSettings
from flows.outcome import STALE, CheckinContext
from flows.planning import EMPTY_PLAN, ReminderPlan
from flows.render import RenderedMessage, Renderer, clinic_params, fold
from flows.zones import offered_zones

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
    """What to send back: messages in order, files, and an optional short notice (a toast)."""

    messages: tuple[RenderedMessage, ...]
    notice: str | None = None
    warning_sign: str | None = None
    documents: tuple[Document, ...] = ()
    clear_buttons: bool = False
    alerts: tuple[tuple[int, str], ...] = ()  # (staff chat, text): a patient reported a warning sign


@dataclass(frozen=True)
class _Applied:
    record: UserRecord
    outcome: Outcome
    effects: EffectResult
    clinic: ClinicSettings | None = None
    returned: Return | None = None  # the patient had blocked the bot: what came back


INVITE_TEXTS = {
    "used": "invite.used",
    "expired": "invite.expired",
    "unknown": "invite.unknown",
    "throttled": "invite.throttled",
    "companion_used": "companion.used",
    "companion_expired": "companion.expired",
    "companion_room": "companion.room",
    "companion_own": "companion.own",
    "companion_already": "companion.already",
}


class GuideService:
    """Runs the flow engine for one user at a time against the store."""

    def __init__(
        self,
        engine: FlowEngine,
        renderer: Renderer,
        store: Store,
        *,
        clinic: ClinicSettings,
        plan: ReminderPlan = EMPTY_PLAN,
        clock: Callable[[], dt.datetime] = utcnow,
        on_scheduled: Callable[[], None] | None = None,
        redeem: Redeem | None = None,
        staff: StaffDesk | None = None,
        links: LinkMaker | None = None,
    ) -> None:
        self.engine = engine
        self.renderer = renderer
        self.store = store
        self.clock = clock
        # Dates typed are read in the clinic's zone; with none set, the patient says where they are.
        self.zone = ZoneInfo(clinic.timezone or "UTC")
        self.actions = ProcedureActions(renderer, clinic, plan)
        self.companions = CompanionActions(renderer, links)
        self.effects = EffectAppliers(
            self.actions, redeem, DataExport(renderer, engine.content), self.companions
        )
        self.default_clinic = clinic
        self.checkin_keys = plan.checkin_keys
        self.on_scheduled = on_scheduled
        self.staff = staff
        self.locales = set(engine.content.locales)
        # Texts that show a clinic's name, phone or numbers: only these need the patient's clinic.
        clinic_keys = set(clinic_params(clinic))
        self.clinic_texts = {
            text_id
            for locale in engine.content.locales.values()
            for text_id, body in locale.texts.items()
            if clinic_keys & set(placeholders(body))
        }

    def pick_locale(self, language_code: str | None) -> str:
        """The content locale for a Telegram language code (base locale if we lack it)."""
        code = (language_code or "")[:2].lower()
        return code if code in self.locales else BASE_LOCALE

    async def handle(self, incoming: Incoming) -> Handled:
        """Handle one update: load, run the engine, carry out its effects and save in one
        transaction, then render once. If another writer got there first, once more."""
        if incoming.event.kind == "command" and incoming.event.payload in STAFF_COMMANDS and self.staff:
            return await self._staff(incoming)  # the clinic's staff, not a patient's flow
        try:
            return await self._handle_once(incoming)
        except StaleRecordError:
            log.info("user %s changed elsewhere; handling the update again", incoming.user_id)
            return await self._handle_once(incoming)

    async def locale_of(self, user_id: int, language_code: str | None) -> str:
        """The language the patient is answered in: their chosen one, or their Telegram's."""
        record = await self.store.run(lambda tx: tx.load_user(user_id))
        return record.locale if record is not None else self.pick_locale(language_code)

    async def blocked(self, user_id: int, blocked: bool) -> None:
        """The patient blocked the bot (or unblocked it): reminders stop (or those still to come
        come back), and their clinic sees it."""
        now = self.clock()
        if not blocked:
            back = await self.store.run(lambda tx: patient_returned(tx, user_id, now))
            self._returned(user_id, back)
            return
        cancelled = await self.store.run(lambda tx: patient_blocked(tx, user_id, now))
        log.info("user %s blocked the bot: %s pending reminder(s) cancelled", user_id, cancelled)

    def _returned(self, user_id: int, back: Return) -> None:
        log.info(
            "user %s can be reached again: %s reminder(s) back, %s missed%s",
            user_id,
            back.back,
            back.missed,
            ", told how to get them" if back.told else "",
        )
        if (back.back or back.told) and self.on_scheduled:
            self.on_scheduled()

    async def _handle_once(self, incoming: Incoming) -> Handled:
        now = self.clock()
        # The engine reads dates and times in the clinic's zone, the one procedures are booked in;
        # with none set, in the zone the patient names.
        event = replace(
            incoming.event,
            local_now=now.astimezone(self.zone).replace(tzinfo=None),
            now=now,
            zone=self.default_clinic.timezone,
        )
        applied = await self.store.run(lambda tx: self._apply(tx, incoming, event, now))
        record, outcome, effects = applied.record, applied.outcome, applied.effects
        if outcome.warning_sign:
            log.warning("warning sign %s reported by user %s", outcome.warning_sign, record.user_id)
        elif asks(outcome):
            log.info("user %s asked whether a warning sign is there now", record.user_id)
        if effects.scheduled or (effects.invite and effects.invite.result == "linked"):
            log.info("procedure set for user %s; reminders planned", record.user_id)
            if self.on_scheduled:
                self.on_scheduled()
        if applied.returned is not None:
            self._returned(record.user_id, applied.returned)
        if effects.pain:
            effects.documents.append(await self._pain_chart(effects.pain, record.locale))
        return self._render(applied)

    def _apply(self, tx: Transaction, incoming: Incoming, event: Event, now: dt.datetime) -> _Applied:
        """Load, run the engine, carry out its effects, save: all inside the caller's transaction."""
        record = tx.load_user(incoming.user_id) or UserRecord(
            incoming.user_id,
            incoming.chat_id,
            self.pick_locale(incoming.language_code),
            self.engine.new_session(),
            is_new=True,
        )
        locale = record.locale
        # Writing again proves the patient unblocked the bot, even if that update never came.
        returned = None
        if not record.is_new and tx.patient_data.unreachable(record.user_id):
            returned = patient_returned(tx, record.user_id, now)
        # Typed text needs the patient's procedure (has it happened?); read once, used below too.
        procedure = tx.reminders.procedure(record.user_id) if event.kind == "text" else None
        # A companion's typed words are read against the procedure of the patient they accompany.
        accompanied = (
            tx.companions.accompanied(record.user_id) if event.kind == "text" and not procedure else None
        )
        event = self._load(tx, record, event, procedure or accompanied, now)
        outcome = self.engine.handle(record.session, event, record.locale)
        if outcome.changed or record.is_new or record.chat_id != incoming.chat_id:
            record.chat_id = incoming.chat_id
            tx.save_user(record)
        effects = self.effects.apply(tx, record, outcome.effects, now)
        if effects.forgotten:  # deleted in this transaction: nothing of the patient is written again
            return _Applied(record, outcome, effects, returned=returned)
        if record.locale != locale:
            tx.save_user(record)
            log.info("user %s chose language %s", record.user_id, record.locale)
        needs = self._needs_clinic(outcome, effects)
        clinic = tx.reminders.clinic_of(record.user_id) if needs else None
        if needs and clinic is None and accompanied is not None and accompanied.user_id is not None:
            clinic = tx.reminders.clinic_of(accompanied.user_id)  # a companion hears the patient's clinic
        invite = effects.invite
        if invite is not None and invite.companion_side:  # the patient's procedure and clinic, not theirs
            effects.procedure = invite.procedure
            patient = invite.procedure.user_id if invite.procedure else None
            clinic = tx.reminders.clinic_of(patient) if patient is not None else None
        elif effects.scheduled or effects.invite is not None:
            effects.procedure = tx.reminders.procedure(record.user_id)  # just planned or linked
        elif record.session.flow == "procedure":
            effects.procedure = procedure if event.kind == "text" else tx.reminders.procedure(record.user_id)
        return _Applied(record, outcome, effects, clinic, returned)

    def _load(
        self, tx: Transaction, record: UserRecord, event: Event, procedure: Procedure | None, now: dt.datetime
    ) -> Event:
        """What the engine needs to know besides the session: whether the procedure has happened
        (typed text: severe back pain is expected before it), the places to offer, and the
        patient's own check-in a press or an awaited comment is about."""
        if event.kind == "text":
            event = replace(event, after_procedure=procedure is not None and procedure.starts_at <= now)
        if record.session.flow == "procedure" and not event.zone:
            event = replace(event, zones=offered_zones(tx.reminders.clinic_zones(), record.locale))
        press = parse(event.payload) if event.kind == "button" else None
        reminder = press.reminder if isinstance(press, CheckinPress) else None
        if event.kind == "text":
            reminder = awaited_comment(record.session, now)
        if reminder is not None:
            event = replace(event, checkin=self._checkin_context(tx, record.user_id, reminder))
        return event

    def _checkin_context(self, tx: Transaction, user_id: int, reminder_id: int) -> CheckinContext | None:
        """The patient's own sent check-in with that id, the score before, their clinic's rule."""
        target = tx.checkins.target(reminder_id, user_id, self.checkin_keys)
        if target is None:
            return None
        clinic = tx.reminders.clinic_of(user_id) or self.default_clinic
        return CheckinContext(
            target,
            tx.checkins.previous_pain(target),
            clinic.pain_severe_from,
            clinic.pain_rise_alert,
        )

    def _render(self, applied: _Applied) -> Handled:
        """The replies in the patient's language, with their clinic's numbers and times."""
        record, outcome, effects = applied.record, applied.outcome, applied.effects
        extra = clinic_params(applied.clinic) if applied.clinic else {}
        extra |= self.actions.params(effects.procedure, record.locale, applied.clinic)
        messages = [self.renderer.render(reply, record.locale, extra) for reply in outcome.replies]
        if effects.invite is not None and effects.invite.result == "companion":
            messages.append(self.companions.welcome(effects.invite, record.locale, extra))
        elif effects.invite is not None:
            text_id = INVITE_TEXTS.get(effects.invite.result, "invite.welcome")
            # In the greeting, before the menu: the first thing the patient needs to know.
            said = self.renderer.text(text_id, record.locale, extra)
            first = messages[0] if messages else RenderedMessage("")
            messages[:1] = [replace(first, text=f"{first.text}\n\n{said}".strip())]
        messages += [RenderedMessage(text) for text in effects.texts] + effects.messages
        messages = fold(messages)
        notice_id = STALE if effects.stale else outcome.notice
        notice = self.renderer.text(notice_id, record.locale, extra) if notice_id else None
        return Handled(
            tuple(messages),
            notice,
            outcome.warning_sign,
            tuple(effects.documents),
            clear_buttons=outcome.clear_buttons and not effects.stale,
            alerts=tuple(effects.alerts),
        )

    async def _pain_chart(self, points: list[PainPoint], locale: str) -> Document:
        """The patient's pain chart as a picture, drawn in a worker thread: other chats go on meanwhile."""
        title = self.renderer.text("pain.chart_title", locale)
        png = await asyncio.to_thread(pain_chart_png, points, title)
        return Document("pain.png", png, self.renderer.text("pain.chart_caption", locale), photo=True)

    def _needs_clinic(self, outcome: Outcome, effects: EffectResult) -> bool:
        """Whether anything to be shown names the clinic or its numbers (saves a query per update)."""
        if effects.invite is not None:
            return True
        return any(line.text_id in self.clinic_texts for reply in outcome.replies for line in reply.lines)

    async def _staff(self, incoming: Incoming) -> Handled:
        """Staff commands: answered in plain words, with the invite's QR code when there is one."""
        assert self.staff is not None
        reply = await self.staff.handle(
            incoming.user_id, incoming.chat_id, incoming.event.payload, incoming.event.argument
        )
        documents: tuple[Document, ...] = ()
        if reply.invite_link:
            documents = (Document("invite-qr.png", qr_png(reply.invite_link), "Invite QR code"),)
        return Handled((RenderedMessage(reply.text),), documents=documents)
