"""Reading the times and dates people type: 9:30, 09:30, 9.30, 2 pm, 14h, saat 14.30, в 9 ч.; 24.11."""

from __future__ import annotations

import datetime as dt
import re

_TIME = re.compile(
    r"^\s*(?P<hour>\d{1,2})(?:\s*[:.hч]\s*(?P<minute>\d{2}))?\s*(?P<half>a\.?m\.?|p\.?m\.?|h|ч\.?)?\s*$",
    re.IGNORECASE,
)
# Words people put before a time: "at 9:30", "saat 14.30", "в 9 ч."
_LEAD = re.compile(r"^\s*(?:at|saat|в|во)\s+", re.IGNORECASE)
_DATE = re.compile(r"^\s*(?P<a>\d{1,4})\s*[./-]\s*(?P<b>\d{1,2})(?:\s*[./-]\s*(?P<c>\d{2,4}))?\s*$")
NOON = 12


def parse_clock_time(text: str) -> dt.time | None:
    """A clock time from what a person typed, or None when it is not one (or impossible)."""
    lead = _LEAD.match(text)
    match = _TIME.match(text[lead.end() :] if lead else text)
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
    """A calendar date from "24.11", "24/11/2026" or "2026-11-24"; a year-less date is the next one."""
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
