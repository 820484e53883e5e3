"""Browser harness: the bot as `vertebrobot run` starts it (fake Bot API, dispatcher, the clinic
API and web page served by uvicorn on 127.0.0.1) on an event loop in a thread, and Debian's
headless Chromium driven by Selenium. VERTEBROBOT_SKIP_BROWSER=1 skips these tests."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from bot.entrypoints.api import create_api, qr_png
from bot.services.clinics import Actor
from bot.services.web_access import issue_signin, signin_link
from bot.testing.fake_bot_api import FakeBotAPI
from flows.models import ClinicSettings
from tests.e2e.conftest import TOKEN, RunningBot, start_bot
from tests.support import FakeClock

T = TypeVar("T")
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromedriver")
WAIT = 10  # seconds any one browser step may take
NOW = dt.datetime(2026, 12, 10, 7, 0, tzinfo=dt.UTC)  # 09:00 in Sofia

SKIP = pytest.mark.skip(reason="VERTEBROBOT_SKIP_BROWSER=1: the browser tests are left out")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip every browser test, saying why, only when asked to."""
    if os.environ.get("VERTEBROBOT_SKIP_BROWSER") == "1":
        for item in items:
            if Path(__file__).parent in item.path.parents:
                item.add_marker(SKIP)


@dataclass
class Site:
    """The running bot and its web page, reached from the test's thread."""

    loop: asyncio.AbstractEventLoop
    telegram: FakeBotAPI
    bot: RunningBot
    clock: FakeClock
    url: str  # http://127.0.0.1:PORT

    def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the bot's loop and wait (bounded) for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=30)

    def signin_link(self, slug: str = "sofia") -> str:
        """A one-time link as `vertebrobot staff link` prints it."""

        async def issue() -> str:
            clinic = await self.bot.wiring.clinics.clinic(slug)
            return signin_link(
                self.url, await issue_signin(self.bot.wiring.clinics, clinic, Actor("operator"))
            )

        return self.call(issue())


async def _serve(site: dict[str, Any], ready: threading.Event, stop: asyncio.Event, folder: Path) -> None:
    clock = FakeClock(NOW)
    async with FakeBotAPI(TOKEN, bot_username="vertebrobot_test_bot") as telegram:
        bot = await start_bot(
            telegram,
            folder / "bot.db",
            clock=clock,
            dispatcher_options={"idle_seconds": 0.2},
            VERTEBROBOT_WEB_URL="http://127.0.0.1",
        )
        clinics = bot.wiring.clinics
        defaults = bot.wiring.content.clinic.model_dump()
        await clinics.save_clinic(
            "sofia",
            ClinicSettings.model_validate(defaults | {"name": "Sofia Spine", "timezone": "Europe/Sofia"}),
        )
        await clinics.save_clinic(
            "izmir",
            ClinicSettings.model_validate(defaults | {"name": "Izmir", "timezone": "Europe/Istanbul"}),
        )
        config = uvicorn.Config(
            create_api(clinics, qr=qr_png), host="127.0.0.1", port=0, lifespan="off", log_config=None
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        for _ in range(1000):  # at most 10 s; uvicorn has no event for it
            if server.started:
                break
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        bot.wiring.service.staff.web_url = f"http://127.0.0.1:{port}"  # type: ignore[union-attr]
        site.update(telegram=telegram, bot=bot, clock=clock, url=f"http://127.0.0.1:{port}")
        ready.set()
        await stop.wait()
        server.should_exit = True
        await task
        await bot.stop()


@contextlib.contextmanager
def running_site(folder: Path) -> Iterator[Site]:
    """The bot and its web page on a loop of their own, stopped on leaving."""
    loop = asyncio.new_event_loop()
    ready, stop, found = threading.Event(), asyncio.Event(), {}
    failed: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(_serve(found, ready, stop, folder))
        except BaseException as exc:  # shown by the test, not lost in the thread
            failed.append(exc)
            ready.set()

    thread = threading.Thread(target=run, name="bot", daemon=True)
    thread.start()
    assert ready.wait(60), "the bot and its web page did not start within a minute"
    if failed:
        raise failed[0]
    yield Site(loop, found["telegram"], found["bot"], found["clock"], found["url"])
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)
    loop.close()
    if failed:
        raise failed[0]


@contextlib.contextmanager
def chromium(width: int = 412, height: int = 915) -> Iterator[Any]:
    """Headless Chromium (Debian's chromium and chromium-driver) through Selenium, at this size."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser_path = shutil.which("chromium") or CHROMIUM[0]
    driver_path = shutil.which("chromedriver") or CHROMIUM[1]
    if not (Path(browser_path).exists() and Path(driver_path).exists()):
        raise RuntimeError(
            "Chromium is not installed: apt-get install chromium chromium-driver (scripts/check.sh does), "
            "or set VERTEBROBOT_SKIP_BROWSER=1"
        )
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium must not fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=en-GB"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The bot and its web page, for one test."""
    with running_site(tmp_path) as running:
        yield running


@pytest.fixture
def browser() -> Iterator[Any]:
    """A phone-sized headless Chromium, for one test."""
    with chromium() as driver:
        yield driver
