"""The effect appliers: what the engine decided, written inside the update's transaction.

One function per kind of effect; each returns nothing but fills the update's EffectResult
(texts and files to send, the invite's outcome, staff alerts). Nothing here decides what the
patient is told: the engine did that.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from bot.db.store import Transaction, UserRecord
from bot.services.clinics import Redemption
from bot.services.companions import COMPANION_ACTIONS, CompanionActions
from bot.services.privacy import DataExport
from bot.services.procedures import EffectResult, ProcedureActions
from flows.outcome import (
    Acknowledge,
    DoAction,
    Effect,
    EndCompanion,
    ExportData,
    ForgetPatient,
    RecordPain,
    RecordSign,
    RedeemInvite,
    ReportSign,
    ScheduleProcedure,
    SetLanguage,
    StoreComment,
)

log = logging.getLogger(__name__)

Redeem = Callable[[Transaction, int, str, dt.datetime], Redemption]


class EffectAppliers:
    """Carries out an outcome's effects for one patient, in order, in the caller's transaction."""

    def __init__(
        self,
        actions: ProcedureActions,
        redeem: Redeem | None = None,
        export: DataExport | None = None,
        companions: CompanionActions | None = None,
    ) -> None:
        self.actions = actions
        self.redeem = redeem
        self.export = export
        self.companions = companions

    def apply(
        self, tx: Transaction, record: UserRecord, effects: tuple[Effect, ...], now: dt.datetime
    ) -> EffectResult:
        """Every effect, in the order the engine gave them; the result says what came of them."""
        result = EffectResult()
        user = record.user_id
        for effect in effects:
            if isinstance(effect, ScheduleProcedure):
                self.actions.schedule(tx, user, effect, now, result)
            elif isinstance(effect, DoAction) and effect.name in COMPANION_ACTIONS and self.companions:
                self.companions.action(tx, user, effect.name, record.locale, now=now, result=result)
            elif isinstance(effect, EndCompanion) and self.companions is not None:
                self.companions.end(tx, record, effect, now, result)
            elif isinstance(effect, DoAction):
                self.actions.action(tx, user, effect.name, record.locale, now=now, result=result)
            elif isinstance(effect, ReportSign):
                self._report(tx, record, effect, now, result)
            elif isinstance(effect, RecordPain):
                tx.checkins.set_pain(effect.target, user, effect.pain, now)
                tx.reminders.acknowledge(effect.target.reminder_id, user, now)
            elif isinstance(effect, RecordSign):
                tx.checkins.add_sign(effect.target, user, effect.sign, now)
            elif isinstance(effect, StoreComment):
                tx.checkins.set_comment(effect.target, user, effect.text, now)
                log.info("check-in %s comment stored for user %s", effect.target.reminder_id, user)
            elif isinstance(effect, Acknowledge):
                result.stale = not tx.reminders.acknowledge(effect.reminder_id, user, now)
            elif isinstance(effect, SetLanguage):
                record.locale = effect.code  # saved with the session, after the effects
            elif isinstance(effect, RedeemInvite) and self.redeem is not None:
                result.invite = self.redeem(tx, user, effect.token, now)
                log.info("invite opened by user %s: %s", user, result.invite.result)
            elif isinstance(effect, ExportData) and self.export is not None:
                self.export.add(tx.privacy.export(user), record.locale, now, result)
                log.info("user %s was sent their data", user)
            elif isinstance(effect, ForgetPatient):
                if self.companions is not None:
                    self.companions.forgetting(tx, user, result)
                rows = tx.privacy.forget(user, now)
                result.forgotten = True
                # No id in this line: the log must not keep what the patient asked to be deleted.
                log.info("a patient deleted their data (%d rows deleted or unlinked)", rows)
        return result

    def _report(
        self, tx: Transaction, record: UserRecord, effect: ReportSign, now: dt.datetime, result: EffectResult
    ) -> None:
        """Record the sign (which, where, under which procedure; never the words) and alert the
        staff of the patient's clinic at once, with the procedure and never a name."""
        companion = False
        if effect.procedure_id is not None:
            procedure = tx.reminders.procedure_by_id(effect.procedure_id)
        else:
            procedure = tx.reminders.procedure(record.user_id)
        if procedure is None and (procedure := tx.companions.accompanied(record.user_id)):
            companion = True  # a companion saw the sign in the patient they accompany
        who = "The companion" if companion else "The patient"
        tx.record_warning_sign(
            record.user_id, effect.sign, record.session, procedure.id if procedure else None
        )
        if procedure is None or procedure.clinic_id is None:
            return
        reference = f" (ref {procedure.reference})" if procedure.reference else ""
        local = now.astimezone(ZoneInfo(procedure.timezone))
        text = (
            f"\u26a0\ufe0f Warning sign reported{' by the companion' if companion else ''}: {effect.sign}"
            f"{effect.note}. Procedure #{procedure.id}{reference}, reported {local:%Y-%m-%d %H:%M}. "
            f"{who} was given the urgent advice; please contact them."
        )
        result.alerts.extend((chat, text) for chat in tx.staff.chats(procedure.clinic_id))
