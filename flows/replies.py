"""What the engine answers with: replies in text ids, free of any rendering or Telegram."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """One paragraph of a reply: a text id, maybe with a tick or bullet before it."""

    text_id: str
    mark: str = ""


@dataclass(frozen=True)
class Button:
    """A button to show: its label id, its callback data and an optional tick."""

    label_id: str
    data: str
    mark: str = ""
    day: dt.date | None = None  # a date button: its label is the date, written per locale
    zone: str | None = None  # a place button: its label is the zone's city, in the patient's language
    label_locale: str | None = None  # the label in this language, not the patient's (a language's name)


@dataclass(frozen=True)
class Reply:
    """One message to send (or an edit of the pressed one), in text ids."""

    lines: tuple[Line, ...]
    buttons: tuple[Button, ...] = ()
    edit: bool = False
