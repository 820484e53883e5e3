"""The fake Bot API answers the real python-telegram-bot client the way Telegram does."""

from __future__ import annotations

import asyncio
import datetime as dtm
import struct
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Bot, BotCommand, BotCommandScopeChat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from bot.testing.fake_bot_api import FakeBotAPI

TOKEN = "4242:TEST-TOKEN"
CHAT = 1001


class FakeClock:
    """A manually advanced monotonic clock for the rate limiter."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=server.base_url) as client:
        yield client


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d.upper(), callback_data=d) for d in data]])


def tiny_png(width: int, height: int) -> bytes:
    """A valid grayscale PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def test_get_me_describes_the_bot(bot: Bot, server: FakeBotAPI) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (4242, True, "fake_test_bot")
    assert server.calls[0][0] == "getMe"


async def test_raw_http_envelopes_match_telegram(server: FakeBotAPI) -> None:
    server.user_sends_text(CHAT, "hello")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.base_url}0:WRONG/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.post(f"{server.base_url}not-a-token/getMe") as resp:
            assert resp.status == 404  # malformed tokens get 404, as on Telegram
        async with http.post(f"{server.base_url}{TOKEN}/noSuchMethod") as resp:
            assert resp.status == 404
            assert (await resp.json())["description"] == "Not Found"
        # JSON body, method name in another case, reply_markup as an object
        payload = {
            "chat_id": CHAT,
            "text": "x",
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
        }
        async with http.post(f"{server.base_url}{TOKEN}/SENDMESSAGE", json=payload) as resp:
            body = await resp.json()
        # query string with reply_markup as a JSON string
        async with http.get(
            f"{server.base_url}{TOKEN}/sendMessage",
            params={"chat_id": str(CHAT), "text": "", "reply_markup": "{}"},
        ) as resp:
            empty = await resp.json()
    assert body["ok"] is True
    assert body["result"]["message_id"] == 2
    assert body["result"]["reply_markup"] == payload["reply_markup"]
    assert empty == {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}


async def test_inline_keyboard_round_trip(bot: Bot, server: FakeBotAPI) -> None:
    server.user_sends_text(CHAT, "/start")
    sent = await bot.send_message(CHAT, "Pick one", reply_markup=keyboard("a", "b"))
    assert sent.message_id == 2  # user and bot messages share the chat's id sequence
    assert sent.from_user is not None
    assert sent.from_user.is_bot
    assert sent.reply_markup == keyboard("a", "b")

    query_id = server.user_presses(CHAT, sent.message_id, "b")
    updates = await bot.get_updates(offset=0, timeout=0)
    press = updates[-1].callback_query
    assert press is not None
    assert (press.id, press.data) == (query_id, "b")
    assert press.message is not None
    assert press.message.message_id == sent.message_id

    assert await bot.answer_callback_query(query_id, text="Chosen")
    assert server.callback_answers == [{"callback_query_id": query_id, "show_alert": False, "text": "Chosen"}]
    with pytest.raises(
        BadRequest, match="Query is too old and response timeout expired or query id is invalid"
    ):
        await bot.answer_callback_query(query_id)
    assert [m["message_id"] for m in server.messages(CHAT)] == [1, 2]


async def test_telegram_limits_give_bad_request(bot: Bot, server: FakeBotAPI) -> None:
    server.user_sends_text(CHAT, "hi")
    with pytest.raises(BadRequest) as too_long:
        await bot.send_message(CHAT, "x" * 4097)
    assert too_long.value.message == "Message is too long"
    await bot.send_message(CHAT, "\U0001f600" * 2048)  # 4096 UTF-16 code units: still allowed
    with pytest.raises(BadRequest) as astral:
        await bot.send_message(CHAT, "\U0001f600" * 2049)
    assert astral.value.message == "Message is too long"
    with pytest.raises(BadRequest) as data:
        await bot.send_message(CHAT, "keys", reply_markup=keyboard("d" * 65))
    assert data.value.message == "Button_data_invalid"  # PTB capitalises Telegram's BUTTON_DATA_INVALID
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "nobody here")
    assert server.sent_count == 1


async def test_html_is_parsed_into_entities(bot: Bot, server: FakeBotAPI) -> None:
    server.user_sends_text(CHAT, "hi")
    sent = await bot.send_message(CHAT, " <b>bold</b> &lt;tag&gt; ", parse_mode="HTML")
    assert sent.text == "bold <tag>"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 4)]
    with pytest.raises(BadRequest, match="find end tag corresponding to start tag"):
        await bot.send_message(CHAT, "<b>open", parse_mode="HTML")


async def test_edit_not_modified_and_keyboard_removal(bot: Bot, server: FakeBotAPI) -> None:
    server.user_sends_text(CHAT, "hi")
    sent = await bot.send_message(CHAT, "Menu", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest) as same:
        await bot.edit_message_text(
            "Menu", chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard("a")
        )
    assert same.value.message.startswith("Message is not modified: specified new message content")
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=99)
    edited = await bot.edit_message_text("Menu", chat_id=CHAT, message_id=sent.message_id)
    assert not isinstance(edited, bool)
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # no reply_markup in an edit removes the keyboard
    stored = server.last_bot_message(CHAT)
    assert stored is not None
    assert "reply_markup" not in stored
    assert "edit_date" in stored
    marked = await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard("z"))
    assert marked.reply_markup == keyboard("z")  # type: ignore[union-attr]


async def test_long_poll_delivers_text_and_press(bot: Bot, server: FakeBotAPI) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for(lambda: any(name == "getUpdates" for name, _ in server.calls))
    started = asyncio.get_running_loop().time()
    server.user_sends_text(CHAT, "/start now")
    updates = await poll
    assert asyncio.get_running_loop().time() - started < 1.0  # woken, not timed out
    message = updates[0].message
    assert message is not None
    assert message.text == "/start now"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]

    reply = await bot.send_message(CHAT, "Choose", reply_markup=keyboard("yes"))
    query_id = server.user_presses(CHAT, reply.message_id, "yes")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
    assert [u.update_id for u in updates] == [2]
    assert updates[0].callback_query is not None
    assert updates[0].callback_query.id == query_id
    assert await bot.get_updates(offset=3, timeout=0) == ()  # confirmed updates are gone
    assert server.pending_updates == []


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    assert await bot.get_updates(timeout=1) == ()


async def test_commands_are_stored_per_scope_and_language(bot: Bot, server: FakeBotAPI) -> None:
    server.user_sends_text(CHAT, "hi")
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("start", "Starten")], language_code="de")
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(CHAT))
    assert server.commands[("default", "")][1] == {"command": "help", "description": "Help"}
    assert server.commands[("default", "de")] == [{"command": "start", "description": "Starten"}]
    assert server.commands[(f"chat:{CHAT}", "")] == [{"command": "admin", "description": "Admin"}]
    assert [c.description for c in await bot.get_my_commands(language_code="de")] == ["Starten"]
    assert await bot.get_my_commands(language_code="fr") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "Start")])
    with pytest.raises(BadRequest, match="Invalid language code specified"):
        await bot.set_my_commands([BotCommand("start", "Start")], language_code="eng")
    await bot.delete_my_commands(language_code="de")
    assert ("default", "de") not in server.commands


async def test_rate_limit_answers_429_with_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22 otherwise warns when reading retry_after
    clock = FakeClock()
    async with FakeBotAPI(token=TOKEN, per_chat_rate=1, global_rate=30, clock=clock) as server:
        server.user_sends_text(CHAT, "hi")
        async with Bot(TOKEN, base_url=server.base_url) as bot:
            await bot.send_message(CHAT, "one")
            with pytest.raises(RetryAfter) as limited:
                await bot.send_message(CHAT, "two")
            assert limited.value.retry_after == dtm.timedelta(seconds=1)
            clock.now += 1.0
            await bot.send_message(CHAT, "two")

            server.fail_next("sendMessage", status=429, retry_after=7)
            with pytest.raises(RetryAfter) as injected:
                await bot.send_message(CHAT, "three")
            assert injected.value.retry_after == dtm.timedelta(seconds=7)
            server.fail_next("sendMessage")
            with pytest.raises(NetworkError, match="Internal Server Error"):
                await bot.send_message(CHAT, "three")
    assert server.too_many_requests == 2
    assert [m.get("text") for m in server.bot_messages(CHAT)] == ["one", "two"]


async def test_error_rate_answers_bad_gateway_without_sending(server: FakeBotAPI, bot: Bot) -> None:
    server.user_sends_text(CHAT, "hi")
    server.error_rate = 1.0
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(CHAT, "lost")
    assert server.bot_messages(CHAT) == []
    assert server.sent_count == 0


async def test_blocked_user_gives_forbidden(bot: Bot, server: FakeBotAPI) -> None:
    server.user_sends_text(CHAT, "hi")
    server.user_blocks_bot(CHAT)
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(CHAT, "still there?")
    updates = await bot.get_updates(timeout=0)
    change = updates[-1].my_chat_member  # Telegram reports the block as a member update
    assert change is not None
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("member", "kicked")
    server.user_sends_text(CHAT, "/start")  # writing again means the user unblocked the bot
    assert (await bot.send_message(CHAT, "welcome back")).message_id == 3


async def test_user_media_updates_parse_in_ptb(bot: Bot, server: FakeBotAPI) -> None:
    server.user_sends_sticker(CHAT)
    server.user_sends_photo(CHAT, caption="look")
    sticker_update, photo_update = await bot.get_updates(timeout=0)
    assert sticker_update.message is not None
    assert sticker_update.message.sticker is not None
    assert photo_update.message is not None
    assert photo_update.message.caption == "look"
    assert max(p.width for p in photo_update.message.photo) == 1280
    again = await bot.send_photo(CHAT, photo_update.message.photo[-1].file_id)  # bots may re-send it
    assert again.photo[-1].file_id == photo_update.message.photo[-1].file_id


async def test_a_newer_get_updates_terminates_the_older(bot: Bot, server: FakeBotAPI) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_for(lambda: any(name == "getUpdates" for name, _ in server.calls))
    async with Bot(TOKEN, base_url=server.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await older


async def test_uploads_are_stored(bot: Bot, server: FakeBotAPI) -> None:
    server.user_sends_text(CHAT, "hi")
    doc = await bot.send_document(CHAT, document=b"a,b\n1,2\n", filename="report.csv", caption="Report")
    assert doc.document is not None
    assert (doc.document.file_name, doc.document.mime_type) == ("report.csv", "text/csv")
    assert doc.caption == "Report"
    assert server.uploads[-1].data == b"a,b\n1,2\n"
    photo = await bot.send_photo(CHAT, photo=tiny_png(400, 100))
    assert [(p.width, p.height) for p in photo.photo] == [(90, 22), (320, 80), (400, 100)]
    again = await bot.send_photo(CHAT, photo=photo.photo[-1].file_id)  # re-send by file_id
    assert again.photo[-1].file_id == photo.photo[-1].file_id
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(CHAT, photo=b"not an image")
    assert server.sent_count == 3
    assert len(server.uploads) == 2


async def test_real_application_answers_start(server: FakeBotAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("hi")

    app = ApplicationBuilder().token(TOKEN).base_url(server.base_url).build()
    app.add_handler(CommandHandler("start", start))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        server.user_sends_text(CHAT, "/start")
        replies = await server.wait_for_bot_messages(CHAT, 1, timeout=5)
        assert replies[0]["text"] == "hi"
        assert [m["message_id"] for m in server.messages(CHAT)] == [1, 2]
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert server.pending_updates == []  # the updater confirmed what it handled


async def test_wait_for_times_out_with_context(server: FakeBotAPI) -> None:
    with pytest.raises(TimeoutError, match=r"never not met within 0\.05s"):
        await server.wait_for(lambda: False, timeout=0.05, what="never")
