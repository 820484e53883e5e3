"""Recognising warning signs in free text, from each locale's phrase patterns."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from flows.models import WarningSign, WarningSigns

# Long messages are only scanned this far: warning signs come early, and it bounds the work.
SCAN_LIMIT = 2000


# How many words either side of a sign's phrase are read for doubt ("no", "if", Turkish "yok").
DOUBT_WORDS_BEFORE = 4
DOUBT_WORDS_AFTER = 2


@dataclass(frozen=True)
class SignMatch:
    """A warning sign found in a message; uncertain when denied, hypothetical or asked about."""

    id: str
    level: str
    text: str
    certain: bool = True


@dataclass(frozen=True)
class Triage:
    """The verdict on a message: urgent guidance now, a question (one sign, or any sign), or nothing."""

    action: Literal["urgent", "ask_one", "ask_any", "none"]
    sign: SignMatch | None


def normalise(text: str) -> str:
    """Lower case, accents folded, runs of spaces and punctuation made single spaces."""
    folded = unicodedata.normalize("NFKD", text[:SCAN_LIMIT].casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " " + re.sub(r"[^\w]+", " ", folded).strip() + " "


def _any_of(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


class SignMatcher:
    """Matches a locale's warning signs; emergencies are tried before clinic-today signs.

    A sign said plainly is certain. A sign with a doubt word next to it ("no fever", "what if
    my legs go numb", Turkish "ateşim yok") is uncertain, and so is a vague phrase ("I feel
    unwell"): for those the bot asks a one-tap question rather than alarming or staying silent.
    """

    def __init__(self, signs: WarningSigns) -> None:
        self.signs = sorted(signs.signs, key=lambda s: s.level != "emergency")
        self._compiled = [(sign, _any_of(sign.patterns)) for sign in self.signs]
        self._before = _any_of(signs.doubt_before)
        self._after = _any_of(signs.doubt_after)
        self._vague = _any_of(signs.vague)

    def match(self, text: str) -> SignMatch | None:
        """The most urgent sign the text mentions plainly, else the first one it mentions with doubt."""
        norm = normalise(text)
        doubtful: SignMatch | None = None
        for sign, pattern in self._compiled:
            for found in pattern.finditer(norm) if pattern else ():
                if not self._doubted(norm, found.start(), found.end()):
                    return SignMatch(sign.id, sign.level, sign.text)
                doubtful = doubtful or SignMatch(sign.id, sign.level, sign.text, certain=False)
        return doubtful

    def sign(self, sign_id: str) -> WarningSign | None:
        """The locale's warning sign with this id, if there is one."""
        return next((sign for sign in self.signs if sign.id == sign_id), None)

    def is_vague(self, text: str) -> bool:
        """Whether the text says something is wrong without naming a sign."""
        return self._vague is not None and self._vague.search(normalise(text)) is not None

    def triage(self, text: str) -> Triage:
        """What the bot does with a message: alarm at once, ask a one-tap question, or neither."""
        sign = self.match(text)
        if sign is not None and sign.certain:
            return Triage("urgent", sign)
        if self.is_vague(text):
            return Triage("ask_any", sign)
        if sign is not None:
            return Triage("ask_one", sign)
        return Triage("none", None)

    def _doubted(self, norm: str, start: int, end: int) -> bool:
        before = " " + " ".join(norm[:start].split()[-DOUBT_WORDS_BEFORE:]) + " "
        after = " " + " ".join(norm[end:].split()[:DOUBT_WORDS_AFTER]) + " "
        return bool(
            (self._before and self._before.search(before)) or (self._after and self._after.search(after))
        )
