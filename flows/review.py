"""Recording a content review in a file: a line-based edit of two top-level keys, nothing else."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import yaml

REVIEW_KEYS = ("reviewed_by", "reviewed_at")
_REVIEW_LINE = re.compile(r"^(reviewed_by|reviewed_at)[ \t]*:")
_CONTINUATION = re.compile(r"^[ \t]+[^ \t\r\n#]")  # an indented line that is not a comment


class ReviewEditError(ValueError):
    """The review keys cannot be written by a line edit; the message says what to do."""


def _lines(text: str) -> list[str]:
    """The lines of a text with their line ends, split on \\n only (so joining gives the text back)."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _top_key_index(lines: list[str]) -> int:
    """Where the first top-level key is: after leading comments, blank lines and `---`."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped and not stripped.startswith(("#", "%")) and stripped != "---":
            return index
    return len(lines)


def review_lines(text: str) -> list[str]:
    """The top-level review lines of a file as written (with their line ends), to carry them over."""
    return [line for line in _lines(text) if _REVIEW_LINE.match(line)]


def stamp_review(text: str, by: str, day: dt.date) -> str:
    """The file's text with `reviewed_by`/`reviewed_at` set; every other line stays byte for byte.

    Existing review keys are replaced where they are; otherwise both go just before the first
    top-level key (after the file's heading comments).
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    new = [f"reviewed_by: {json.dumps(by, ensure_ascii=False)}{newline}", f"reviewed_at: {day}{newline}"]
    lines = _lines(text)
    kept: list[str] = []
    at: int | None = None
    index = 0
    while index < len(lines):
        if _REVIEW_LINE.match(lines[index]):
            at = len(kept) if at is None else at
            index += 1
            while index < len(lines) and _CONTINUATION.match(lines[index]):
                index += 1  # a value continued on indented lines
            continue
        kept.append(lines[index])
        index += 1
    if at is None:
        at = _top_key_index(kept)
    if at > 0 and not kept[at - 1].endswith("\n"):
        kept[at - 1] += newline
    result = "".join(kept[:at] + new + kept[at:])
    _same_but_review(text, result, by, day)
    return result


def _same_but_review(before: str, after: str, by: str, day: dt.date) -> None:
    """Make sure the edit changed the review keys and nothing else the YAML means."""
    try:
        old: Any = yaml.safe_load(before)
        new: Any = yaml.safe_load(after)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an impossible date
        raise ReviewEditError(f"not valid YAML ({exc.__class__.__name__}); fix the file first") from None
    if not isinstance(old, dict) or not isinstance(new, dict):
        raise ReviewEditError("expected a mapping with `version:` at the top")
    rest_old = {k: v for k, v in old.items() if k not in REVIEW_KEYS}
    rest_new = {k: v for k, v in new.items() if k not in REVIEW_KEYS}
    if rest_old != rest_new or new.get("reviewed_by") != by or new.get("reviewed_at") != day:
        raise ReviewEditError(
            "the review keys are written in a way a line edit cannot update; "
            'write them by hand as `reviewed_by: "..."` and `reviewed_at: YYYY-MM-DD` at the top'
        )
