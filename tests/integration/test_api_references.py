"""The clinic API and its references: a reference in use is refused, PATCH changes one, a CSV is the body."""

from __future__ import annotations

from tests.integration.api_world import LINK_PREFIX, START, World, register


async def test_a_reference_a_scheduled_procedure_has_is_refused_with_409(world: World) -> None:
    first = await register(world, reference="A-17")
    answer = await world.client.post(
        "/api/procedures", json={"start": "2026-11-25T09:00", "reference": "A-17"}, headers=world.sofia
    )
    assert answer.status_code == 409, answer.text
    assert answer.json() == {
        "detail": f"reference 'A-17' is in use: procedure {first['procedure']['id']} "
        "(2026-11-24 14:00 Europe/Sofia) has it; move that one, or cancel it first"
    }
    listed = (await world.client.get("/api/procedures", headers=world.sofia)).json()
    assert [p["reference"] for p in listed] == ["A-17"]
    # Once cancelled, its reference may be booked again; another clinic's references are its own.
    await world.client.post(f"/api/procedures/{first['procedure']['id']}/cancel", headers=world.sofia)
    assert (await register(world, reference="A-17"))["procedure"]["reference"] == "A-17"
    other = await world.client.post(
        "/api/procedures", json={"start": START, "reference": "A-17"}, headers=world.izmir
    )
    assert other.status_code == 201, other.text


async def test_patch_changes_a_reference_and_refuses_one_in_use(world: World) -> None:
    first = (await register(world, reference="A-1"))["procedure"]["id"]
    second = (await register(world, reference="A-2"))["procedure"]["id"]

    changed = await world.client.patch(
        f"/api/procedures/{first}", json={"reference": "A-1b"}, headers=world.sofia
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["reference"], changed.json()["starts_at"]) == ("A-1b", "2026-11-24T12:00:00Z")

    clash = await world.client.patch(
        f"/api/procedures/{second}",
        json={"reference": "A-1b", "start": "2026-11-26T10:00"},
        headers=world.sofia,
    )
    assert clash.status_code == 409, clash.text
    assert clash.json()["detail"].startswith("reference 'A-1b' is in use: procedure ")
    unchanged = (await world.client.get(f"/api/procedures/{second}", headers=world.sofia)).json()
    assert (unchanged["reference"], unchanged["starts_at"]) == ("A-2", "2026-11-24T12:00:00Z"), (
        "nothing moved"
    )

    both = await world.client.patch(
        f"/api/procedures/{second}",
        json={"reference": "A-2b", "start": "2026-11-26T10:00"},
        headers=world.sofia,
    )
    assert (both.json()["reference"], both.json()["starts_at"]) == ("A-2b", "2026-11-26T08:00:00Z")
    empty = await world.client.patch(f"/api/procedures/{second}", json={}, headers=world.sofia)
    assert (empty.status_code, empty.json()) == (422, {"detail": "give `start`, `reference`, or both"})
    bad = await world.client.patch(
        f"/api/procedures/{second}", json={"reference": "Ivan P"}, headers=world.sofia
    )
    assert bad.status_code == 422
    audit = (await world.client.get("/api/audit", headers=world.sofia)).json()
    assert [entry["procedure_id"] for entry in audit if entry["action"] == "reference_changed"] == [
        first,
        second,
    ]


async def test_a_csv_sent_as_a_form_upload_gets_415_saying_what_to_send(world: World) -> None:
    csv_text = b"start,reference\n2026-11-24T09:30,C-1\n"
    form = await world.client.post(
        "/api/import/csv", files={"file": ("schedule.csv", csv_text, "text/csv")}, headers=world.sofia
    )
    assert form.status_code == 415
    assert form.json()["detail"].startswith(
        "send the CSV file itself as the request body with Content-Type: text/csv"
    )
    urlencoded = await world.client.post(
        "/api/import/csv",
        content=csv_text,
        headers=world.sofia | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert urlencoded.status_code == 415
    assert (await world.client.get("/api/procedures", headers=world.sofia)).json() == []
    raw = await world.client.post(
        "/api/import/csv", content=csv_text, headers=world.sofia | {"Content-Type": "text/csv"}
    )
    assert raw.status_code == 200, raw.text
    [invite] = raw.json()["invites"]
    assert invite["reference"] == "C-1"
    assert invite["link"].startswith(LINK_PREFIX)
