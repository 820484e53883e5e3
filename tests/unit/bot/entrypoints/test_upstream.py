"""Updates the library cannot read, read by id only; library log lines without payloads or the token."""

from __future__ import annotations

import logging

import pytest
from telegram import Bot, Update

from bot.entrypoints.upstream import LogGuard, read_update

TOKEN = "123456:SECRET-part-of-the-token"  # a fake token
NO_DATE = {
    "update_id": 41,
    "message": {
        "message_id": 1,
        "chat": {"id": 5, "type": "private", "first_name": "Ivan"},
        "text": "the pain went down my leg",
    },
}


def guarded(name: str, msg: str, *args: object, exc: BaseException | None = None) -> str:
    guard = LogGuard()
    guard.tokens.add(TOKEN)
    record = logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, None)
    assert guard.filter(record)
    return logging.Formatter().format(record)


def test_a_webhook_update_without_date_is_none_and_logged_by_id_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    assert read_update(NO_DATE, Bot(TOKEN)) is None
    assert caplog.messages == ["update 41 could not be read (KeyError); skipped"]


def test_a_readable_webhook_update_is_read_whole() -> None:
    data = {"update_id": 42, "message": {**NO_DATE["message"], "date": 1}}  # type: ignore[dict-item]
    update = read_update(data, Bot(TOKEN))
    assert update is not None
    assert update.message is not None
    assert update.message.text == "the pain went down my leg"


def test_a_library_line_with_an_update_shows_only_its_id() -> None:
    update = Update.de_json({**NO_DATE, "message": {**NO_DATE["message"], "date": 1}}, None)  # type: ignore[dict-item]
    assert guarded("telegram.ext.Application", "Processing update %s", update) == "Processing update 41"


def test_a_library_line_with_raw_data_withholds_it() -> None:
    line = guarded("telegram.ext.ExtBot", "Received data was %r", [NO_DATE])
    assert line == "Received data was '<withheld>'"


def test_the_token_is_cut_out_of_urls_and_tracebacks() -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    line = guarded("httpx", "HTTP Request: %s %s", "POST", url, exc=ValueError(f"failed for {url}"))
    assert TOKEN not in line
    assert "HTTP Request: POST https://api.telegram.org/bot<token>/getUpdates" in line


def test_our_own_lines_keep_their_words() -> None:
    assert guarded("bot.services.dispatcher", "reminder %s (%s) sent", 3, "fasting food") == (
        "reminder 3 (fasting food) sent"
    )
