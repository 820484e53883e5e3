"""/mydata: what the bot keeps about a patient, as a message in their language and a JSON file."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.db.privacy_repo import KeptCheckin, KeptData, KeptProcedure, KeptReminder, KeptSign
from bot.services.procedures import Document, EffectResult
from bot.services.reminder_text import MIDNIGHT, clock_time
from flows.content import BASE_LOCALE, Content
from flows.privacy import answers_given, ticks_given
from flows.render import Renderer, telegram_length
from flows.texts import REMINDER_TITLE_PREFIX

EXPORT_FORMAT = "vertebrobot-patient-data/1"
# Telegram takes 4096 characters a message (UTF-16 code units); a long export goes in several.
MESSAGE_LIMIT = 4000
BULLET = "\u2022"


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).isoformat()


def split_message(paragraphs: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Paragraphs joined into as few messages as fit Telegram's limit (a too long one is cut)."""
    messages: list[str] = []
    for whole in paragraphs:
        # Cut at `limit` UTF-16 code units, as Telegram counts (half an emoji is dropped).
        paragraph = whole.encode("utf-16-le")[: 2 * limit].decode("utf-16-le", errors="ignore")
        if messages and telegram_length(messages[-1]) + 2 + telegram_length(paragraph) <= limit:
            messages[-1] += "\n\n" + paragraph
        else:
            messages.append(paragraph)
    return messages


class DataExport:
    """Renders a patient's kept data: readable in their language, and complete as JSON."""

    def __init__(self, renderer: Renderer, content: Content) -> None:
        self.renderer = renderer
        self.flows = content.flows
        base = content.locales[BASE_LOCALE].signs
        self.sign_labels = {sign.id: sign.label for sign in (base.signs if base else ())}

    def add(self, kept: KeptData, locale: str, now: dt.datetime, result: EffectResult) -> None:
        """The message (maybe in parts) and the file, added to what the update sends."""
        result.texts.extend(split_message(self.paragraphs(kept, locale)))
        data = json.dumps(self.as_json(kept, now), ensure_ascii=False, indent=2).encode()
        result.documents.append(
            Document("my-data.json", data, self.renderer.text("mydata.file_caption", locale))
        )

    def as_json(self, kept: KeptData, now: dt.datetime) -> dict[str, Any]:
        """Everything kept, with ids and UTC times, for a machine or another service."""
        return {
            "format": EXPORT_FORMAT,
            "exported_at": _iso(now),
            "telegram_user_id": kept.user_id,
            "chat_id": kept.chat_id,
            "language": kept.locale,
            "first_seen_at": _iso(kept.created_at),
            "reminders_paused": kept.reminders_paused,
            "questionnaire_answers": [
                {"flow": a.flow, "question": a.key, "answer": a.value}
                for a in answers_given(kept.answers, self.flows)
            ],
            "checklist_ticks": [
                {"flow": t.flow, "item": t.item} for t in ticks_given(kept.answers, self.flows)
            ],
            "stored_answers": kept.answers,
            "procedures": [
                {
                    "id": p.id,
                    "starts_at": _iso(p.starts_at),
                    "timezone": p.timezone,
                    "clinic": p.clinic,
                    "clinic_reference": p.reference,
                    "status": p.status,
                    "entered_by": p.source,
                }
                for p in kept.procedures
            ],
            "reminders": [
                {
                    "procedure_id": r.procedure_id,
                    "reminder": r.key,
                    "due_at": _iso(r.due_at),
                    "about": _iso(r.about_at),
                    "status": r.status,
                    "got_it_at": _iso(r.acknowledged_at),
                }
                for r in kept.reminders
            ],
            "checkins": [
                {
                    "procedure_id": c.procedure_id,
                    "checkin": c.key,
                    "pain": c.pain,
                    "warning_signs": None if c.signs is None else list(c.signs),
                    "comment": c.comment,
                    "answered_at": _iso(c.answered_at),
                }
                for c in kept.checkins
            ],
            "warning_signs_reported": [
                {"sign": s.sign, "reported_at": _iso(s.reported_at), "procedure_id": s.procedure_id}
                for s in kept.signs
            ],
            "invites_opened": [{"procedure_id": p, "opened_at": _iso(at)} for p, at in kept.invites_opened],
            "wrong_invite_tries": kept.wrong_invite_tries,
            "staff_of_clinic": kept.staff_of_clinic,
            "companion_of": [
                {"procedure_id": p.id, "starts_at": _iso(p.starts_at), "joined_at": _iso(at)}
                for p, at in kept.companion_of
            ],
            "companions_linked": [{"procedure_id": p, "joined_at": _iso(at)} for p, at in kept.companions],
        }

    def paragraphs(self, kept: KeptData, locale: str) -> list[str]:
        """The readable message, one paragraph a kind of data; kinds with nothing kept are left out."""
        shown = [*kept.procedures, *(p for p, _ in kept.companion_of)]
        zones = {p.id: ZoneInfo(p.timezone) for p in shown}
        default_zone = next(iter(zones.values()), ZoneInfo("UTC"))

        def text(text_id: str) -> str:
            return self.renderer.text(text_id, locale)

        def zone(procedure_id: int | None) -> ZoneInfo:
            return zones.get(procedure_id, default_zone) if procedure_id is not None else default_zone

        def when(moment: dt.datetime, procedure_id: int | None) -> str:
            return format_datetime(moment.astimezone(zone(procedure_id)), "d MMM y, HH:mm", locale=locale)

        def section(heading: str, lines: list[str]) -> list[str]:
            return ["\n".join([text(heading), *(f"{BULLET} {line}" for line in lines)])] if lines else []

        def procedure(p: KeptProcedure) -> str:
            said = (p.clinic, text(f"mydata.proc.{p.status}"), text(f"mydata.source.{p.source}"))
            return ", ".join([f"{when(p.starts_at, p.id)} ({p.timezone})", *(part for part in said if part)])

        def reminder(r: KeptReminder) -> str:
            about = {"about_time": clock_time(r.about_at, zone(r.procedure_id), locale, text(MIDNIGHT))}
            title = self.renderer.text(REMINDER_TITLE_PREFIX + r.key, locale, about)
            status = [text(f"mydata.status.{r.status}")]
            if r.acknowledged_at is not None:
                status.append(text("mydata.acknowledged"))
            return f"{when(r.due_at, r.procedure_id)}: {title} ({', '.join(status)})"

        def sign(s: KeptSign) -> str:
            return f"{text(self.sign_labels.get(s.sign, s.sign))}: {when(s.reported_at, s.procedure_id)}"

        found = [text("mydata.title")]
        if kept.locale:
            found.append(f"{text('mydata.language')} {self.renderer.text('lang.name', kept.locale)}")
        found += section("mydata.procedures", [procedure(p) for p in kept.procedures])
        found += section("mydata.companions", [when(at, p) for p, at in kept.companions])
        found += section(
            "mydata.companion_of", [f"{procedure(p)}; {when(at, p.id)}" for p, at in kept.companion_of]
        )
        answers = answers_given(kept.answers, self.flows)
        found += section("mydata.answers", [f"{text(a.question)} {text(a.label)}" for a in answers])
        found += section("mydata.ticks", [text(t.label) for t in ticks_given(kept.answers, self.flows)])
        found += section("mydata.reminders", [reminder(r) for r in kept.reminders])
        found += section("mydata.checkins", [self._checkin(c, locale) for c in kept.checkins])
        found += section("mydata.signs", [sign(s) for s in kept.signs])
        if kept.reminders_paused:
            found.append(text("mydata.paused"))
        found.append(text("mydata.footer"))
        return found

    def _checkin(self, checkin: KeptCheckin, locale: str) -> str:
        """One check-in: its name, the pain score, the signs and the comment, as answered."""

        def text(text_id: str) -> str:
            return self.renderer.text(text_id, locale)

        parts = [text(REMINDER_TITLE_PREFIX + checkin.key)]
        if checkin.pain is not None:
            parts.append(f"{text('mydata.pain')} {checkin.pain}/10")
        if checkin.signs is not None:
            names = [text(self.sign_labels.get(sign, sign)) for sign in checkin.signs]
            parts.append(", ".join(names) if names else text("mydata.no_signs"))
        if checkin.comment:
            parts.append(f"{text('mydata.comment')} \u201c{checkin.comment}\u201d")
        return "; ".join(parts)
