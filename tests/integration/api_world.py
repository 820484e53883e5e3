"""The clinic API's test world, shared by the API tests (tests/integration/conftest.py makes `world`
a fixture): two clinics, a token each, and an HTTP client of the API over ASGI."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.db.store import Store, UserRecord
from bot.entrypoints.api import create_api, qr_png
from bot.services.clinics import ClinicService
from flows.content import Content
from flows.engine import Session
from flows.models import ClinicSettings
from tests.databases import database_url
from tests.support import FakeClock

NOW = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
PATIENT = 4242
LINK_PREFIX = "https://t.me/vertebrobot_test_bot?start="
# A procedure at 14:00 in Sofia (UTC+2 in November) keeps every reminder out of the quiet hours.
START = "2026-11-24T14:00"
PLANNED = [  # key, local due time: the shipped plan with food stopped 6 h and clear fluids 2 h before
    ("week_before", "2026-11-17T10:00:00+02:00"),
    ("evening_before", "2026-11-23T18:00:00+02:00"),
    ("fasting_food", "2026-11-24T08:00:00+02:00"),
    ("fasting_fluid", "2026-11-24T12:00:00+02:00"),
    ("leave_home", "2026-11-24T12:00:00+02:00"),
    ("day_after", "2026-11-25T10:00:00+02:00"),
    ("day_two", "2026-11-26T10:00:00+02:00"),
    ("week_after", "2026-12-01T10:00:00+02:00"),
]


@dataclass
class World:
    """Two clinics, a token each, and a client of the API."""

    store: Store
    clinics: ClinicService
    clock: FakeClock
    client: httpx.AsyncClient
    sofia: dict[str, str]
    izmir: dict[str, str]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def utc(local: str) -> str:
    """The UTC form the API gives for a local ISO time with an offset."""
    return dt.datetime.fromisoformat(local).astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def reminder(key: str, local: str, status: str = "pending", acknowledged: bool = False) -> dict[str, Any]:
    return {
        "key": key,
        "due_at": utc(local),
        "local_due_at": local,
        "status": status,
        "acknowledged": acknowledged,
    }


@pytest.fixture
async def world(tmp_path: Path, content: Content) -> AsyncIterator[World]:
    clock = FakeClock(NOW)
    store = Store(database_url(tmp_path / "api.db"), clock=clock)
    await store.migrate()
    clinics = ClinicService(store, content.plan, bot_username="vertebrobot_test_bot", clock=clock)
    defaults = content.clinic.model_dump()
    sofia = {
        "name": "Sofia Spine",
        "timezone": "Europe/Sofia",
        "fasting_food_hours": 6,
        "fasting_fluid_hours": 2,
    }
    await clinics.save_clinic("sofia", ClinicSettings.model_validate(defaults | sofia))
    await clinics.save_clinic(
        "izmir", ClinicSettings.model_validate(defaults | {"timezone": "Europe/Istanbul"})
    )
    tokens = bearer(await clinics.issue_token("sofia")), bearer(await clinics.issue_token("izmir"))
    transport = httpx.ASGITransport(app=create_api(clinics, qr=qr_png))
    async with httpx.AsyncClient(transport=transport, base_url="http://clinic.test") as client:
        yield World(store, clinics, clock, client, *tokens)
    await store.close()


async def register(world: World, **body: str) -> dict[str, Any]:
    answer = await world.client.post("/api/procedures", json={"start": START} | body, headers=world.sofia)
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


async def join(world: World, link: str, user_id: int = PATIENT) -> None:
    """The patient opens the invite link in Telegram."""
    token = link.removeprefix(LINK_PREFIX)
    record = UserRecord(user_id, user_id, "en", Session("menu", "main"), is_new=True)
    await world.store.run(lambda tx: tx.save_user(record))
    result = await world.store.run(lambda tx: world.clinics.redeem(tx, user_id, token, world.clock.now))
    assert result.result == "linked"
