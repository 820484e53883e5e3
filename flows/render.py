"""Turning a reply of text ids into the words and buttons a patient sees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flows.content import BASE_LOCALE, Content, Locale
from flows.models import PLACEHOLDER, ClinicSettings
from flows.replies import Button, Reply
from flows.zones import zone_city


@dataclass(frozen=True)
class RenderedButton:
    """A button as shown: its words and its callback data."""

    label: str
    data: str
    compact: bool = False  # short labels (dates) that can share a row


@dataclass(frozen=True)
class RenderedMessage:
    """A message as sent: text, one button a row, and whether it replaces the pressed one."""

    text: str
    buttons: tuple[RenderedButton, ...] = ()
    edit: bool = False


MAX_TEXT = 4096  # Telegram's limit on a message's text, in UTF-16 code units


def telegram_length(text: str) -> int:
    """A text's length as Telegram counts it: UTF-16 code units (an emoji outside the Basic
    Multilingual Plane counts two)."""
    return len(text.encode("utf-16-le")) // 2


def fold(messages: list[RenderedMessage]) -> list[RenderedMessage]:
    """One message where one will do: a new message without buttons goes at the top of the new
    message after it ("Hello..." above the menu), while the two fit in one Telegram message.

    Under Telegram's send limit the messages per patient action are the cost that matters. An
    edit stays an edit and buttons stay under the last words, so only a plain leading message folds.
    """
    folded: list[RenderedMessage] = []
    for message in messages:
        before = folded[-1] if folded else None
        if (
            before is not None
            and not (before.buttons or before.edit or message.edit)
            and before.text
            and telegram_length(before.text) + 2 + telegram_length(message.text) <= MAX_TEXT
        ):
            text = f"{before.text}\n\n{message.text}" if message.text else before.text
            folded[-1] = RenderedMessage(text, message.buttons)
        else:
            folded.append(message)
    return folded


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def clinic_params(clinic: ClinicSettings) -> dict[str, str]:
    """The values texts may use as `{placeholders}`."""
    return {
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone,
        "emergency_number": clinic.emergency_number,
        "fasting_food_hours": _number(clinic.fasting_food_hours),
        "fasting_fluid_hours": _number(clinic.fasting_fluid_hours),
        # The clinic's own words on blood thinners, shown as written (empty when it has none).
        "blood_thinner_note": clinic.blood_thinner_text or "",
        # Whose fasting hours these are: the clinic's own rule, or the usual advice.
        FASTING_RULE: "clinic" if clinic.own_fasting_times else "usual",
    }


FASTING_RULE = "fasting_rule"
# Placeholders each language fills in its own words: "your clinic" while the clinic has set no
# name, and whose fasting hours a text gives ("Your clinic asks:" or "The usual advice:").
LOCALE_PARAMS = ("fasting_intro", "fasting_outro")


def fill(text: str, params: Mapping[str, str]) -> str:
    """Replace `{name}` placeholders; unknown ones stay visible rather than crash."""
    return PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), text)


class Renderer:
    """Renders replies in a locale, falling back to the base locale for a missing text."""

    def __init__(
        self,
        content: Content,
        params: Mapping[str, str],
        day_label: Callable[[dt.date, str], str] = lambda day, _locale: day.isoformat(),
    ) -> None:
        self.content = content
        self.params = dict(params)
        self.day_label = day_label
        self._by_locale: dict[str, Mapping[str, str]] = {}
        self._base = content.locales[BASE_LOCALE]

    def locale(self, code: str | None) -> Locale:
        """The locale for a language code, or the base one."""
        return self.content.locales.get((code or "")[:2].lower(), self._base)

    def text(self, text_id: str, code: str | None, extra: Mapping[str, str] | None = None) -> str:
        """One text (or label) by id, filled in with the clinic's values and any `extra` ones."""
        loc = self.locale(code)
        raw = loc.texts.get(text_id) or loc.labels.get(text_id)
        if raw is None:
            raw = self._base.texts.get(text_id) or self._base.labels.get(text_id, text_id)
        if "{" not in raw:
            return raw.strip()
        return fill(raw, self._params(loc, extra)).strip()

    def _params(self, loc: Locale, extra: Mapping[str, str] | None) -> Mapping[str, str]:
        """The values for a locale; an unset clinic name or phone is said in the locale's own words."""
        if not extra:
            cached = self._by_locale.get(loc.code)
            if cached is None:
                cached = self._by_locale[loc.code] = self._with_fallbacks(loc, self.params)
            return cached
        return self._with_fallbacks(loc, {**self.params, **extra})

    def _with_fallbacks(self, loc: Locale, params: Mapping[str, str]) -> Mapping[str, str]:
        filled = dict(params)

        def word(text_id: str) -> str:
            return loc.texts.get(text_id) or self._base.texts.get(text_id, "")

        for key in ("clinic_name", "clinic_phone"):
            if not filled.get(key):
                filled[key] = word(f"default.{key}")
        rule = params.get(FASTING_RULE, "usual")
        for key in LOCALE_PARAMS:
            filled[key] = word(f"{key.replace('_', '.')}.{rule}")
        return filled

    def render(
        self, reply: Reply, code: str | None, extra: Mapping[str, str] | None = None
    ) -> RenderedMessage:
        """The message for a reply; `extra` fills placeholders beyond the clinic's."""
        parts = []
        for line in reply.lines:
            body = self.text(line.text_id, code, extra)
            parts.append(f"{line.mark} {body}" if line.mark else body)
        buttons = tuple(self._button(button, code) for button in reply.buttons)
        return RenderedMessage("\n\n".join(parts), buttons, reply.edit)

    def _button(self, button: Button, code: str | None) -> RenderedButton:
        if button.day is not None:
            return RenderedButton(
                self.day_label(button.day, self.locale(code).code), button.data, compact=True
            )
        if button.zone is not None:
            return RenderedButton(zone_city(button.zone, self.locale(code).code), button.data, compact=True)
        label = self.text(button.label_id, button.label_locale or code)
        return RenderedButton(f"{button.mark} {label}" if button.mark else label, button.data)
