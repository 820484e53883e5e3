"""What start-up needs from outside (Telegram, the database, the port) and the one line an
operator reads when it is not there: what is wrong and what to do, never a secret."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.entrypoints.config import Settings, StartupError
from bot.entrypoints.telegram import api_root
from bot.services.appointments import NO_BOT_USERNAME
from bot.services.clinics import ClinicService

log = logging.getLogger(__name__)
__all__ = ["StartupError", "ask_username", "check_web_secret", "invite_username", "telegram_problem"]
TELEGRAM = "https://api.telegram.org"
ASK_SECONDS = 10.0  # how long the command line waits for Telegram's getMe
UNSHARED_SESSIONS = (
    "VERTEBROBOT_WEB_SECRET is not set, and the clinic web page (VERTEBROBOT_WEB_URL) is served by "
    "instances sharing a PostgreSQL database: its sessions would work on one instance only and end at "
    "every restart; set VERTEBROBOT_WEB_SECRET to the same long random value on every instance "
    "(e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'), then start again"
)


def telegram_problem(error: TelegramError, settings: Settings) -> str:
    """What a failed call to the Bot API at start-up means for the operator, without the token."""
    where = urlsplit(settings.telegram_api_base_url or TELEGRAM)
    server = f"{where.scheme}://{where.netloc}"
    if isinstance(error, InvalidToken):
        return (
            "Telegram does not accept TELEGRAM_BOT_TOKEN (Unauthorized): copy the bot's token again "
            "from @BotFather (/mybots, API Token) and set TELEGRAM_BOT_TOKEN to it"
        )
    said = str(error).replace(settings.telegram_bot_token or "\0", "<token>")
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return (
            f"cannot reach the Telegram Bot API at {server} ({said}): check the network connection, "
            "proxy and firewall (and TELEGRAM_API_BASE_URL, if set), then start again"
        )
    return f"the Telegram Bot API at {server} answered: {said}; check TELEGRAM_API_BASE_URL and the token"


async def ask_username(settings: Settings) -> str:
    """The bot's username, from Telegram's getMe for TELEGRAM_BOT_TOKEN; StartupError if it cannot say."""
    assert settings.telegram_bot_token
    base = settings.telegram_api_base_url
    bot = Bot(
        settings.telegram_bot_token,
        base_url=f"{api_root(base)}/bot" if base else f"{TELEGRAM}/bot",
        request=HTTPXRequest(connect_timeout=ASK_SECONDS, read_timeout=ASK_SECONDS),
    )
    try:
        async with bot:  # initialising a Bot is its getMe
            return bot.username
    except TelegramError as error:
        raise StartupError(telegram_problem(error, settings)) from None


async def invite_username(settings: Settings, service: ClinicService) -> str:
    """The username invite links name: TELEGRAM_BOT_USERNAME, else TELEGRAM_BOT_TOKEN's bot as
    Telegram's getMe says (remembered for later), else the one Telegram last gave; StartupError
    when none of them can say."""
    if settings.bot_username:
        service.bot_username = settings.bot_username
        return settings.bot_username
    unasked = NO_BOT_USERNAME
    if settings.telegram_bot_token:
        try:
            username = await ask_username(settings)
        except StartupError as exc:
            unasked = f"no invite link: {exc}; or set TELEGRAM_BOT_USERNAME"
        else:
            await service.learn_bot_username(username)
            return username
    remembered = await service.remembered_bot_username()
    if remembered is None:
        raise StartupError(unasked)
    if unasked is not NO_BOT_USERNAME:
        log.warning("Telegram could not be asked; invite links name @%s, as Telegram said before", remembered)
    service.bot_username = remembered
    return remembered


def check_web_secret(settings: Settings, *, shared: bool) -> None:
    """The key of the clinic web page's session cookies: VERTEBROBOT_WEB_SECRET, required when the
    page is set up (VERTEBROBOT_WEB_URL) on a database several instances share (StartupError);
    otherwise, when unset, a key of this process, and one log line says what that means."""
    if settings.web_secret:
        return
    if shared and settings.web_url:
        raise StartupError(UNSHARED_SESSIONS)
    log.info(
        "VERTEBROBOT_WEB_SECRET is not set: clinic web page sessions are signed with this process's own "
        "key and end when it restarts%s",
        " (and work only on this instance)" if shared else "",
    )
