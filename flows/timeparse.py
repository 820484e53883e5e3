"""Reading the times and dates people type: 9:30, 09:30, 9.30, 2 pm, 14h, saat 14.30, в 9 ч.; 24.11."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

_TIME = re.compile(
    r"^\s*(?P<hour>\d{1,2})(?:\s*[:.hч]\s*(?P<minute>\d{2}))?\s*(?P<half>a\.?m\.?|p\.?m\.?|h|ч\.?)?\s*$",
    re.IGNORECASE,
)
# Words people put before a time: "at 9:30", "saat 14.30", "в 9 ч."
_LEAD = re.compile(r"^\s*(?:at|saat|в|во)\s+", re.IGNORECASE)
_DATE = re.compile(r"^\s*(?P<a>\d{1,4})\s*[./-]\s*(?P<b>\d{1,2})(?:\s*[./-]\s*(?P<c>\d{2,4}))?\s*$")
NOON = 12
# Days said as words, in each language the bot speaks: how many days from today.
_RELATIVE_DAYS = {
    "today": 0, "tomorrow": 1, "day after tomorrow": 2, "the day after tomorrow": 2,
    "bugun": 0, "yarin": 1, "obur gun": 2, "ertesi gun": 2,
    "днес": 0, "утре": 1, "вдругиден": 2, "другиден": 2,
}  # fmt: skip
_WORDS = "zero one two three four five six seven eight nine ten eleven twelve"
_NUMBERS = {word: value for value, word in enumerate(_WORDS.split())}
# "half past 9", "quarter past nine", "quarter to 10", "9 buçuk", "9 и половина"
_SPOKEN = re.compile(
    r"^\s*(?:(?P<part>half|quarter)\s+(?P<rel>past|to)\s+(?P<h1>\d{1,2}|[a-z]+)"
    r"|(?P<h2>\d{1,2})\s*(?:buçuk|bucuk|и\s+половина))\s*(?P<half>a\.?m\.?|p\.?m\.?)?\s*$",
    re.IGNORECASE,
)


def _spoken(text: str) -> dt.time | None:
    """ "half past nine", "quarter to 10", "9 buçuk", "9 и половина"; None when not said so."""
    match = _SPOKEN.match(text)
    if match is None:
        return None
    raw = (match["h1"] or match["h2"]).lower()
    hour = int(raw) if raw.isdigit() else _NUMBERS.get(raw, -1)
    minute = 30
    if match["part"]:
        minute = {"half": 30, "quarter": 15}[match["part"].lower()]
        if match["rel"].lower() == "to":
            hour, minute = hour - 1, 60 - minute
    half = (match["half"] or "").lower().replace(".", "")
    if half == "pm" and 1 <= hour < NOON:
        hour += NOON
    return dt.time(hour, minute) if 0 <= hour <= 23 else None


def parse_clock_time(text: str) -> dt.time | None:
    """A clock time from what a person typed, or None when it is not one (or impossible)."""
    lead = _LEAD.match(text)
    rest = text[lead.end() :] if lead else text
    spoken = _spoken(rest)
    if spoken is not None:
        return spoken
    match = _TIME.match(rest)
    if match is None:
        return None
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    half = (match["half"] or "").lower().replace(".", "").replace("ч", "h")
    if match["minute"] is None and not half and not lead:
        return None  # a bare number is more likely a date or a pain score than a time
    if half in ("am", "pm"):
        if not 1 <= hour <= NOON:
            return None
        hour = hour % NOON + (NOON if half == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_day(text: str, today: dt.date) -> dt.date | None:
    """A calendar date from "24.11", "24/11/2026", "2026-11-24" or "tomorrow" (Turkish, Bulgarian too);
    a year-less date is the next one."""
    folded = unicodedata.normalize("NFKD", text.casefold().replace("ı", "i"))
    word = " ".join("".join(ch for ch in folded if not unicodedata.combining(ch)).strip(" .!").split())
    if word in _RELATIVE_DAYS:
        return today + dt.timedelta(days=_RELATIVE_DAYS[word])
    match = _DATE.match(text)
    if match is None:
        return None
    a, b, c = match["a"], match["b"], match["c"]
    try:
        if len(a) == 4:
            return dt.date(int(a), int(b), int(c or 0))
        day, month = int(a), int(b)
        if c is None:
            candidate = dt.date(today.year, month, day)
            return candidate if candidate >= today else dt.date(today.year + 1, month, day)
        year = int(c) + (2000 if len(c) == 2 else 0)
        return dt.date(year, month, day)
    except ValueError:
        return None
