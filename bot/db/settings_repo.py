"""What the bot keeps about itself, by key (its Telegram username), inside the caller's transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exc, insert, select, update
from sqlalchemy.engine import Connection

from bot.db.tables import BOT_SETTINGS

BOT_USERNAME = "telegram_bot_username"


class BotSettings:
    """Keyed values the bot learned, read and written inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> str | None:
        """The value kept under `key`, or None."""
        return self.conn.execute(select(BOT_SETTINGS.c.value).where(BOT_SETTINGS.c.key == key)).scalar()

    def put(self, key: str, value: str, now: dt.datetime) -> None:
        """Keep `value` under `key`, replacing what was there."""
        changed = update(BOT_SETTINGS).where(BOT_SETTINGS.c.key == key).values(value=value, updated_at=now)
        if self.conn.execute(changed).rowcount:
            return
        try:
            with self.conn.begin_nested():  # another instance may insert the same key at once
                self.conn.execute(insert(BOT_SETTINGS).values(key=key, value=value, updated_at=now))
        except exc.IntegrityError:
            self.conn.execute(changed)
