"""The clinic API over ASGI: tokens, each endpoint, other clinics' procedures, times, reminders."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import httpx
import pytest

from bot.db.store import Transaction, UserRecord
from bot.entrypoints.api import TITLE, create_api, qr_png
from bot.entrypoints.api_deps import UNAUTHORIZED
from flows.engine import Session
from tests.integration.api_world import (
    LINK_PREFIX,
    NOW,
    PATIENT,
    PLANNED,
    START,
    World,
    bearer,
    join,
    register,
    reminder,
)


async def test_health_needs_no_token(world: World) -> None:
    answer = await world.client.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


async def test_the_openapi_document_describes_every_endpoint_and_docs_are_off(world: World) -> None:
    document = (await world.client.get("/openapi.json")).json()
    assert document["info"]["title"] == TITLE == "vertebrobot clinic API"
    paths = {path: sorted(methods) for path, methods in document["paths"].items()}
    assert paths == {
        "/healthz": ["get"],
        "/api/procedures": ["get", "post"],
        "/api/procedures/{procedure_id}": ["delete", "get", "patch"],
        "/api/procedures/{procedure_id}/cancel": ["post"],
        "/api/procedures/{procedure_id}/invite": ["post"],
        "/api/procedures/{procedure_id}/pickup-ready": ["post"],
        "/api/procedures/{procedure_id}/reminders": ["get"],
        "/api/procedures/{procedure_id}/checkins": ["get"],
        "/api/procedures/{procedure_id}/pain-chart.png": ["get"],
        "/api/import/fhir": ["post"],
        "/api/import/csv": ["post"],
        "/api/audit": ["get"],
    }
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    reference = document["components"]["schemas"]["ProcedureIn"]["properties"]["reference"]
    assert reference["anyOf"][0]["maxLength"] == 64
    assert "no patient names" in reference["description"]
    # Swagger UI loads its scripts from a CDN: only with VERTEBROBOT_API_DOCS=1 (test_api_limits.py).
    assert (await world.client.get("/docs")).status_code == 404


async def test_registering_gives_the_procedure_and_an_invite_with_its_qr_code(world: World) -> None:
    created = await register(world, reference="A-17")
    invite = created["invite"]
    assert invite["link"].startswith(LINK_PREFIX)
    assert len(invite["link"]) > len(LINK_PREFIX) + 30
    assert created == {
        "procedure": {
            "id": 1,
            "reference": "A-17",
            "status": "scheduled",
            "starts_at": "2026-11-24T12:00:00Z",
            "local_start": "2026-11-24T14:00:00+02:00",
            "timezone": "Europe/Sofia",
            "patient_joined": False,
            "unreachable": False,
            "reminders": [],
            "warning_signs": [],
        },
        "invite": {
            "link": invite["link"],
            "expires_at": "2026-12-01T08:00:00Z",
            "local_expires_at": "2026-12-01T10:00:00+02:00",
            "timezone": "Europe/Sofia",
            "qr_png_base64": base64.b64encode(qr_png(invite["link"])).decode(),
        },
    }
    assert base64.b64decode(invite["qr_png_base64"]).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("body", "starts_at", "local_start", "zone"),
    [
        (
            {"start": "2026-11-24T14:00+03:00"},
            "2026-11-24T11:00:00Z",
            "2026-11-24T13:00:00+02:00",
            "Europe/Sofia",
        ),
        (
            {"start": "2026-11-24T14:00", "timezone": "Europe/Istanbul"},
            "2026-11-24T11:00:00Z",
            "2026-11-24T14:00:00+03:00",
            "Europe/Istanbul",
        ),
    ],
    ids=["offset", "zone"],
)
async def test_a_start_with_an_offset_or_a_zone_is_read_in_it(
    world: World, body: dict[str, str], starts_at: str, local_start: str, zone: str
) -> None:
    procedure = (await register(world, **body))["procedure"]
    assert (procedure["starts_at"], procedure["local_start"], procedure["timezone"]) == (
        starts_at,
        local_start,
        zone,
    )


async def test_without_a_qr_encoder_the_invite_has_no_qr_code(world: World) -> None:
    transport = httpx.ASGITransport(app=create_api(world.clinics))
    async with httpx.AsyncClient(transport=transport, base_url="http://clinic.test") as client:
        answer = await client.post("/api/procedures", json={"start": START}, headers=world.sofia)
    assert answer.status_code == 201
    assert answer.json()["invite"]["qr_png_base64"] is None


ENDPOINTS = [
    ("POST", "/api/procedures", {"start": START}),
    ("GET", "/api/procedures", None),
    ("GET", "/api/procedures/1", None),
    ("PATCH", "/api/procedures/1", {"start": "2026-11-25T10:00"}),
    ("POST", "/api/procedures/1/cancel", None),
    ("POST", "/api/procedures/1/invite", None),
    ("GET", "/api/procedures/1/reminders", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize(
    "headers",
    [{}, bearer("not-a-token"), {"Authorization": "Basic c29maWE6c2VjcmV0"}, {"Authorization": "Bearer"}],
    ids=["none", "wrong", "basic", "empty"],
)
async def test_every_endpoint_refuses_a_missing_or_wrong_token(
    world: World, method: str, path: str, body: dict[str, str] | None, headers: dict[str, str]
) -> None:
    await register(world)
    answer = await world.client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json() == {"detail": UNAUTHORIZED}
    procedure = (await world.client.get("/api/procedures/1", headers=world.sofia)).json()
    assert (procedure["status"], procedure["starts_at"]) == ("scheduled", "2026-11-24T12:00:00Z")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS[2:])
async def test_another_clinic_s_procedure_is_not_found_and_stays_unchanged(
    world: World, method: str, path: str, body: dict[str, str] | None
) -> None:
    await register(world)
    theirs = await world.client.request(method, path, json=body, headers=world.izmir)
    missing = await world.client.request(method, path.replace("/1", "/999"), json=body, headers=world.sofia)
    assert (theirs.status_code, theirs.json()) == (404, {"detail": "no procedure 1"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "no procedure 999"})
    assert (await world.client.get("/api/procedures", headers=world.izmir)).json() == []
    procedure = (await world.client.get("/api/procedures/1", headers=world.sofia)).json()
    assert (procedure["status"], procedure["starts_at"]) == ("scheduled", "2026-11-24T12:00:00Z")


BAD_TIMES = [
    (
        {"start": "tomorrow 9am"},
        "cannot read the time 'tomorrow 9am'; write it as 2026-11-24T09:30 (local) "
        "or with an offset, 2026-11-24T09:30+02:00",
    ),
    (
        {"start": "2026-02-30T09:00"},
        "cannot read the time '2026-02-30T09:00'; write it as 2026-11-24T09:30 (local) "
        "or with an offset, 2026-11-24T09:30+02:00",
    ),
    (
        {"start": "2026-11-24"},
        "the time '2026-11-24' has a date but no time of day; write it as 2026-11-24T09:30",
    ),
    (
        {"start": START, "timezone": "Mars/Base"},
        "unknown time zone 'Mars/Base'; use an IANA name such as Europe/Sofia",
    ),
]


@pytest.mark.parametrize(("body", "detail"), BAD_TIMES, ids=["words", "no-such-day", "date-only", "zone"])
async def test_an_unreadable_time_or_unknown_zone_is_422_and_says_what_is_wrong(
    world: World, body: dict[str, str], detail: str
) -> None:
    created = await world.client.post("/api/procedures", json=body, headers=world.sofia)
    assert (created.status_code, created.json()) == (422, {"detail": detail})
    await register(world)
    moved = await world.client.patch("/api/procedures/1", json=body, headers=world.sofia)
    assert (moved.status_code, moved.json()) == (422, {"detail": detail})
    assert len((await world.client.get("/api/procedures", headers=world.sofia)).json()) == 1


async def test_a_past_time_is_422(world: World) -> None:
    past = {"start": "2026-11-01T09:30"}  # 07:30 UTC, half an hour before the clock
    created = await world.client.post("/api/procedures", json=past, headers=world.sofia)
    assert (created.status_code, created.json()) == (
        422,
        {"detail": "the procedure's start is in the past; give a future time"},
    )
    await register(world)
    moved = await world.client.patch("/api/procedures/1", json=past, headers=world.sofia)
    assert (moved.status_code, moved.json()) == (
        422,
        {"detail": "the new start is in the past; give a future time"},
    )


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        ({}, ["body", "start"], "Field required"),
        (
            {"start": START, "reference": "R" * 65},
            ["body", "reference"],
            "String should have at most 64 characters",
        ),
        ({"start": START, "patient_name": "x"}, ["body", "patient_name"], "Extra inputs are not permitted"),
        ({"start": 20261124}, ["body", "start"], "Input should be a valid string"),
    ],
    ids=["no-start", "long-reference", "unknown-field", "number"],
)
async def test_malformed_bodies_are_422_with_the_field_named(
    world: World, body: dict[str, Any], where: list[str], message: str
) -> None:
    answer = await world.client.post("/api/procedures", json=body, headers=world.sofia)
    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert (error["loc"], error["msg"]) == (where, message)


async def test_the_list_is_this_clinic_s_soonest_first_and_filters_by_local_date(world: World) -> None:
    for start in ("2026-11-25T09:00", "2026-11-24T00:30", "2026-11-24T23:30"):
        await register(world, start=start)
    await world.client.post("/api/procedures", json={"start": START}, headers=world.izmir)

    async def listed(query: str = "") -> list[tuple[int, str]]:
        answer = await world.client.get(f"/api/procedures{query}", headers=world.sofia)
        assert answer.status_code == 200
        return [(p["id"], p["local_start"]) for p in answer.json()]

    assert await listed() == [
        (2, "2026-11-24T00:30:00+02:00"),
        (3, "2026-11-24T23:30:00+02:00"),
        (1, "2026-11-25T09:00:00+02:00"),
    ]
    # 00:30 in Sofia is still the 23rd in UTC: the date is the clinic's.
    assert await listed("?date=2026-11-24") == [
        (2, "2026-11-24T00:30:00+02:00"),
        (3, "2026-11-24T23:30:00+02:00"),
    ]
    assert await listed("?date=2026-11-26") == []
    bad = await world.client.get("/api/procedures?date=2026-02-30", headers=world.sofia)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "date"]


async def test_reminders_appear_once_the_patient_joins_in_the_clinic_s_zone_and_numbers(world: World) -> None:
    created = await register(world)
    assert (await world.client.get("/api/procedures/1/reminders", headers=world.sofia)).json() == {
        "procedure_id": 1,
        "timezone": "Europe/Sofia",
        "reminders": [],
    }
    await join(world, created["invite"]["link"])
    procedure = (await world.client.get("/api/procedures/1", headers=world.sofia)).json()
    assert procedure["patient_joined"] is True
    assert procedure["reminders"] == [reminder(key, local) for key, local in PLANNED]
    assert procedure["reminders"][2]["due_at"] == "2026-11-24T06:00:00Z", "food stops 6 h before 12:00 UTC"
    assert procedure["reminders"][3]["due_at"] == "2026-11-24T10:00:00Z", "clear fluids 2 h before"


async def test_rescheduling_cancels_the_old_reminders_and_plans_new_ones_with_a_notice(world: World) -> None:
    created = await register(world)
    await join(world, created["invite"]["link"])
    world.clock.now = NOW + dt.timedelta(days=1)
    answer = await world.client.patch(
        "/api/procedures/1", json={"start": "2026-11-26T16:00"}, headers=world.sofia
    )
    assert answer.status_code == 200
    moved = answer.json()
    assert (moved["starts_at"], moved["local_start"]) == ("2026-11-26T14:00:00Z", "2026-11-26T16:00:00+02:00")
    old = [reminder(key, local, "cancelled") for key, local in PLANNED]
    new = [
        reminder("notice", "2026-11-02T10:00:00+02:00"),
        reminder("week_before", "2026-11-19T10:00:00+02:00"),
        reminder("evening_before", "2026-11-25T18:00:00+02:00"),
        reminder("fasting_food", "2026-11-26T10:00:00+02:00"),
        reminder("leave_home", "2026-11-26T14:00:00+02:00"),
        reminder("fasting_fluid", "2026-11-26T14:00:00+02:00"),
        reminder("day_after", "2026-11-27T10:00:00+02:00"),
        reminder("day_two", "2026-11-28T10:00:00+02:00"),
        reminder("week_after", "2026-12-03T10:00:00+02:00"),
    ]
    by_status = {s: [r for r in moved["reminders"] if r["status"] == s] for s in ("cancelled", "pending")}
    assert by_status["cancelled"] == old
    assert sorted(by_status["pending"], key=lambda r: (r["due_at"], r["key"])) == sorted(
        new, key=lambda r: (r["due_at"], r["key"])
    )
    assert len(moved["reminders"]) == len(old) + len(new)


async def test_a_start_in_another_zone_moves_the_procedure_but_keeps_its_zone(world: World) -> None:
    await register(world)
    answer = await world.client.patch(
        "/api/procedures/1", json={"start": "2026-11-26T14:00", "timezone": "UTC"}, headers=world.sofia
    )
    assert answer.status_code == 200
    moved = answer.json()
    assert (moved["starts_at"], moved["local_start"], moved["timezone"]) == (
        "2026-11-26T14:00:00Z",
        "2026-11-26T16:00:00+02:00",
        "Europe/Sofia",
    )


async def test_cancelling_stops_every_open_reminder_and_tells_the_patient(world: World) -> None:
    created = await register(world)
    await join(world, created["invite"]["link"])
    world.clock.now = NOW + dt.timedelta(hours=2)
    answer = await world.client.post("/api/procedures/1/cancel", headers=world.sofia)
    assert answer.status_code == 200
    cancelled = answer.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["reminders"] == [
        reminder("notice", "2026-11-01T12:00:00+02:00"),
        *(reminder(key, local, "cancelled") for key, local in PLANNED),
    ]
    again = await world.client.post("/api/procedures/1/cancel", headers=world.sofia)
    assert (again.status_code, again.json()) == (422, {"detail": "this procedure is already cancelled"})
    moved = await world.client.patch("/api/procedures/1", json={"start": START}, headers=world.sofia)
    assert (moved.status_code, moved.json()) == (
        422,
        {"detail": "this procedure is cancelled; register a new one"},
    )
    after = (await world.client.get("/api/procedures/1", headers=world.sofia)).json()
    assert after["reminders"] == cancelled["reminders"], "no second notice, nothing reopened"


async def test_cancelling_before_the_patient_joins_retires_the_invite(world: World) -> None:
    created = await register(world)
    answer = await world.client.post("/api/procedures/1/cancel", headers=world.sofia)
    assert (answer.json()["status"], answer.json()["reminders"]) == ("cancelled", [])
    invite = await world.client.post("/api/procedures/1/invite", headers=world.sofia)
    assert (invite.status_code, invite.json()) == (422, {"detail": "this procedure is cancelled"})
    token = created["invite"]["link"].removeprefix(LINK_PREFIX)
    await world.store.run(
        lambda tx: tx.save_user(UserRecord(PATIENT, PATIENT, "en", Session("menu", "main"), is_new=True))
    )
    opened = await world.store.run(lambda tx: world.clinics.redeem(tx, PATIENT, token, NOW))
    assert opened.result == "expired"


async def test_a_new_invite_is_issued_until_the_patient_joins(world: World) -> None:
    created = await register(world)
    world.clock.now = NOW + dt.timedelta(days=1)
    answer = await world.client.post("/api/procedures/1/invite", headers=world.sofia)
    assert answer.status_code == 201
    fresh = answer.json()
    assert fresh["link"].startswith(LINK_PREFIX)
    assert fresh["link"] != created["invite"]["link"]
    assert fresh == {
        "link": fresh["link"],
        "expires_at": "2026-12-02T08:00:00Z",
        "local_expires_at": "2026-12-02T10:00:00+02:00",
        "timezone": "Europe/Sofia",
        "qr_png_base64": base64.b64encode(qr_png(fresh["link"])).decode(),
    }
    await join(world, fresh["link"])
    refused = await world.client.post("/api/procedures/1/invite", headers=world.sofia)
    assert (refused.status_code, refused.json()) == (
        422,
        {"detail": "the patient has already joined this procedure"},
    )


async def test_the_reminders_endpoint_shows_deliveries_and_acknowledgements(world: World) -> None:
    created = await register(world)
    await join(world, created["invite"]["link"])
    due = dt.datetime(2026, 11, 17, 8, 0, tzinfo=dt.UTC)

    def deliver_and_read_the_first(tx: Transaction) -> None:
        [claimed] = tx.reminders.claim_due(due, lease=dt.timedelta(minutes=1), limit=10)
        tx.reminders.mark_sent(claimed.id, message_id=1, now=due)
        assert tx.reminders.acknowledge(claimed.id, PATIENT, due + dt.timedelta(minutes=5))

    await world.store.run(deliver_and_read_the_first)
    answer = await world.client.get("/api/procedures/1/reminders", headers=world.sofia)
    assert answer.status_code == 200
    assert answer.json() == {
        "procedure_id": 1,
        "timezone": "Europe/Sofia",
        "reminders": [
            reminder(*PLANNED[0], status="sent", acknowledged=True),
            *(reminder(key, local) for key, local in PLANNED[1:]),
        ],
    }


async def test_warning_signs_the_patient_reported_are_listed(world: World) -> None:
    created = await register(world)
    await join(world, created["invite"]["link"])
    world.clock.now = NOW + dt.timedelta(days=24, hours=6)  # the evening after the procedure
    await world.store.run(
        lambda tx: tx.record_warning_sign(
            PATIENT, "chest_pain", Session("after", "home"), created["procedure"]["id"]
        )
    )
    procedure = (await world.client.get("/api/procedures/1", headers=world.sofia)).json()
    assert procedure["warning_signs"] == [
        {"sign": "chest_pain", "at": "2026-11-25T14:00:00Z", "local_at": "2026-11-25T16:00:00+02:00"}
    ]


async def test_fhir_import_over_the_api_reports_each_entry_and_refuses_malformed_input(world: World) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Appointment",
                    "id": "fhir-1",
                    "identifier": [{"value": "F-1"}],
                    "status": "booked",
                    "start": "2026-11-24T09:30:00+02:00",
                    "participant": [{"status": "accepted", "actor": {"display": "Patient"}}],
                }
            },
            {
                "resource": {
                    "resourceType": "Appointment",
                    "identifier": [{"value": "F-2"}],
                    "status": "booked",
                    "start": "not-a-date",
                    "participant": [{"status": "accepted", "actor": {"display": "Patient"}}],
                }
            },
        ],
    }
    answer = await world.client.post("/api/import/fhir", json=bundle, headers=world.sofia)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert len(report["created"]) == 1
    [invite] = report["invites"]
    assert (invite["reference"], invite["procedure_id"]) == ("F-1", report["created"][0])
    assert invite["link"].startswith(LINK_PREFIX)
    assert [p["line"] for p in report["problems"]] == [2]
    assert "not-a-date" in report["problems"][0]["reason"]
    created = await world.client.get(f"/api/procedures/{report['created'][0]}", headers=world.sofia)
    assert created.json()["starts_at"] == "2026-11-24T07:30:00Z"

    malformed = await world.client.post(
        "/api/import/fhir", content=b"{not json", headers=world.sofia | {"Content-Type": "application/json"}
    )
    assert malformed.status_code == 422
    assert "JSON" in malformed.json()["detail"]
    assert (await world.client.post("/api/import/fhir", json=bundle)).status_code == 401


async def test_csv_import_over_the_api(world: World) -> None:
    csv_text = "start,reference\n2026-11-24T09:30,C-1\nyesterday,C-2\n"
    answer = await world.client.post(
        "/api/import/csv", content=csv_text.encode(), headers=world.sofia | {"Content-Type": "text/csv"}
    )
    report = answer.json()
    assert answer.status_code == 200, answer.text
    assert len(report["created"]) == 1
    assert [(p["line"], p["reason"][:20]) for p in report["problems"]] == [(3, "cannot read the time")]
