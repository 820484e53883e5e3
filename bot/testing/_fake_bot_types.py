"""The fake Bot API's records (files, uploads, chats) and small parameter readers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass
class StoredFile:
    """A file the fake knows: uploaded by the bot or sent by the simulated user."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo", "document" or "sticker"
    data: bytes = b""
    file_name: str | None = None
    mime_type: str | None = None
    photo: list[JSON] = field(default_factory=list)  # the PhotoSize list, for photos


@dataclass
class Upload:
    """One file part of a multipart request."""

    filename: str | None
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.data)} bytes)"


@dataclass
class Chat:
    """A private chat with one simulated user."""

    obj: JSON
    messages: dict[int, JSON] = field(default_factory=dict)
    next_message_id: int = 1
    blocked: bool = False


def maybe_int(value: Any) -> int | None:
    """Telegram accepts integers as JSON numbers or strings; None if not an integer."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def bool_param(p: JSON, name: str) -> bool:
    """A boolean parameter given as JSON or as form text."""
    return str(p.get(name, False)).lower() in ("true", "1")


def set_optional(obj: JSON, key: str, value: Any) -> None:
    """Set ``key`` when value is non-empty, else remove it (Telegram omits empty fields)."""
    if value:
        obj[key] = value
    else:
        obj.pop(key, None)
