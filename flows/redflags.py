"""Recognising warning signs in free text, from each locale's phrase patterns."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flows.models import WarningSigns

# Long messages are only scanned this far: warning signs come early, and it bounds the work.
SCAN_LIMIT = 2000


@dataclass(frozen=True)
class SignMatch:
    """A warning sign found in a message."""

    id: str
    level: str
    text: str


def normalise(text: str) -> str:
    """Lower case, accents folded, runs of spaces and punctuation made single spaces."""
    folded = unicodedata.normalize("NFKD", text[:SCAN_LIMIT].casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " " + re.sub(r"[^\w]+", " ", folded).strip() + " "


class SignMatcher:
    """Matches a locale's warning signs; emergencies are tried before clinic-today signs."""

    def __init__(self, signs: WarningSigns) -> None:
        ordered = sorted(signs.signs, key=lambda s: s.level != "emergency")
        self._compiled = [(sign, re.compile("|".join(f"(?:{p})" for p in sign.patterns))) for sign in ordered]

    def match(self, text: str) -> SignMatch | None:
        """The most urgent sign the text mentions, or None."""
        norm = normalise(text)
        for sign, pattern in self._compiled:
            if pattern.search(norm):
                return SignMatch(sign.id, sign.level, sign.text)
        return None
