"""The clinic API and patients' data: deleting a procedure, revoking tokens, the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.db.store import Transaction
from bot.db.tables import CHECKINS, INVITES, PROCEDURES, REMINDERS, SAFETY_EVENTS, USERS
from bot.services.reachability import patient_blocked
from flows.engine import Session
from tests.integration.api_world import PATIENT, World, bearer, join, register


async def count(world: World, table: object, *where: object) -> int:
    def read(tx: Transaction) -> int:
        statement = select(func.count()).select_from(table).where(*where)  # type: ignore[arg-type]
        return int(tx.conn.execute(statement).scalar_one())

    return await world.store.run(read)


async def test_deleting_a_procedure_removes_its_rows_and_another_clinic_gets_404(world: World) -> None:
    created = await register(world, reference="A-17")
    procedure_id = created["procedure"]["id"]
    await join(world, created["invite"]["link"])
    await world.store.run(
        lambda tx: tx.record_warning_sign(PATIENT, "fever", Session("menu", "main"), procedure_id)
    )
    path = f"/api/procedures/{procedure_id}"

    other = await world.client.delete(path, headers=world.izmir)
    assert (other.status_code, other.json()) == (404, {"detail": f"no procedure {procedure_id}"})
    assert await count(world, REMINDERS, REMINDERS.c.procedure_id == procedure_id) == 8, "nothing removed"

    answer = await world.client.delete(path, headers=world.sofia)
    assert (answer.status_code, answer.content) == (204, b"")
    for table in (REMINDERS, CHECKINS, INVITES, SAFETY_EVENTS):
        assert await count(world, table, table.c.procedure_id == procedure_id) == 0, table.name
    assert await count(world, PROCEDURES, PROCEDURES.c.id == procedure_id) == 0
    assert await count(world, USERS, USERS.c.user_id == PATIENT) == 0, "their only procedure: answers go too"
    assert (await world.client.get(path, headers=world.sofia)).status_code == 404
    assert (await world.client.delete(path, headers=world.sofia)).status_code == 404


async def test_a_revoked_token_gets_401_at_once(world: World) -> None:
    assert (await world.client.get("/api/procedures", headers=world.sofia)).status_code == 200
    spare = bearer(await world.clinics.issue_token("sofia", "spare"))
    assert await world.clinics.revoke_tokens("sofia", "api") == 1
    refused = await world.client.get("/api/procedures", headers=world.sofia)
    assert refused.status_code == 401
    assert (await world.client.get("/api/procedures", headers=spare)).status_code == 200, "other labels work"
    assert (await world.client.get("/api/procedures", headers=world.izmir)).status_code == 200
    assert await world.clinics.revoke_tokens("sofia") == 1
    assert (await world.client.get("/api/procedures", headers=spare)).status_code == 401


async def test_a_patient_who_blocked_the_bot_shows_unreachable(world: World) -> None:
    created = await register(world)
    procedure_id = created["procedure"]["id"]
    await join(world, created["invite"]["link"])
    await world.store.run(lambda tx: patient_blocked(tx, PATIENT, world.clock.now))
    procedure = (await world.client.get(f"/api/procedures/{procedure_id}", headers=world.sofia)).json()
    assert procedure["unreachable"] is True
    assert {r["status"] for r in procedure["reminders"]} == {"cancelled"}
    listed = (await world.client.get("/api/procedures", headers=world.sofia)).json()
    assert [item["unreachable"] for item in listed] == [True]


async def test_each_clinic_action_is_audited_with_ids_and_times_only(world: World) -> None:
    start = world.clock.now
    created = await register(world, reference="PETROVA-17")  # the reference (and anything else) stays out
    procedure_id = created["procedure"]["id"]
    path = f"/api/procedures/{procedure_id}"
    headers = world.sofia
    await world.client.get(path, headers=headers)
    await world.client.get(f"{path}/checkins", headers=headers)
    await world.client.patch(path, json={"start": "2026-11-25T14:00"}, headers=headers)
    await world.client.post(f"{path}/cancel", headers=headers)
    await world.client.delete(path, headers=headers)
    await world.clinics.issue_token("sofia", "lab")
    await world.clinics.revoke_tokens("sofia", "lab")
    await world.client.post("/api/procedures", json={"start": "2026-11-24T14:00"}, headers=world.izmir)

    answer = await world.client.get("/api/audit", params={"since": start.isoformat()}, headers=world.sofia)
    assert answer.status_code == 200
    entries = answer.json()
    token = entries[1]["actor_id"]
    assert isinstance(token, int)
    assert [(e["actor_kind"], e["actor_id"], e["action"], e["procedure_id"]) for e in entries] == [
        ("operator", None, "token_issued", None),  # the token this test calls with
        ("token", token, "registered", procedure_id),
        ("token", token, "read", procedure_id),
        ("token", token, "read_checkins", procedure_id),
        ("token", token, "moved", procedure_id),
        ("token", token, "cancelled", procedure_id),
        ("token", token, "deleted", procedure_id),
        ("operator", None, "token_issued", None),
        ("operator", None, "token_revoked", None),
    ], "only this clinic's entries: the other clinic's registration is not here"
    assert all(set(e) == {"actor_kind", "actor_id", "action", "procedure_id", "at"} for e in entries)
    assert "PETROVA" not in answer.text
    assert all(e["at"] == "2026-11-01T08:00:00Z" for e in entries)

    later = world.clock.now + dt.timedelta(hours=1)
    none = await world.client.get("/api/audit", params={"since": later.isoformat()}, headers=world.sofia)
    assert none.json() == []
    naive = await world.client.get("/api/audit", params={"since": "2026-11-01T08:00"}, headers=world.sofia)
    assert naive.status_code == 422
    assert (await world.client.get("/api/audit")).status_code == 401
