"""The one place that wires content, engine, storage and service together."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.dates import format_date
from pydantic import ValidationError

from bot.db.store import Store
from bot.entrypoints.config import Settings, async_database_url
from bot.services.clinics import ClinicService
from bot.services.dispatcher import Dispatcher
from bot.services.flood import FloodGuard
from bot.services.ratelimit import SendBudget, SharedSendBudget
from bot.services.retention import Purger
from bot.services.sender import Sender
from bot.services.service import GuideService
from bot.services.staff import StaffDesk
from flows.check import load_content
from flows.content import Content, ContentError, Problem, read_yaml_file
from flows.engine import FlowEngine
from flows.models import DEFAULT_NO_ZONE, ClinicSettings
from flows.render import Renderer, clinic_params
from flows.yamlio import line_at

log = logging.getLogger(__name__)


@dataclass
class Wiring:
    """Everything the entry points need, built once at start-up."""

    settings: Settings
    content: Content
    clinic: ClinicSettings
    engine: FlowEngine
    renderer: Renderer
    store: Store
    service: GuideService
    clinics: ClinicService
    flood: FloodGuard | None = None
    dispatcher: Dispatcher | None = None

    async def prepare(self, *, train: bool = False) -> None:
        """Before serving: bring the database up to date, and copy the default clinic into it, so
        every patient's clinic settings are read from one place. `train` (a process that answers
        patients): train the learned layer of the warning-sign detector too (in a thread; seconds
        per language, once per process), not on the first patient's message."""
        await self.store.migrate()
        await self.clinics.sync_default(self.clinic)
        if train:
            started = time.perf_counter()
            await asyncio.to_thread(self.engine.train)
            log.info("warning-sign models trained in %.1f s", time.perf_counter() - started)

    async def learn_bot_username(self, username: str) -> None:
        """Invite links name the bot Telegram's getMe described, and the database remembers it for
        the command line; a TELEGRAM_BOT_USERNAME that differs is a mistake worth a warning."""
        if self.settings.bot_username and self.settings.bot_username != username:
            log.warning(
                "TELEGRAM_BOT_USERNAME is %s, but Telegram says this token's bot is %s: invite links name %s",
                self.settings.bot_username,
                username,
                username,
            )
        await self.clinics.learn_bot_username(username)

    def start_dispatcher(self, sender: Sender, **options: Any) -> Dispatcher:
        """The reminder dispatcher, sending through `sender`; new procedures wake it at once."""
        budget = options.pop("budget", None) or SendBudget(self.settings.send_rate)
        self.dispatcher = Dispatcher(
            self.store,
            sender,
            self.renderer,
            self.clinic,
            budget=budget,
            lease=dt.timedelta(seconds=self.settings.reminder_lease_seconds),
            **options,
        )
        self.service.on_scheduled = self.clinics.on_scheduled = self.dispatcher.wake.set
        return self.dispatcher

    def send_budget(self, token: str) -> SendBudget:
        """The budget every send to Telegram takes its turn of: shared by every instance through
        the database on PostgreSQL (one bucket per bot, keyed by the token's public bot id), in
        this process on SQLite."""
        rate = self.settings.send_rate
        if self.store.shared:
            key = f"bot{token.partition(':')[0]}"
            return SharedSendBudget(self.store, key, rate, instances=self.settings.instances)
        return SendBudget(rate)

    def start_purger(self, **options: Any) -> Purger:
        """The retention purge (each clinic's `retention_days`), run hourly beside the dispatcher."""
        return Purger(self.store, **options)


def load_clinic(path: Path, defaults: ClinicSettings) -> ClinicSettings:
    """A clinic file (same shape as content/clinic.yaml) over the defaults."""
    tree = read_yaml_file(path)
    raw = tree.get("clinic", {}) if isinstance(tree, dict) else None
    if not isinstance(raw, dict):
        raise ContentError([Problem(str(path), 1, "expected `clinic:` with the clinic's settings")])
    try:
        return ClinicSettings.given(defaults, raw)
    except ValidationError as exc:
        problems = [
            Problem(
                str(path),
                line_at(tree, ("clinic", *err["loc"])),
                f"{'.'.join(map(str, err['loc']))}: {err['msg']}",
            )
            for err in exc.errors()
        ]
        raise ContentError(problems) from exc


def wire(settings: Settings, *, database_url: str | None = None, zone: str | None = None) -> Wiring:
    """Load and check the content, then build the engine, store and service.

    `zone`: a time zone to use when the clinic sets none (the local chat's stated default).
    """
    folder = settings.content_folder()
    content = load_content(folder)
    log.info("content from %s", folder)
    clinic = load_clinic(settings.clinic_file, content.clinic) if settings.clinic_file else content.clinic
    if not clinic.timezone and zone:
        clinic = clinic.model_copy(update={"timezone": zone})
    if not clinic.timezone:
        where = settings.clinic_file or "content/clinic.yaml"
        log.warning(
            "the default clinic (%s): %s",
            where,
            DEFAULT_NO_ZONE,
        )
    engine = FlowEngine(content)
    renderer = Renderer(content, clinic_params(clinic), day_label=day_label)
    store = Store(async_database_url(database_url or settings.database_url))
    clinics = ClinicService(store, content.plan, bot_username=settings.bot_username)
    service = GuideService(
        engine,
        renderer,
        store,
        clinic=clinic,
        plan=content.plan,
        redeem=clinics.redeem,
        links=clinics,
        staff=StaffDesk(clinics, web_url=settings.web_url),
    )
    flood = FloodGuard(settings.flood_messages, settings.flood_seconds)
    return Wiring(settings, content, clinic, engine, renderer, store, service, clinics, flood)


def day_label(day: dt.date, locale: str) -> str:
    """A date button's label, the way the patient's language writes a short date."""
    return format_date(day, "EEE d MMM", locale=locale)
