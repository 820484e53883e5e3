"""The guide service: one update in, replies out, state and side effects saved in one transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from bot.checkins import PENDING, CheckinAnswer, CheckinDesk, pending_comment
from bot.clinics import Redemption
from bot.pain_chart import PainPoint, pain_chart_png
from bot.procedures import Document, EffectResult, ProcedureActions, qr_png
from bot.staff import STAFF_COMMANDS, StaffDesk, staff_chats
from bot.store import StaleRecordError, Store, Transaction, UserRecord, utcnow
from flows.callbacks import AckPress, CheckinPress, LanguagePress, language_data, parse
from flows.content import BASE_LOCALE, placeholders
from flows.engine import ASK_ANY, ASK_ONE, Event, FlowEngine, Outcome
from flows.models import ClinicSettings
from flows.planning import EMPTY_PLAN, ReminderPlan
from flows.render import RenderedButton, RenderedMessage, Renderer, clinic_params
from flows.replies import Line, Reply
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
    invite: Redemption | None = None
    clinic: ClinicSettings | None = None
    alerts: tuple[tuple[int, str], ...] = ()


Redeem = Callable[[Transaction, int, str, dt.datetime], Redemption]
INVITE_TEXTS = {
    "used": "invite.used",
    "expired": "invite.expired",
    "unknown": "invite.unknown",
    "throttled": "invite.throttled",
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
    ) -> None:
        self.engine = engine
        self.renderer = renderer
        self.store = store
        self.clock = clock
        # Dates typed are read in the clinic's zone; with none set, the patient says where they are.
        self.zone = ZoneInfo(clinic.timezone or "UTC")
        self.actions = ProcedureActions(renderer, clinic, plan)
        self.default_clinic = clinic
        self.checkins = CheckinDesk(renderer, plan.checkin_keys, plan.pain_sign, engine.matchers)
        self.on_scheduled = on_scheduled
        self.redeem = redeem
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
        """Handle one event for one user, starting again once if another writer got there first."""
        press = parse(incoming.event.payload) if incoming.event.kind == "button" else None
        if isinstance(press, AckPress):
            return await self._acknowledge(incoming, press)
        if isinstance(press, CheckinPress):
            try:
                return await self._checkin(incoming, press)
            except StaleRecordError:
                return await self._checkin(incoming, press)
        if incoming.event.kind == "command" and incoming.event.payload in STAFF_COMMANDS and self.staff:
            return await self._staff(incoming)
        if incoming.event.kind == "command" and incoming.event.payload == "language":
            return self._language_menu(incoming)
        if isinstance(press, LanguagePress):
            return await self._switch_language(incoming, press)
        try:
            return await self._handle_once(incoming)
        except StaleRecordError:
            log.info("user %s changed elsewhere; handling the update again", incoming.user_id)
            return await self._handle_once(incoming)

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
        elif _asks(outcome):
            log.info("user %s asked whether a warning sign is there now", record.user_id)
        if effects.scheduled or (applied.invite and applied.invite.result == "linked"):
            log.info("procedure set for user %s; reminders planned", record.user_id)
            if self.on_scheduled:
                self.on_scheduled()
        # A patient whose clinic registered them hears that clinic's numbers.
        extra = clinic_params(applied.clinic) if applied.clinic else {}
        extra |= self.actions.params(effects.procedure, record.locale, applied.clinic)
        messages = [self.renderer.render(reply, record.locale, extra) for reply in outcome.replies]
        if applied.invite is not None:
            text_id = INVITE_TEXTS.get(applied.invite.result, "invite.welcome")
            # In the greeting, before the menu: the first thing the patient needs to know, and
            # one message fewer.
            said = self.renderer.text(text_id, record.locale, extra)
            first = messages[0] if messages else RenderedMessage("")
            messages[:1] = [replace(first, text=f"{first.text}\n\n{said}".strip())]
        messages += [RenderedMessage(text) for text in effects.texts]
        if effects.pain:
            effects.documents.append(await self._pain_chart(effects.pain, record.locale))
        notice = self.renderer.text(outcome.notice, record.locale) if outcome.notice else None
        return Handled(
            tuple(messages), notice, outcome.warning_sign, tuple(effects.documents), alerts=applied.alerts
        )

    def _apply(self, tx: Transaction, incoming: Incoming, event: Event, now: dt.datetime) -> _Applied:
        """Load, run the engine, carry out its effects, save: all inside the caller's transaction."""
        record = tx.load_user(incoming.user_id) or UserRecord(
            incoming.user_id,
            incoming.chat_id,
            self.pick_locale(incoming.language_code),
            self.engine.new_session(),
            is_new=True,
        )
        # A check-in waiting for a comment: the next message is it (warning signs still come first).
        # Anything else the patient does first ends the wait.
        waited = PENDING in record.session.answers
        comment_to = pending_comment(record, now) if waited else None
        if event.kind == "text":  # only typed text reads it: severe back pain is expected before
            procedure = tx.reminders.procedure(record.user_id)
            event = replace(event, after_procedure=procedure is not None and procedure.starts_at <= now)
        if record.session.flow == "procedure" and not event.zone:  # the places the patient may tap
            event = replace(event, zones=offered_zones(tx.reminders.clinic_zones(), record.locale))
        outcome = self.engine.handle(record.session, event, record.locale)
        if (
            comment_to is not None
            and event.kind == "text"
            and self.checkins.store_comment(tx, record, comment_to, event.payload, now)
        ):
            log.info("check-in %s comment stored for user %s", comment_to, record.user_id)
            outcome = self._comment_outcome(record, outcome, event)
        if outcome.changed or record.is_new or record.chat_id != incoming.chat_id or waited:
            record.chat_id = incoming.chat_id
            tx.save_user(record)
        alerts: tuple[tuple[int, str], ...] = ()
        if outcome.warning_sign:
            procedure = tx.reminders.procedure(record.user_id)
            tx.record_warning_sign(
                record.user_id, outcome.warning_sign, record.session, procedure.id if procedure else None
            )
            alerts = self._alerts(tx, record.user_id, outcome.warning_sign, now)
        invite = None
        if event.kind == "command" and event.payload == "start" and event.argument and self.redeem:
            invite = self.redeem(tx, record.user_id, event.argument.split()[0][:64], now)
            log.info("invite opened by user %s: %s", record.user_id, invite.result)
        effects = self.actions.apply(tx, record.user_id, outcome.effects, record.locale, now)
        clinic = tx.reminders.clinic_of(record.user_id) if self._needs_clinic(outcome, invite) else None
        if effects.scheduled or invite is not None or record.session.flow == "procedure":
            effects.procedure = tx.reminders.procedure(record.user_id)
        settings = ClinicSettings.model_validate(clinic) if clinic is not None else None
        return _Applied(record, outcome, effects, invite, settings, alerts)

    def _comment_outcome(self, record: UserRecord, outcome: Outcome, event: Event) -> Outcome:
        """Thanks for the comment and the patient's step again, unless the words needed more."""
        if outcome.warning_sign or _asks(outcome):
            return outcome  # the urgent guidance or the one-tap question comes first
        return Outcome(
            (
                Reply((Line("checkin.comment_saved"),)),
                self.engine.view(record.session, event),
            ),
            changed=False,
        )

    async def _checkin(self, incoming: Incoming, press: CheckinPress) -> Handled:
        """A check-in button: pain score, the warning-sign screen, or skipping the comment."""
        locale = self.pick_locale(incoming.language_code)
        reminder_id, step = press.reminder, press.step
        now = self.clock()

        def work(tx: Transaction) -> tuple[CheckinAnswer, tuple[tuple[int, str], ...]]:
            record = tx.load_user(incoming.user_id)
            if record is None:
                return CheckinAnswer(stale=True), ()
            settings = tx.reminders.clinic_of(record.user_id)
            clinic = ClinicSettings.model_validate(settings) if settings else self.default_clinic
            extra = clinic_params(clinic) if settings else {}
            answer = self.checkins.press(tx, record, reminder_id, step, clinic=clinic, extra=extra, now=now)
            if answer.session_changed:
                tx.save_user(record)
            alerts: tuple[tuple[int, str], ...] = ()
            for sign in answer.signs:
                tx.record_warning_sign(record.user_id, sign, record.session, answer.procedure_id)
                alerts += self._alerts(
                    tx, record.user_id, sign, now, note=answer.alert_note, procedure_id=answer.procedure_id
                )
            return answer, alerts

        answer, alerts = await self.store.run(work)
        if answer.stale:
            return Handled((), self.renderer.text("bot.stale_button", locale))
        log.info("check-in %s answered by user %s", reminder_id, incoming.user_id)
        for sign in answer.signs:
            log.warning("warning sign %s reported by user %s at a check-in", sign, incoming.user_id)
        return Handled(
            tuple(answer.messages),
            answer.notice,
            answer.signs[0] if answer.signs else None,
            clear_buttons=answer.clear_buttons,
            alerts=alerts,
        )

    async def _pain_chart(self, points: list[PainPoint], locale: str) -> Document:
        """The patient's pain chart as a picture, drawn in a worker thread: other chats go on meanwhile."""
        title = self.renderer.text("pain.chart_title", locale)
        png = await asyncio.to_thread(pain_chart_png, points, title)
        return Document("pain.png", png, self.renderer.text("pain.chart_caption", locale), photo=True)

    def _needs_clinic(self, outcome: Outcome, invite: Redemption | None) -> bool:
        """Whether anything to be shown names the clinic or its numbers (saves a query per update)."""
        if invite is not None:
            return True
        return any(line.text_id in self.clinic_texts for reply in outcome.replies for line in reply.lines)

    def _alerts(
        self,
        tx: Transaction,
        user_id: int,
        sign: str,
        now: dt.datetime,
        *,
        note: str = "",
        procedure_id: int | None = None,
    ) -> tuple[tuple[int, str], ...]:
        """Tell the staff of the patient's clinic at once: the sign and the procedure, never names."""
        if procedure_id is not None:
            procedure = tx.reminders.procedure_by_id(procedure_id)
        else:
            procedure = tx.reminders.procedure(user_id)
        if procedure is None or procedure.clinic_id is None:
            return ()
        reference = f" (ref {procedure.reference})" if procedure.reference else ""
        local = now.astimezone(ZoneInfo(procedure.timezone))
        text = (
            f"\u26a0\ufe0f Warning sign reported: {sign}{note}. Procedure #{procedure.id}{reference}, "
            f"reported {local:%Y-%m-%d %H:%M}. The patient was given the urgent advice; please contact them."
        )
        return tuple((chat, text) for chat in staff_chats(tx, procedure.clinic_id))

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

    def _language_menu(self, incoming: Incoming) -> Handled:
        """The languages to choose from, each named in its own language."""
        locale = self.pick_locale(incoming.language_code)
        buttons = tuple(
            RenderedButton(self.renderer.text("lang.name", code), language_data(code))
            for code in sorted(self.locales)
        )
        return Handled((RenderedMessage(self.renderer.text("lang.choose", locale), buttons),))

    async def _switch_language(self, incoming: Incoming, press: LanguagePress) -> Handled:
        """Store the chosen language and show the patient's current step again in it: nothing else moves."""
        code = press.code
        if code not in self.locales:
            return Handled(
                (), self.renderer.text("bot.stale_button", self.pick_locale(incoming.language_code))
            )
        now = self.clock()
        event = Event("button", now=now, zone=self.default_clinic.timezone)

        def switch(tx: Transaction) -> tuple[UserRecord, Event]:
            record = tx.load_user(incoming.user_id) or UserRecord(
                incoming.user_id, incoming.chat_id, code, self.engine.new_session(), is_new=True
            )
            record.locale = code
            tx.save_user(record)
            if record.session.flow == "procedure" and not event.zone:
                return record, replace(event, zones=offered_zones(tx.reminders.clinic_zones(), code))
            return record, event

        record, shown = await self.store.run(switch)
        log.info("user %s chose language %s", record.user_id, code)
        current = self.engine.view(record.session, shown)
        return Handled(
            (
                RenderedMessage(self.renderer.text("lang.changed", code)),
                self.renderer.render(current, code),
            ),
            self.renderer.text("lang.changed", code),
        )

    async def _acknowledge(self, incoming: Incoming, press: AckPress) -> Handled:
        """ "Got it" on a reminder: recorded for the patient's own reminders only."""
        raw = press.reminder
        now = self.clock()
        ok = await self.store.run(lambda tx: tx.reminders.acknowledge(raw, incoming.user_id, now))
        locale = self.pick_locale(incoming.language_code)
        if not ok:
            return Handled((), self.renderer.text("bot.stale_button", locale))
        log.info("reminder %s acknowledged by user %s", raw, incoming.user_id)
        return Handled((), self.renderer.text("rem.acknowledged", locale), clear_buttons=True)


def _asks(outcome: Outcome) -> bool:
    """Whether the engine answered with the one-tap "do you have it now?" question."""
    return bool(outcome.replies) and outcome.replies[0].lines[0].text_id in (ASK_ONE, ASK_ANY)
