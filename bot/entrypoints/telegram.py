"""The Telegram adapter: updates become events, replies become messages and keyboards."""

from __future__ import annotations

import contextlib
import logging

from telegram import (
    BotCommand,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.entrypoints.flood_gate import add_flood_gate
from bot.entrypoints.telegram_limits import BudgetLimiter
from bot.entrypoints.telegram_observed import (
    METRICS_KEY,
    ObservedRequest,
    ObservedUpdatesRequest,
    counted,
    metrics_of,
    observer,
)
from bot.services.flood import FloodGuard
from bot.services.health import Health
from bot.services.metrics import Metrics
from bot.services.ratelimit import SendBudget
from bot.services.service import GuideService, Handled, Incoming
from flows.content import BASE_LOCALE
from flows.engine import Event
from flows.render import RenderedMessage

log = logging.getLogger(__name__)

# The patient's command menu; each description is the label `cmd.<name>` in the patient's language.
COMMANDS = ("start", "menu", "reminders", "pain", "language", "mydata", "forget", "help")
# Staff commands work for approved staff only and are not shown in patients' command menu.
SERVICE_KEY = "guide_service"


SHARED_ROW = 6  # buttons of a number or two (pain scores 0-10) share a row, this many at most


def keyboard(message: RenderedMessage) -> InlineKeyboardMarkup | None:
    """One button a row, easier to hit with a shaky finger; only number buttons share rows."""
    if not message.buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    sharing = False  # whether the last row is a row of number buttons
    for button in message.buttons:
        key = InlineKeyboardButton(button.label, callback_data=button.data)
        small = button.compact and len(button.label) <= 2
        if small and sharing and len(rows[-1]) < SHARED_ROW:
            rows[-1].append(key)
        else:
            rows.append([key])
        sharing = small
    return InlineKeyboardMarkup(rows)


def _incoming(update: Update, event: Event) -> Incoming | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return None
    return Incoming(user.id, chat.id, user.language_code, event)


def _service_of(app: Application) -> GuideService:  # type: ignore[type-arg]
    service: GuideService = app.bot_data[SERVICE_KEY]
    return service


def _service(context: ContextTypes.DEFAULT_TYPE) -> GuideService:
    service: GuideService = context.bot_data[SERVICE_KEY]
    return service


async def _send(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, handled: Handled, pressed: Message | None
) -> None:
    sent = metrics_of(context).sent
    if handled.warning_sign:
        metrics_of(context).warning_signs.inc()
    if handled.clear_buttons and pressed is not None:
        with contextlib.suppress(BadRequest):  # already without buttons: nothing to clear
            await pressed.edit_reply_markup(reply_markup=None)
    for message in handled.messages:
        markup = keyboard(message)
        if message.edit and pressed is not None:
            try:
                await pressed.edit_text(message.text, reply_markup=markup)
                sent.labels("reply").inc()
                continue
            except BadRequest as exc:
                if "not modified" in exc.message:
                    continue
                # Too old or deleted: a new message serves the patient just as well.
                log.info("edit failed in chat %s (%s); sending a new message", chat_id, exc.message)
        await context.bot.send_message(chat_id, message.text, reply_markup=markup)
        sent.labels("reply").inc()
    for chat, text in handled.alerts:
        try:
            await context.bot.send_message(chat, text)
            sent.labels("alert").inc()
        except TelegramError as exc:  # the patient's answer must not fail because an alert did
            log.error("alert to staff chat %s failed: %s", chat, type(exc).__name__)
    for document in handled.documents:
        file = InputFile(document.data, filename=document.filename)
        if document.photo:
            await context.bot.send_photo(chat_id, file, caption=document.caption)
        else:
            await context.bot.send_document(chat_id, file, caption=document.caption)
        sent.labels("reply").inc()


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Commands (/start, /menu, /help and unknown ones)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    command, _, argument = message.text.partition(" ")
    name = command.lstrip("/").split("@")[0].lower()
    incoming = _incoming(update, Event("command", name, argument=argument.strip()[:200]))
    if incoming is not None:
        await _send(context, incoming.chat_id, await _service(context).handle(incoming), None)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Button presses: checked against the user's current state by the engine."""
    query = update.callback_query
    if query is None:
        return
    incoming = _incoming(update, Event("button", query.data or ""))
    if incoming is None:
        await query.answer()
        return
    handled = await _service(context).handle(incoming)
    await query.answer(handled.notice)
    pressed = query.message if isinstance(query.message, Message) else None
    await _send(context, incoming.chat_id, handled, pressed)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text: warning signs first, otherwise a pointer back to the buttons."""
    message = update.effective_message
    if message is None:
        return
    incoming = _incoming(update, Event("text", message.text or ""))
    if incoming is not None:
        await _send(context, incoming.chat_id, await _service(context).handle(incoming), None)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes and the rest: a kind answer, never silence."""
    message = update.effective_message
    caption = message.caption if message is not None else None
    # A caption is read like a typed message, so "my legs went numb" under a photo is heard.
    incoming = _incoming(update, Event("text", caption) if caption else Event("other"))
    if incoming is not None:
        await _send(context, incoming.chat_id, await _service(context).handle(incoming), None)


async def on_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The patient blocked the bot (Telegram says "kicked") or unblocked it, in their private chat."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    if status == ChatMember.BANNED:
        await _service(context).blocked(change.from_user.id, True)
    elif status == ChatMember.MEMBER and change.old_chat_member.status == ChatMember.BANNED:
        await _service(context).blocked(change.from_user.id, False)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure by update id and type only: no texts, no names."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed: %s", update_id, type(context.error).__name__, exc_info=context.error)


async def register_commands(app: Application) -> None:  # type: ignore[type-arg]
    """Show the commands in Telegram's menu button, in each language the content has."""
    renderer = _service_of(app).renderer
    for code in sorted(renderer.content.locales):
        commands = [BotCommand(name, renderer.text(f"cmd.{name}", code)) for name in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=code)
        if code == BASE_LOCALE:  # and for every language we have no texts in
            await app.bot.set_my_commands(commands)


def add_handlers(app: Application, service: GuideService) -> None:  # type: ignore[type-arg]
    """Wire the guide's handlers into an Application."""
    app.bot_data[SERVICE_KEY] = service
    private = filters.ChatType.PRIVATE
    app.bot_data.setdefault(METRICS_KEY, Metrics())
    command = counted("command", on_command)
    app.add_handler(CommandHandler(list(COMMANDS), command, filters=private))
    app.add_handler(MessageHandler(filters.COMMAND & private, command))
    app.add_handler(CallbackQueryHandler(counted("button", on_button)))
    app.add_handler(ChatMemberHandler(counted("member", on_member), ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, counted("text", on_text)))
    app.add_handler(
        MessageHandler(~filters.TEXT & ~filters.StatusUpdate.ALL & private, counted("other", on_other))
    )
    app.add_error_handler(on_error)


def api_root(base_url: str) -> str:
    """TELEGRAM_API_BASE_URL without the `/bot` the library appends the token to."""
    return base_url.rstrip("/").removesuffix("/bot")


def build_application(
    token: str,
    service: GuideService,
    *,
    base_url: str | None = None,
    budget: SendBudget | None = None,
    flood: FloodGuard | None = None,
    metrics: Metrics | None = None,
    health: Health | None = None,
) -> Application:  # type: ignore[type-arg]
    """The python-telegram-bot Application for the guide; every send takes a turn of `budget`;
    `flood` guards it against a user's flood; what it handles and sends is counted in `metrics`,
    each answer from Telegram told to `health`."""
    # A second connection for getUpdates: on shutdown during a long poll, the final call that
    # confirms fetched updates must not wait for the first one (PTB logs an error otherwise).
    # It skips updates the library cannot read, so one bad update never stops polling.
    metrics = metrics or Metrics()
    observe = observer(metrics, health)
    builder = (
        ApplicationBuilder()
        .token(token)
        .request(ObservedRequest(connection_pool_size=256, observe=observe))
        .get_updates_request(ObservedUpdatesRequest(connection_pool_size=2, observe=observe))
    )
    if base_url:
        root = api_root(base_url)
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    app = builder.rate_limiter(BudgetLimiter(budget or SendBudget())).build()
    app.bot_data[METRICS_KEY] = metrics
    if flood is not None:
        add_flood_gate(app, flood, service)
    add_handlers(app, service)
    return app


async def start_polling(app: Application, *, poll_timeout: int = 10) -> None:  # type: ignore[type-arg]
    """Initialise, register the commands, and start fetching updates."""
    await app.initialize()
    await register_commands(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)


async def stop_polling(app: Application) -> None:  # type: ignore[type-arg]
    """Stop fetching updates, finish the ones in hand, and shut down."""
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
