"""A patient's data read out in as few messages as fit Telegram's limit, counted as Telegram counts."""

from __future__ import annotations

from bot.services.privacy import split_message
from flows.render import telegram_length


def test_a_data_export_full_of_emoji_is_split_by_telegram_s_count_of_utf16_units() -> None:
    paragraphs = ["\U0001f600" * 1500, "\U0001f600" * 1500, "\U0001f622" * 3000]
    messages = split_message(paragraphs, limit=4000)
    assert [telegram_length(m) for m in messages] == [3000, 3000, 4000]
    assert messages[2] == "\U0001f622" * 2000, "a too long paragraph is cut, never half an emoji"
