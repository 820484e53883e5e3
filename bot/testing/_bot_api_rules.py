"""Telegram Bot API validation rules and object shapes used by the fake server."""

from __future__ import annotations

import re
import struct
from typing import Any

# Texts below are the ones the real Bot API answers with (telegram-bot-api / tdlib).
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
_WHITESPACE = " \t\r\n"
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
# Telegram's HTML mode decodes only these named references; others stay literal.
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_REF_RE = re.compile(r"&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);")
_SPECIAL_RE = re.compile(r"[<&]")
_TAG_NAME_RE = re.compile(r"[a-zA-Z0-9-]*")
_ATTR_RE = re.compile(r"""\s*([a-zA-Z0-9_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+)))?""")
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]+")
_LANGUAGE_RE = re.compile(r"(?:[a-z]{2})?")
_LEADING_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,32})?")


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status plus Telegram's description."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """Return the JSON envelope Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """Build a 400 error with Telegram's 'Bad Request: ' prefix."""
    return ApiError(400, f"Bad Request: {detail}")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Telegram length and offset."""
    return len(text.encode("utf-16-le")) // 2


def format_text(
    raw: Any, parse_mode: Any, entities: Any, *, limit: int, what: str, allow_empty: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """Parse markup, trim like Telegram and enforce the length limit; return (text, entities)."""
    raw = "" if raw is None else str(raw)
    mode = str(parse_mode or "").lower()
    if mode == "html":
        text, ents = parse_html(raw)
    elif mode in ("markdown", "markdownv2"):
        # Markdown is not parsed here: the text is kept (and counted) as sent.
        text, ents = raw, []
    elif mode == "":
        text, ents = raw, [dict(e) for e in entities or [] if isinstance(e, dict)]
    else:
        raise bad_request("unsupported parse_mode")
    text, ents = _trim(text, ents)
    if not text and not allow_empty:
        raise bad_request(f"{what} is empty")
    if utf16_len(text) > limit:
        raise bad_request("message is too long" if what == "message text" else f"{what} is too long")
    return text, ents


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace as Telegram does, shifting and clipping entities."""
    stripped = text.strip(_WHITESPACE)
    if stripped == text:
        return text, entities
    shift = utf16_len(text) - utf16_len(text.lstrip(_WHITESPACE))
    size = utf16_len(stripped)
    kept = []
    for ent in entities:
        start = max(int(ent.get("offset", 0)) - shift, 0)
        end = min(int(ent.get("offset", 0)) + int(ent.get("length", 0)) - shift, size)
        if end > start:
            kept.append({**ent, "offset": start, "length": end - start})
    return stripped, kept


def parse_html(raw: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset into plain text and entities, with Telegram's errors."""
    out: list[str] = []
    pos = 0  # UTF-16 length of the plain text produced so far
    stack: list[tuple[str, dict[str, Any] | None, int]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(raw):
        match = _SPECIAL_RE.search(raw, i)
        j = match.start() if match else len(raw)
        if j > i:
            out.append(raw[i:j])
            pos += utf16_len(raw[i:j])
        if j == len(raw):
            break
        if raw[j] == "&":
            ref = _REF_RE.match(raw, j)
            piece = _decode_ref(ref.group(1)) if ref else None
            text, i = (piece, ref.end()) if ref and piece is not None else ("&", j + 1)
            out.append(text)
            pos += utf16_len(text)
            continue
        offset = len(raw[:j].encode("utf-8"))
        end = raw.find(">", j)
        if end < 0:
            raise _entity_error(f"Unclosed start tag at byte offset {offset}")
        body, i = raw[j + 1 : end], end + 1
        if body.startswith("/"):
            name = body[1:].strip().lower()
            if not stack:
                raise _entity_error(f"Unexpected end tag at byte offset {offset}")
            tag, ent, start = stack.pop()
            if name and name != tag:
                raise _entity_error(
                    f'Unmatched end tag at byte offset {offset}, expected "</{tag}>", found "</{name}>"'
                )
            if ent is not None and pos > start:
                entities.append({**ent, "offset": start, "length": pos - start})
            continue
        name = _TAG_NAME_RE.match(body).group(0).lower()  # type: ignore[union-attr]
        if name not in _HTML_TAGS:
            raise _entity_error(f'Unsupported start tag "{name}" at byte offset {offset}')
        attrs = {
            m.group(1).lower(): next((g for g in m.groups()[1:] if g is not None), "")
            for m in _ATTR_RE.finditer(body[len(name) :])
        }
        stack.append((name, _tag_entity(name, attrs, stack, offset), pos))
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _decode_ref(ref: str) -> str | None:
    """Decode one character reference the way Telegram does, or None to keep it literal."""
    if not ref.startswith("#"):
        return _NAMED_REFS.get(ref)
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def _tag_entity(
    name: str, attrs: dict[str, str], stack: list[tuple[str, dict[str, Any] | None, int]], offset: int
) -> dict[str, Any] | None:
    """Return the entity a start tag opens (None when it adds none)."""
    if name == "a":
        # Telegram also normalises the URL; the href is kept as written here.
        return {"type": "text_link", "url": attrs["href"]} if attrs.get("href") else None
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise _entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    if name == "code" and stack and stack[-1][0] == "pre" and attrs.get("class", "").startswith("language-"):
        parent = stack[-1][1]
        if parent is not None:  # <pre><code class="language-x"> is one pre entity with a language
            parent["language"] = attrs["class"][len("language-") :]
        return None
    if name == "blockquote" and "expandable" in attrs:
        return {"type": "expandable_blockquote"}
    if name == "tg-emoji":
        return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
    return {"type": _HTML_TAGS[name]}


def _entity_error(detail: str) -> ApiError:
    """Build the 'can't parse entities' error Telegram gives for bad markup."""
    return bad_request(f"can't parse entities: {detail}")


def check_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Validate reply_markup; return the inline keyboard Telegram echoes in the Message, if any."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return None  # reply keyboards and force_reply are applied but never echoed in a Message
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
            data = button.get("callback_data")
            if data is not None:
                if len(str(data).encode("utf-8")) > CALLBACK_DATA_LIMIT:
                    raise bad_request("BUTTON_DATA_INVALID")
            elif not any(key in button for key in _BUTTON_ACTIONS):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
    return markup if any(rows) else None


def check_commands(commands: Any) -> list[dict[str, str]]:
    """Validate and normalise a setMyCommands list as Telegram does."""
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    result = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("command must be non-empty")
        name = str(item.get("command", "")).strip()
        name = name[1:] if name.startswith("/") else name
        description = str(item.get("description", "")).strip()
        if not name:
            raise bad_request("command must be non-empty")
        if len(name) > 32:
            raise bad_request("command length must not exceed 32")
        if not description:
            raise bad_request("command description must be non-empty")
        if len(description) > 256:
            raise bad_request("command description length must not exceed 256")
        if not _COMMAND_NAME_RE.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        result.append({"command": name, "description": description})
    if len(result) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    return result


def check_language_code(code: Any) -> str:
    """Return a valid language code ('' or two lowercase letters) or raise Telegram's error."""
    text = "" if code is None else str(code)
    if not _LANGUAGE_RE.fullmatch(text):
        raise bad_request("invalid language code specified")
    return text


def scope_key(scope: Any) -> str:
    """Key commands by scope type, plus the chat/user for chat-bound scopes."""
    if not isinstance(scope, dict) or not scope.get("type"):
        return "default"
    parts = [str(scope["type"])] + [str(scope[k]) for k in ("chat_id", "user_id") if k in scope]
    return ":".join(parts)


def command_entities(text: str) -> list[dict[str, Any]]:
    """Return the bot_command entity Telegram adds when a text starts with a command."""
    match = _LEADING_COMMAND_RE.match(text)
    if not match:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]


def image_size(data: bytes) -> tuple[int, int] | None:
    """Read (width, height) from PNG, GIF or JPEG bytes; None if not a readable image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 <= len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


def photo_dimensions(width: int, height: int) -> list[tuple[int, int]]:
    """Sizes Telegram generates for a photo: thumbnails up to the original, longest side <= 2560."""
    sizes: list[tuple[int, int]] = []
    for side in (90, 320, 800, 1280, 2560):
        scale = min(1.0, side / max(width, height))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if size not in sizes:
            sizes.append(size)
        if scale == 1.0:
            break
    return sizes
