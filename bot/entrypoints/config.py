"""Settings from the environment (and a `.env` file), in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///vertebrobot.db"


class Settings(BaseSettings):
    """Everything an operator can set; see the README's configuration table."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    telegram_bot_token: str | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str | None = Field(default=None, alias="TELEGRAM_API_BASE_URL")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    content_dir: Path | None = Field(default=None, alias="VERTEBROBOT_CONTENT_DIR")
    clinic_file: Path | None = Field(default=None, alias="VERTEBROBOT_CLINIC_FILE")
    log_level: str = Field(default="INFO", alias="VERTEBROBOT_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(default="text", alias="VERTEBROBOT_LOG_FORMAT")
    bot_username: str = Field(default="vertebrobot", alias="TELEGRAM_BOT_USERNAME")

    @field_validator(
        "content_dir", "clinic_file", "telegram_bot_token", "telegram_api_base_url", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `export X=` in a shell means "not set", not "the current directory".
        return None if value == "" else value

    send_rate: int = Field(default=29, ge=1, le=30, alias="VERTEBROBOT_SEND_RATE")
    reminder_lease_seconds: float = Field(default=60.0, gt=0, alias="VERTEBROBOT_REMINDER_LEASE_SECONDS")
    http_host: str = Field(default="127.0.0.1", alias="VERTEBROBOT_HTTP_HOST")
    http_port: int = Field(default=8080, ge=0, le=65535, alias="VERTEBROBOT_HTTP_PORT")
    telegram_webhook_url: str | None = Field(default=None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: str | None = Field(default=None, alias="TELEGRAM_WEBHOOK_SECRET")
    # Swagger UI at /docs loads its scripts from jsDelivr, so it is off unless asked for.
    api_docs: bool = Field(default=False, alias="VERTEBROBOT_API_DOCS")


def async_database_url(url: str) -> str:
    """Give plain PostgreSQL URLs the async driver (SQLite needs none: see bot/db/store.py)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url
