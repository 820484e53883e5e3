"""The user's side of the fake Bot API: a simulated user writes, sends stickers and photos,
presses buttons, blocks the bot; each queues the update Telegram would deliver. A part of
FakeBotAPI (which inherits it)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

from bot.testing._bot_api_rules import command_entities
from bot.testing._fake_bot_types import JSON, Chat, StoredFile


class FakeUsers:
    """Helpers tests call to play the user; they only queue updates and store messages."""

    _chats: dict[int, Chat]
    _open_queries: set[str]
    _updates: list[JSON]
    _next_update_id: int
    bot_user: JSON
    _new_file: Callable[..., StoredFile]
    _serial: Callable[[], int]
    _store: Callable[..., JSON]

    def _notify(self) -> None:
        raise NotImplementedError

    def user_sends_text(
        self,
        chat_id: int,
        text: str,
        *,
        language_code: str = "en",
        first_name: str = "Test",
        date: int | None = None,
    ) -> JSON:
        """Simulate the user sending a text; a leading /command gets its bot_command entity.
        `date`: when the user sent it (seconds since the epoch; now if not given)."""
        return self._user_message(
            chat_id,
            {"text": text},
            command_entities(text),
            language_code=language_code,
            first_name=first_name,
            date=date,
        )

    def user_sends_sticker(
        self, chat_id: int, *, language_code: str = "en", first_name: str = "Test"
    ) -> JSON:
        """Simulate the user sending a sticker."""
        stored = self._new_file("sticker")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "\U0001f44d",
        }
        return self._user_message(
            chat_id, {"sticker": sticker}, [], language_code=language_code, first_name=first_name
        )

    def user_sends_photo(
        self, chat_id: int, *, caption: str | None = None, language_code: str = "en", first_name: str = "Test"
    ) -> JSON:
        """Simulate the user sending a 1280x960 photo."""
        content: JSON = {"photo": copy.deepcopy(self._new_file("photo", size=(1280, 960)).photo)}
        if caption:
            content["caption"] = caption
        return self._user_message(chat_id, content, [], language_code=language_code, first_name=first_name)

    def user_presses(
        self, chat_id: int, message_id: int, callback_data: str, *, language_code: str = "en"
    ) -> str:
        """Simulate pressing an inline button (any data may be forged); return the query id."""
        chat = self._chats.get(chat_id)
        msg = chat.messages.get(message_id) if chat else None
        if chat is None or msg is None:
            raise LookupError(f"no message {message_id} in chat {chat_id} to press a button on")
        query_id = str(4_000_000_000_000_000 + self._serial())
        self._open_queries.add(query_id)
        self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": self._user(chat, language_code),
                "message": copy.deepcopy(msg),
                "chat_instance": str(chat_id * 1_000_003 + self.bot_user["id"]),
                "data": callback_data,
            },
        )
        return query_id

    def user_blocks_bot(self, chat_id: int) -> None:
        """Simulate the user blocking the bot; Telegram reports it as a my_chat_member update."""
        chat = self._user_chat(chat_id, None)
        if not chat.blocked:
            chat.blocked = True
            self._enqueue("my_chat_member", self._member_change(chat, "member", "kicked"))

    def _user_message(
        self,
        chat_id: int,
        content: JSON,
        entities: list[JSON],
        *,
        language_code: str,
        first_name: str,
        date: int | None = None,
    ) -> JSON:
        """Store a user message and queue its update."""
        chat = self._user_chat(chat_id, first_name)
        if chat.blocked:  # a user has to unblock the bot before writing to it
            chat.blocked = False
            self._enqueue("my_chat_member", self._member_change(chat, "kicked", "member"))
        msg = self._store(chat, self._user(chat, language_code), content, entities, "entities")
        if date is not None:
            msg["date"] = date
        self._enqueue("message", copy.deepcopy(msg))
        return copy.deepcopy(msg)

    def queue_raw_update(self, kind: str, payload: JSON) -> int:
        """Queue an update exactly as given, even one a library cannot read (Telegram has sent
        messages without `date`); returns its update id."""
        update_id = self._next_update_id
        self._enqueue(kind, copy.deepcopy(payload))
        return update_id

    def user_has_started(self, chat_id: int) -> None:
        """A user who opened the bot earlier: the bot may message them, with no update queued."""
        self._user_chat(chat_id, None)

    def _user_chat(self, chat_id: int, first_name: str | None) -> Chat:
        """Get or create the private chat of a simulated user, updating their name if given."""
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = Chat({"id": chat_id, "type": "private", "first_name": "Test"})
        if first_name is not None:
            chat.obj["first_name"] = first_name
        return chat

    @staticmethod
    def _user(chat: Chat, language_code: str) -> JSON:
        """The User object of a private chat's user."""
        return {
            "id": chat.obj["id"],
            "is_bot": False,
            "first_name": chat.obj["first_name"],
            "language_code": language_code,
        }

    def _member_change(self, chat: Chat, old: str, new: str) -> JSON:
        """A ChatMemberUpdated for the bot's status in a private chat."""

        def member(status: str) -> JSON:
            # Telegram gives a "kicked" member its until_date (0: for ever), old or new.
            until = {"until_date": 0} if status == "kicked" else {}
            return {"status": status, "user": dict(self.bot_user), **until}

        return {
            "chat": copy.deepcopy(chat.obj),
            "from": self._user(chat, "en"),
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }

    def _enqueue(self, kind: str, payload: JSON) -> None:
        """Queue an update and wake long pollers."""
        self._updates.append({"update_id": self._next_update_id, kind: payload})
        self._next_update_id += 1
        self._notify()
