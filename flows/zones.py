"""Where a patient's procedure happens, as a time zone: read from a city, a country or an IANA
name the patient types, in their own language; and whether a wall-clock time exists there.

Names come from the time-zone database (zoneinfo, with the `tzdata` package where the system
has none) and from CLDR through Babel: nothing is listed by hand.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import defaultdict
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location

MAX_OFFERED = 6  # zone buttons shown at once; any other place can be typed


def _key(text: str) -> str:
    """Folded for comparing names: no accents, case, dots, dashes or underscores."""
    text = unicodedata.normalize("NFKD", text.replace("ı", "i").replace("İ", "I"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(text.replace("_", " ").replace("-", " ").replace(".", " ").split())


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def known_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine can plan in."""
    if name not in _zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _same_clock(zones: list[str]) -> bool:
    """Whether zones keep the same time all year (a country with one clock, such as Germany)."""
    year = dt.datetime.now(dt.UTC).year
    moments = [dt.datetime(year, 1, 15, tzinfo=dt.UTC), dt.datetime(year, 7, 15, tzinfo=dt.UTC)]
    return len({tuple(m.astimezone(ZoneInfo(z)).utcoffset() for m in moments) for z in zones}) == 1


@cache
def _names(locale: str) -> dict[str, str]:
    """Folded name → zone: the city in the patient's language and in English, a country's name
    (in both) when the whole country keeps one clock, then IANA names and their city part."""
    names: dict[str, str] = {}
    territories: dict[str, list[str]] = defaultdict(list)
    canonical = [z for z in get_global("zone_territories") if z in _zones()]
    for zone in canonical:
        territories[get_global("zone_territories")[zone]].append(zone)
    for code in dict.fromkeys((locale, "en")):
        for zone in canonical:
            names.setdefault(_key(get_timezone_location(zone, locale=code, return_city=True)), zone)
        for territory, zones in territories.items():
            country = Locale.parse(code).territories.get(territory)
            if country and _same_clock(zones):
                names.setdefault(_key(country), zones[0])
    aliases = get_global("zone_aliases")  # old names ("Turkey") stand for today's ("Europe/Istanbul")
    for zone in sorted(_zones()):
        # Places only: "EST" (no summer time), "Factory" or "Zulu" are no place a patient is in;
        # an old country name ("Turkey") stands for today's zone.
        current = aliases.get(zone, zone) if aliases.get(zone) in _zones() else zone
        abbreviation = "/" not in zone and zone.upper() == zone  # EST, CET, PRC: not a place
        if abbreviation or "/" not in current or current.startswith(("Etc/", "SystemV/")):
            continue
        names.setdefault(_key(zone), current)
        names.setdefault(_key(zone.rsplit("/", 1)[-1]), current)
    names.setdefault("utc", "UTC")
    return names


def find_zone(text: str, locale: str) -> str | None:
    """The zone a typed place names ("Istanbul", "София", "bulgaria", "Europe/Sofia"), or None."""
    key = _key(text)
    if not key:
        return None
    names = _names(locale)
    if key in names:
        return names[key]
    # "in Sofia", "Sofia, Bulgaria": any word or pair of words that names a place.
    words = key.replace(",", " ").split()
    for size in (2, 1):
        for start in range(len(words) - size + 1):
            found = names.get(" ".join(words[start : start + size]))
            if found is not None:
                return found
    return None


def zone_city(zone: str, locale: str) -> str:
    """A zone as a patient knows it: its city in their language ("İstanbul", "София")."""
    return get_timezone_location(zone, locale=locale, return_city=True)


def offered_zones(zones: list[str], locale: str) -> tuple[str, ...]:
    """The clinics' zones to offer as buttons: those of countries speaking the patient's language
    first, each once, at most MAX_OFFERED."""
    territory_of = get_global("zone_territories")
    spoken = get_global("territory_languages")

    def theirs(zone: str) -> bool:
        languages = spoken.get(territory_of.get(zone, ""), {})
        return locale in languages and languages[locale].get("official_status") is not None

    unique = [z for z in dict.fromkeys(zones) if known_zone(z)]
    return tuple(sorted(unique, key=lambda z: not theirs(z))[:MAX_OFFERED])


def exists(local: dt.datetime, zone: str) -> bool:
    """Whether a wall-clock time happens in a zone: not in the hour skipped when clocks go forward."""
    tz = ZoneInfo(zone)
    aware = local.replace(tzinfo=tz)
    return aware.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) == local
