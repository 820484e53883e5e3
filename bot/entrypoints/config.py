"""Settings from the environment (and a `.env` file), in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.content import default_content_dir

DEFAULT_DATABASE_URL = "sqlite:///vertebrobot.db"


class StartupError(Exception):
    """Something the process needs is not there (Telegram, the port...); the message is the one
    line the operator reads: what is wrong and what to do, never a secret."""


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
    bot_username: str | None = Field(default=None, alias="TELEGRAM_BOT_USERNAME")

    @field_validator(
        "content_dir",
        "clinic_file",
        "telegram_bot_token",
        "telegram_api_base_url",
        "bot_username",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `export X=` in a shell means "not set", not "the current directory".
        return None if value == "" else value

    def content_folder(self) -> Path:
        """The content this process uses: VERTEBROBOT_CONTENT_DIR, else a `content/` in the working
        directory, else the installed copy."""
        return self.content_dir.resolve() if self.content_dir else default_content_dir()

    send_rate: int = Field(default=29, ge=1, le=30, alias="VERTEBROBOT_SEND_RATE")
    # Instances sharing one PostgreSQL database: when the shared send budget cannot be reached,
    # each sends at most send_rate / instances a second on its own.
    instances: int = Field(default=2, ge=1, alias="VERTEBROBOT_INSTANCES")
    reminder_lease_seconds: float = Field(default=60.0, gt=0, alias="VERTEBROBOT_REMINDER_LEASE_SECONDS")
    http_host: str = Field(default="127.0.0.1", alias="VERTEBROBOT_HTTP_HOST")
    http_port: int = Field(default=8080, ge=0, le=65535, alias="VERTEBROBOT_HTTP_PORT")
    telegram_webhook_url: str | None = Field(default=None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: str | None = Field(default=None, alias="TELEGRAM_WEBHOOK_SECRET")
    # Flood control per user: more messages than this within the seconds is faster than a person
    # reads; the patient is told once to slow down and the rest of the burst is dropped.
    flood_messages: int = Field(default=5, ge=1, alias="VERTEBROBOT_FLOOD_MESSAGES")
    flood_seconds: float = Field(default=3.0, gt=0, alias="VERTEBROBOT_FLOOD_SECONDS")
    # Swagger UI at /docs loads its scripts from jsDelivr, so it is off unless asked for.
    api_docs: bool = Field(default=False, alias="VERTEBROBOT_API_DOCS")
    # The clinic web page (/clinic/): its public address for sign-in links, the key that signs its
    # session cookies (random per process when unset; required on PostgreSQL with a web_url: see
    # startup.check_web_secret), and Secure cookies (default: an https address).
    web_url: str | None = Field(default=None, alias="VERTEBROBOT_WEB_URL")
    web_secret: str | None = Field(default=None, alias="VERTEBROBOT_WEB_SECRET")
    web_secure_cookie: bool | None = Field(default=None, alias="VERTEBROBOT_WEB_SECURE_COOKIE")


def async_database_url(url: str) -> str:
    """Give plain PostgreSQL URLs the async driver (SQLite needs none: see bot/db/store.py)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url
