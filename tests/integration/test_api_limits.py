"""The clinic API's limits: malformed input is a 4xx that says what is wrong (never a 500), wrong
tokens from one address are slowed, every answer carries security headers, /docs only when asked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.entrypoints.api import create_api
from tests.integration.api_world import START, World, register

WINDOW = "a procedure starts between now and two years ahead"
BIG = 2**31  # one past PostgreSQL's INTEGER

# method, path, JSON body, status, and the reason: a phrase of `detail`, or where a field error points.
MALFORMED: list[tuple[str, str, Any, int, str | list[str]]] = [
    ("GET", f"/api/procedures/{BIG}", None, 404, f"no procedure {BIG}"),
    ("GET", "/api/procedures/99999999999999999999999", None, 404, "no procedure 99999999999999999999999"),
    ("GET", f"/api/procedures/-{BIG + 1}", None, 404, f"no procedure -{BIG + 1}"),
    ("DELETE", f"/api/procedures/{BIG}", None, 404, f"no procedure {BIG}"),
    ("PATCH", f"/api/procedures/{BIG}", {"start": "2026-11-25T10:00"}, 404, f"no procedure {BIG}"),
    ("POST", f"/api/procedures/{BIG}/cancel", None, 404, f"no procedure {BIG}"),
    ("GET", f"/api/procedures/{BIG}/checkins", None, 404, f"no procedure {BIG}"),
    ("GET", f"/api/procedures/{BIG}/pain-chart.png", None, 404, f"no procedure {BIG}"),
    ("GET", "/api/procedures/1e3", None, 422, ["path", "procedure_id"]),
    ("POST", "/api/procedures", {"start": START, "timezone": "A" * 5000}, 422, ["body", "timezone"]),
    ("POST", "/api/procedures", {"start": START, "timezone": ""}, 422, ["body", "timezone"]),
    (
        "POST",
        "/api/procedures",
        {"start": START, "timezone": "localtime"},
        422,
        "unknown time zone 'localtime'",
    ),
    ("POST", "/api/procedures", {"start": START, "timezone": "../../etc/passwd"}, 422, "unknown time zone"),
    ("POST", "/api/procedures", {"start": START, "timezone": "Europe/\u0000"}, 422, "unknown time zone"),
    ("POST", "/api/procedures", {"start": "0001-01-01T00:00+14:00"}, 422, f"out of range; {WINDOW}"),
    ("POST", "/api/procedures", {"start": "9999-12-31T23:59-12:00"}, 422, f"out of range; {WINDOW}"),
    ("POST", "/api/procedures", {"start": "9999-12-31T23:59"}, 422, f"too far ahead; {WINDOW} (2028-11-01)"),
    ("POST", "/api/procedures", {"start": "2028-11-01T10:01+02:00"}, 422, "too far ahead"),
    ("POST", "/api/procedures", {"start": "9" * 100_000}, 422, ["body", "start"]),
    ("POST", "/api/procedures", {"start": None}, 422, ["body", "start"]),
    ("POST", "/api/procedures", {"start": 1e308}, 422, ["body", "start"]),
    ("POST", "/api/procedures", {"start": START, "reference": "R" * 100_000}, 422, ["body", "reference"]),
    ("POST", "/api/procedures", [START], 422, ["body"]),
    ("PATCH", "/api/procedures/1", {"start": "0001-01-01T00:00+14:00"}, 422, f"out of range; {WINDOW}"),
    ("PATCH", "/api/procedures/1", {"start": "9999-12-31T23:59"}, 422, f"too far ahead; {WINDOW}"),
    ("PATCH", "/api/procedures/1", {"start": START, "timezone": "Z" * 5000}, 422, ["body", "timezone"]),
    ("PATCH", "/api/procedures/1", {"start": START, "timezone": "Mars/Base"}, 422, "unknown time zone"),
    ("GET", "/api/procedures?date=tomorrow", None, 422, ["query", "date"]),
    ("GET", "/api/procedures?date=99999-01-01", None, 422, ["query", "date"]),
    ("GET", "/api/audit?since=0001-01-01T00:00%2B14:00", None, 422, "`since` is out of range"),
    ("GET", "/api/audit?since=9999-12-31T23:59-12:00", None, 422, "`since` is out of range"),
    ("GET", "/api/audit?since=2026-11-01T00:00", None, 422, "`since` needs an offset"),
    ("GET", "/api/audit?since=" + "9" * 5000, None, 422, ["query", "since"]),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "reason"), MALFORMED)
async def test_malformed_input_is_a_4xx_that_says_what_is_wrong(
    world: World, method: str, path: str, body: Any, status: int, reason: str | list[str]
) -> None:
    await register(world)
    answer = await world.client.request(method, path, json=body, headers=world.sofia)
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    if isinstance(reason, str):
        assert reason in detail
    else:
        assert [error["loc"] for error in detail] == [reason]
        assert all(error["msg"] for error in detail)
    procedure = (await world.client.get("/api/procedures/1", headers=world.sofia)).json()
    assert (procedure["status"], procedure["starts_at"]) == ("scheduled", "2026-11-24T12:00:00Z")


@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        ("/api/import/csv", "start,reference\n0001-01-01T00:00+14:00,A1\n", f"out of range; {WINDOW}"),
        ("/api/import/csv", "start,reference\n2099-11-24T09:30,A1\n", f"too far ahead; {WINDOW}"),
        (
            "/api/import/csv",
            "start,reference,timezone\n2026-11-24T09:30,A1," + "Z" * 5000,
            "unknown time zone",
        ),
        (
            "/api/import/fhir",
            '{"resourceType": "Appointment", "id": "A1", "status": "booked", '
            '"start": "0001-01-01T00:00:00+14:00", '
            '"participant": [{"status": "accepted", "actor": {"display": "Patient"}}]}',
            f"out of range; {WINDOW}",
        ),
    ],
    ids=["csv-year-1", "csv-2099", "csv-long-zone", "fhir-year-1"],
)
async def test_an_imported_row_out_of_range_is_a_problem_of_its_line_not_a_crash(
    world: World, path: str, body: str, problem: str
) -> None:
    answer = await world.client.post(path, content=body, headers=world.sofia)
    assert answer.status_code == 422, answer.text  # nothing could be imported
    report = answer.json()
    assert report["detail"].startswith("nothing could be imported")
    assert report["created"] == []
    [found] = report["problems"]
    assert problem in found["reason"]


def _client(api: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=api, client=(address, 50_000))
    return httpx.AsyncClient(transport=transport, base_url="http://clinic.test")


async def test_wrong_tokens_from_one_address_get_429_with_retry_after_until_the_minute_is_over(
    world: World,
) -> None:
    api = create_api(world.clinics)  # counts on the service's clock, the test's FakeClock
    wrong = {"Authorization": "Bearer not-a-token"}
    async with _client(api, "203.0.113.7") as guesser, _client(api, "198.51.100.2") as clinic:
        for _ in range(30):  # a clinic's own calls are never slowed
            assert (await clinic.get("/api/procedures", headers=world.sofia)).status_code == 200
        answers = [(await guesser.get("/api/procedures", headers=wrong)).status_code for _ in range(5)]
        assert answers == [401] * 5
        world.clock.set(world.clock.now + dt.timedelta(seconds=20))
        slowed = await guesser.get("/api/procedures", headers=wrong)
        assert (slowed.status_code, slowed.headers["Retry-After"]) == (429, "40")
        assert "too many wrong API tokens" in slowed.json()["detail"]
        # While slowed, a right token from that address is still served (clinics behind one
        # proxy share an address), and wrong ones keep getting 429.
        assert (await guesser.get("/api/procedures", headers=world.sofia)).status_code == 200
        assert (await guesser.get("/api/procedures", headers=wrong)).status_code == 429
        # Another address is not slowed.
        assert (await clinic.get("/api/procedures", headers=world.sofia)).status_code == 200
        assert (await clinic.get("/api/procedures", headers=wrong)).status_code == 401
        world.clock.set(world.clock.now + dt.timedelta(seconds=40))
        assert (await guesser.get("/api/procedures", headers=wrong)).status_code == 401


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


async def test_every_answer_carries_the_security_headers(world: World) -> None:
    await register(world)
    answers = [
        await world.client.get("/healthz"),
        await world.client.get("/openapi.json"),
        await world.client.get("/api/procedures", headers=world.sofia),
        await world.client.get(f"/api/procedures/{BIG}"),  # the token first: 401, not 404
        await world.client.get("/api/procedures/999", headers=world.sofia),
        await world.client.post("/api/procedures", json={}, headers=world.sofia),
        await world.client.get("/nowhere"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 401, 404, 422, 404]
    for answer in answers:
        assert {name: answer.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS
        policy = answer.headers["content-security-policy"]
        assert policy.startswith("default-src 'none';")
        assert "frame-ancestors 'none'" in policy


async def test_docs_are_served_only_when_asked_for_and_run_only_swagger_s_own_scripts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await world.client.get("/docs")).status_code == 404
    monkeypatch.setenv("VERTEBROBOT_API_DOCS", "1")
    async with _client(create_api(world.clinics), "127.0.0.1") as client:
        docs = await client.get("/docs")
        assert (await client.get("/openapi.json")).status_code == 200
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    policy = docs.headers["content-security-policy"]
    scripts = next(part for part in policy.split("; ") if part.startswith("script-src"))
    assert scripts.split()[1] == "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
    assert scripts.split()[2].startswith("'sha256-")
    assert "unsafe" not in policy
    assert docs.headers["x-frame-options"] == "DENY"
