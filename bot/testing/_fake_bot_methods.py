"""Bot API method implementations over an in-memory store of private chats."""

from __future__ import annotations

import copy
import mimetypes
import time
from collections.abc import Callable
from typing import Any

from bot.testing._bot_api_rules import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    ApiError,
    bad_request,
    check_commands,
    check_language_code,
    check_reply_markup,
    format_text,
    image_size,
    photo_dimensions,
    scope_key,
)
from bot.testing._fake_bot_types import JSON, Chat, StoredFile, bool_param, maybe_int, set_optional

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
_WRONG_FILE = "wrong file identifier/HTTP URL specified"


class BotApiMethods:
    """The Bot API methods the fake serves, named exactly like the API's methods."""

    def __init__(self, bot_user: JSON) -> None:
        self.bot_user = bot_user
        self.callback_answers: list[JSON] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.files: dict[str, StoredFile] = {}
        self.uploads: list[StoredFile] = []
        self.sent_count = 0
        self.webhook_url = ""
        self._chats: dict[int, Chat] = {}
        self._updates: list[JSON] = []
        self._open_queries: set[str] = set()
        self._next_serial = 1

    def api_methods(self) -> dict[str, Callable[[JSON], Any]]:
        """Handlers by lower-cased name: Telegram matches method names case-insensitively."""
        handlers: list[Callable[[JSON], Any]] = [
            self.getMe,
            self.setWebhook,
            self.deleteWebhook,
            self.getWebhookInfo,
            self.sendMessage,
            self.editMessageText,
            self.editMessageReplyMarkup,
            self.answerCallbackQuery,
            self.setMyCommands,
            self.getMyCommands,
            self.deleteMyCommands,
            self.sendPhoto,
            self.sendDocument,
            self.deleteMessage,
            self.sendChatAction,
        ]
        return {h.__name__.lower(): h for h in handlers}

    def getMe(self, p: JSON) -> JSON:  # noqa: N802
        """Return the bot's User."""
        return dict(self.bot_user)

    def setWebhook(self, p: JSON) -> bool:  # noqa: N802
        """Store the webhook URL (updates are still only served by getUpdates)."""
        url = str(p.get("url") or "")
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        return True

    def deleteWebhook(self, p: JSON) -> bool:  # noqa: N802
        """Remove the webhook, optionally dropping pending updates."""
        self.webhook_url = ""
        if bool_param(p, "drop_pending_updates"):
            self._updates.clear()
        return True

    def getWebhookInfo(self, p: JSON) -> JSON:  # noqa: N802
        """Return WebhookInfo."""
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def sendMessage(self, p: JSON) -> JSON:  # noqa: N802
        """Send a text message."""
        chat = self._chat(p)
        text, entities = format_text(
            p.get("text"), p.get("parse_mode"), p.get("entities"), limit=TEXT_LIMIT, what="message text"
        )
        markup = check_reply_markup(p.get("reply_markup"))
        reply = self._reply_target(chat, p)
        self._ensure_not_blocked(chat)
        msg = self._store(
            chat, self.bot_user, {"text": text}, entities, "entities", markup=markup, reply=reply
        )
        self.sent_count += 1
        return copy.deepcopy(msg)

    def editMessageText(self, p: JSON) -> JSON:  # noqa: N802
        """Edit a bot message's text; omitting reply_markup removes the keyboard, as on Telegram."""
        chat, msg = self._message_to_edit(p)
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        text, entities = format_text(
            p.get("text"), p.get("parse_mode"), p.get("entities"), limit=TEXT_LIMIT, what="message text"
        )
        markup = check_reply_markup(p.get("reply_markup"))
        self._ensure_not_blocked(chat)
        if (text, entities, markup) == (msg["text"], msg.get("entities", []), msg.get("reply_markup")):
            raise bad_request(_NOT_MODIFIED)
        msg["text"] = text
        set_optional(msg, "entities", entities)
        return self._edited(msg, markup)

    def editMessageReplyMarkup(self, p: JSON) -> JSON:  # noqa: N802
        """Replace (or with no reply_markup remove) a bot message's inline keyboard."""
        chat, msg = self._message_to_edit(p)
        markup = check_reply_markup(p.get("reply_markup"))
        self._ensure_not_blocked(chat)
        if markup == msg.get("reply_markup"):
            raise bad_request(_NOT_MODIFIED)
        return self._edited(msg, markup)

    def answerCallbackQuery(self, p: JSON) -> bool:  # noqa: N802
        """Answer a callback query once; repeated or unknown ids are rejected."""
        query_id = str(p.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise bad_request(_QUERY_INVALID)
        self._open_queries.discard(query_id)
        answer = {"callback_query_id": query_id, "show_alert": bool_param(p, "show_alert")}
        for key in ("text", "url", "cache_time"):
            if p.get(key) is not None:
                answer[key] = p[key]
        self.callback_answers.append(answer)
        return True

    def setMyCommands(self, p: JSON) -> bool:  # noqa: N802
        """Store the command list for (scope, language_code); an empty list deletes it."""
        commands = check_commands(p.get("commands"))
        key = (scope_key(p.get("scope")), check_language_code(p.get("language_code")))
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        return True

    def getMyCommands(self, p: JSON) -> list[dict[str, str]]:  # noqa: N802
        """Return the commands stored for exactly this (scope, language_code)."""
        key = (scope_key(p.get("scope")), check_language_code(p.get("language_code")))
        return copy.deepcopy(self.commands.get(key, []))

    def deleteMyCommands(self, p: JSON) -> bool:  # noqa: N802
        """Delete the commands of this (scope, language_code)."""
        self.commands.pop((scope_key(p.get("scope")), check_language_code(p.get("language_code"))), None)
        return True

    def sendPhoto(self, p: JSON) -> JSON:  # noqa: N802
        """Send a photo given as an upload or a known file_id."""
        return self._send_media(p, "photo")

    def sendDocument(self, p: JSON) -> JSON:  # noqa: N802
        """Send a document given as an upload or a known file_id."""
        return self._send_media(p, "document")

    def deleteMessage(self, p: JSON) -> bool:  # noqa: N802
        """Delete a message from the chat."""
        chat = self._chat(p)
        if chat.messages.pop(maybe_int(p.get("message_id")) or 0, None) is None:
            raise bad_request("message to delete not found")
        return True

    def sendChatAction(self, p: JSON) -> bool:  # noqa: N802
        """Accept a valid chat action."""
        chat = self._chat(p)
        if p.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._ensure_not_blocked(chat)
        return True

    # ------------------------------------------------------------------ method helpers

    def _chat(self, p: JSON) -> Chat:
        """Resolve chat_id to a chat the fake has seen a user in."""
        if p.get("chat_id") in (None, ""):
            raise bad_request("chat_id is empty")
        chat = self._chats.get(maybe_int(p.get("chat_id")) or 0)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    @staticmethod
    def _ensure_not_blocked(chat: Chat) -> None:
        """Refuse to deliver to a user who blocked the bot."""
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _message_to_edit(self, p: JSON) -> tuple[Chat, JSON]:
        """Find the message an edit* call targets."""
        if p.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # inline messages are not simulated
        chat = self._chat(p)
        msg = chat.messages.get(maybe_int(p.get("message_id")) or 0)
        if msg is None:
            raise bad_request("message to edit not found")
        if msg["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return chat, msg

    @staticmethod
    def _reply_target(chat: Chat, p: JSON) -> JSON | None:
        """Resolve reply_parameters / reply_to_message_id to the replied message."""
        given = p.get("reply_parameters")
        params: JSON = given if isinstance(given, dict) else {}
        target = maybe_int(params.get("message_id", p.get("reply_to_message_id")))
        if target is None:
            return None
        msg = chat.messages.get(target)
        allow = params.get("allow_sending_without_reply", p.get("allow_sending_without_reply"))
        if msg is None and str(allow).lower() not in ("true", "1"):
            raise bad_request("message to be replied not found")
        return msg

    def _edited(self, msg: JSON, markup: JSON | None) -> JSON:
        """Finish an edit: set the markup and edit_date and return a copy."""
        set_optional(msg, "reply_markup", markup)
        msg["edit_date"] = int(time.time())
        return copy.deepcopy(msg)

    def _send_media(self, p: JSON, kind: str) -> JSON:
        """Shared body of sendPhoto and sendDocument."""
        chat = self._chat(p)
        stored = self._resolve_file(p, kind)
        caption, entities = format_text(
            p.get("caption"),
            p.get("parse_mode"),
            p.get("caption_entities"),
            limit=CAPTION_LIMIT,
            what="message caption",
            allow_empty=True,
        )
        markup = check_reply_markup(p.get("reply_markup"))
        reply = self._reply_target(chat, p)
        self._ensure_not_blocked(chat)
        content: JSON = (
            {"photo": copy.deepcopy(stored.photo)}
            if kind == "photo"
            else {
                "document": {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_name": stored.file_name,
                    "mime_type": stored.mime_type,
                    "file_size": len(stored.data),
                }
            }
        )
        if caption:
            content["caption"] = caption
        msg = self._store(
            chat, self.bot_user, content, entities, "caption_entities", markup=markup, reply=reply
        )
        self.sent_count += 1
        return copy.deepcopy(msg)

    def _resolve_file(self, p: JSON, kind: str) -> StoredFile:
        """Turn the photo/document parameter (upload, attach:// or file_id) into a StoredFile."""
        value = p.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.get(value[len("attach://") :])
        if value in (None, ""):
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, str):
            known = self.files.get(value)
            if known is None or (kind == "photo") != (known.kind == "photo"):
                # URLs would be downloaded by Telegram; this fake never leaves 127.0.0.1.
                raise bad_request(_WRONG_FILE)
            return known
        if not value.data:
            raise bad_request("file must be non-empty")
        if kind == "document":
            mime = mimetypes.guess_type(value.filename or "")[0] or value.content_type
            stored = self._new_file("document", value.data, file_name=value.filename, mime_type=mime)
        else:
            size = image_size(value.data)
            if not size or not all(size):
                raise bad_request("IMAGE_PROCESS_FAILED")
            if sum(size) > 10000 or max(size) > 20 * min(size):
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
            stored = self._new_file("photo", value.data, size=size)
        self.uploads.append(stored)
        return stored

    def _new_file(
        self,
        kind: str,
        data: bytes = b"",
        *,
        size: tuple[int, int] | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Register a file under fresh ids; photos get Telegram's list of sizes."""
        serial = self._serial()
        stored = StoredFile(f"fake-{kind}-{serial}", f"u{serial}", kind, data, file_name, mime_type)
        for width, height in photo_dimensions(*size) if size else []:
            part = self._serial()
            stored.photo.append(
                {
                    "file_id": f"fake-photo-{serial}-{part}",
                    "file_unique_id": f"u{part}",
                    "width": width,
                    "height": height,
                }
            )
            self.files[stored.photo[-1]["file_id"]] = stored
        if stored.photo and data:
            stored.photo[-1]["file_size"] = len(data)  # only the original's size is known
        self.files[stored.file_id] = stored
        return stored

    def _serial(self) -> int:
        """Next value of a process-wide counter for ids."""
        self._next_serial += 1
        return self._next_serial

    def _store(
        self,
        chat: Chat,
        sender: JSON,
        content: JSON,
        entities: list[JSON],
        entities_key: str,
        *,
        markup: JSON | None = None,
        reply: JSON | None = None,
    ) -> JSON:
        """Append a message to the chat; user and bot messages share one id sequence."""
        msg: JSON = {
            "message_id": chat.next_message_id,
            "from": copy.deepcopy(sender),
            "chat": copy.deepcopy(chat.obj),
            "date": int(time.time()),
            **content,
        }
        chat.next_message_id += 1
        set_optional(msg, entities_key, entities)
        set_optional(msg, "reply_markup", markup)
        if reply is not None:
            replied = copy.deepcopy(reply)
            replied.pop("reply_to_message", None)  # Telegram nests only one level
            msg["reply_to_message"] = replied
        chat.messages[msg["message_id"]] = msg
        return msg
