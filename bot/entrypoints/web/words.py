"""The clinic web page's words in en, tr and bg (words/<lang>.yaml, warning-sign names from the
content's safety.yaml), and which language a request gets: the `lang` cookie, else the browser's."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from flows.content import default_content_dir

LANGUAGES = ("en", "tr", "bg")
LANG_COOKIE = "vb_lang"
WORDS = Path(__file__).parent / "words"


@dataclass(frozen=True)
class Words:
    """One language's words for the pages."""

    code: str
    name: str
    words: dict[str, str]
    reminders: dict[str, str]
    signs: dict[str, str]

    def __call__(self, key: str, **values: Any) -> str:
        """A word by its key, with its {placeholders} filled in."""
        return self.words[key].format(**values)

    def reminder(self, key: str) -> str:
        """What a reminder of the plan is about, by its plan id."""
        return self.reminders.get(key, key)

    def sign(self, sign: str) -> str:
        """A warning sign's name, as the patient saw it."""
        return self.signs.get(f"sign.{sign}", sign)


def _read(path: Path) -> dict[str, Any]:
    tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    return tree if isinstance(tree, dict) else {}


@cache
def words(code: str) -> Words:
    """The words of one of LANGUAGES."""
    own = _read(WORDS / f"{code}.yaml")
    safety = default_content_dir() / code / "safety.yaml"
    labels = _read(safety).get("labels", {}) if safety.is_file() else {}
    return Words(code, own["language_name"], own["words"], own.get("reminders", {}), labels)


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if it is one of ours, else the first of ours the browser accepts."""
    if cookie in LANGUAGES:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, index, tag.strip().lower().split("-")[0]))
    for _, _, code in sorted(ranked):
        if code in LANGUAGES:
            return code
    return LANGUAGES[0]
