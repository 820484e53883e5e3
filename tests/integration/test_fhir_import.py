"""FHIR imports of R4, R4B and R5 exports: the same procedures from each, and each entry read as its version.

The bundles under tests/fixtures/fhir are searchsets as an EHR exports them (narratives, identifiers
with systems, participants with actors, an _include'd Patient and Practitioner, the server's
OperationOutcome), one per version, with the same five appointments.
"""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bot.services.clinic_import import ImportProblem, ImportReport
from bot.services.clinics import Clinic, ClinicError, ClinicService
from bot.services.fhir_import import import_fhir
from tests.integration.api_world import World

# The clinic-import fixtures (a Sofia clinic on a fresh database, the clock at 2026-11-20).
from tests.integration.test_clinic_import import LIMIT, by_reference, clinic, service, store, utc

__all__ = ["clinic", "service", "store"]  # fixtures used here by name

FHIR = Path(__file__).resolve().parent.parent / "fixtures" / "fhir"
EXPORTS = {"R4": "appointments-r4.json", "R4B": "appointments-r4b.json", "R5": "appointments-r5.json"}
NAMES = ("Yordanka", "Georgieva", "Nikolov", "MRN-0088213")


def export(version: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FHIR / EXPORTS[version]).read_text(encoding="utf-8"))
    return loaded


async def seed(service: ClinicService, clinic: Clinic) -> dict[str, int]:
    """The two procedures the exports move and cancel, registered earlier by the clinic."""
    ids = {}
    for reference, start in [("VP-2026-0402", "2026-12-02T09:00"), ("VP-2026-0403", "2026-12-03T09:00")]:
        details, _ = await service.register(clinic, start, reference=reference)
        ids[reference] = details.procedure.id
    return ids


def outcomes(report: ImportReport) -> list[tuple[int, str, str | None, str | None]]:
    return [(row.line, row.outcome, row.reference, row.version) for row in report.rows]


@pytest.mark.parametrize("version", ["R4", "R4B", "R5"])
async def test_an_ehr_export_of_each_version_gives_the_same_procedures(
    service: ClinicService, clinic: Clinic, version: str
) -> None:
    async with asyncio.timeout(LIMIT):
        ids = await seed(service, clinic)
        report = await import_fhir(service, clinic, json.dumps(export(version)))
        procedures = await by_reference(service, clinic)
        again = await import_fhir(service, clinic, json.dumps(export(version)))

    assert {ref: (p.starts_at, p.status) for ref, p in procedures.items()} == {
        "VP-2026-0412": (utc(2026, 12, 1, 6, 0), "scheduled"),  # +03:00 in the export
        "4413": (utc(2026, 12, 1, 8, 30), "scheduled"),  # no identifier: the resource id
        "VP-2026-0403": (utc(2026, 12, 4, 5, 15), "scheduled"),  # moved
        "VP-2026-0402": (utc(2026, 12, 2, 7, 0), "cancelled"),
    }
    assert outcomes(report) == [
        (1, "created", "VP-2026-0412", version),
        (2, "created", "4413", version),
        (3, "rescheduled", "VP-2026-0403", version),
        (4, "cancelled", "VP-2026-0402", version),
        (5, "skipped", "VP-2026-0399", version),
        (6, "skipped", None, None),
        (7, "skipped", None, None),
        (8, "skipped", None, None),
    ]
    assert report.problems == []
    assert report.skipped == [
        ImportProblem(5, "no procedure with reference 'VP-2026-0399' to cancel"),
        ImportProblem(6, "a Patient included with the search, not an Appointment"),
        ImportProblem(7, "a Practitioner included with the search, not an Appointment"),
        ImportProblem(8, "the server's note on the search (OperationOutcome), not an Appointment"),
    ]
    assert report.summary() == "2 created, 1 rescheduled, 1 cancelled, 0 unchanged, 4 skipped, no problems"
    assert report.cancelled == [ids["VP-2026-0402"]]
    assert sorted(report.invites) == sorted(report.created)
    assert not any(name in str(row) for row in report.rows for name in NAMES)

    assert (again.created, again.rescheduled, again.cancelled, again.problems) == ([], [], [], [])
    assert len(again.unchanged) == 4


async def test_a_declared_version_is_the_one_read_and_one_not_imported_is_said(
    service: ClinicService, clinic: Clinic
) -> None:
    r5 = export("R5")
    declared_r4 = copy.deepcopy(r5["entry"][0])
    declared_r4["resource"]["meta"]["profile"] = ["http://hl7.org/fhir/StructureDefinition/Appointment|4.0.1"]
    stu3 = copy.deepcopy(export("R4")["entry"][1])
    stu3["resource"]["meta"]["profile"] = ["http://hl7.org/fhir/3.0/StructureDefinition/Appointment"]
    guide = copy.deepcopy(export("R4")["entry"][1])  # an implementation guide's version is not FHIR's
    guide["resource"]["meta"]["profile"] = ["http://hl7.example.org/fhir/StructureDefinition/ig-appt|6.1.0"]
    bundle = {**r5, "entry": [declared_r4, stu3, guide]}
    async with asyncio.timeout(LIMIT):
        report = await import_fhir(service, clinic, bundle)
        as_r4 = await import_fhir(service, clinic, r5, fhir_version="4.0")
        with pytest.raises(ClinicError) as raised:
            await import_fhir(service, clinic, r5, fhir_version="2.0")

    assert report.problems == [
        ImportProblem(
            1,
            "not a valid R4 Appointment: participant[0].required: Input should be a valid string; "
            "participant[1].required: Input should be a valid string; "
            "participant[2].required: Input should be a valid string; and 6 more",
        ),
        ImportProblem(2, "FHIR version '3.0' is not imported; export R4 (4.0), R4B (4.3) or R5 (5.0)"),
    ]
    assert [(row.line, row.outcome, row.version) for row in report.rows][2:] == [(3, "created", "R4")]
    assert [row.outcome for row in as_r4.rows[:5]] == ["problem"] * 5
    assert all(row.version == "R4" for row in as_r4.rows[:5])
    assert as_r4.nothing_imported
    assert str(raised.value) == "FHIR version '2.0' is not imported; export R4 (4.0), R4B (4.3) or R5 (5.0)"
    assert [details.procedure.reference for details in await service.procedures(clinic)] == ["4413"]


async def test_only_skipped_entries_are_not_a_failure(service: ClinicService, clinic: Clinic) -> None:
    r4 = export("R4")
    async with asyncio.timeout(LIMIT):
        report = await import_fhir(service, clinic, {**r4, "entry": r4["entry"][4:]})
    assert [row.outcome for row in report.rows] == ["skipped"] * 4
    assert not report.nothing_imported


# ---------------------------------------------------------------- over the API


async def test_the_api_answers_an_r4_export_entry_by_entry_with_invites_named_by_reference(
    world: World,
) -> None:
    answer = await world.client.post(
        "/api/import/fhir",
        content=json.dumps(export("R4")).encode(),
        headers=world.sofia | {"Content-Type": "application/fhir+json"},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    # The API's world has no procedures yet: VP-2026-0403 is new here, VP-2026-0402 has none to cancel.
    assert [(e["line"], e["outcome"], e["reference"], e["fhir_version"]) for e in report["entries"]] == [
        (1, "created", "VP-2026-0412", "R4"),
        (2, "created", "4413", "R4"),
        (3, "created", "VP-2026-0403", "R4"),
        (4, "skipped", "VP-2026-0402", "R4"),
        (5, "skipped", "VP-2026-0399", "R4"),
        (6, "skipped", None, None),
        (7, "skipped", None, None),
        (8, "skipped", None, None),
    ]
    invites = {invite["reference"]: invite for invite in report["invites"]}
    assert set(invites) == {"VP-2026-0412", "4413", "VP-2026-0403"}
    assert all(
        invite["link"].startswith("https://t.me/vertebrobot_test_bot?start=") for invite in invites.values()
    )
    assert sorted(invite["procedure_id"] for invite in invites.values()) == sorted(report["created"])
    assert [s["line"] for s in report["skipped"]] == [4, 5, 6, 7, 8]
    assert report["problems"] == []


async def test_the_api_answers_422_when_nothing_could_be_imported(world: World) -> None:
    answer = await world.client.post(
        "/api/import/fhir",
        content=json.dumps(export("R5")).encode(),
        headers=world.sofia | {"Content-Type": "application/fhir+json; fhirVersion=4.0"},
    )
    assert answer.status_code == 422, answer.text
    report = answer.json()
    assert report["detail"].startswith("nothing could be imported: 0 created, 0 rescheduled, 0 cancelled")
    assert [p["line"] for p in report["problems"]] == [1, 2, 3, 4, 5]
    assert all(p["reason"].startswith("not a valid R4 Appointment: ") for p in report["problems"])
    assert report["created"] == []
    assert (await world.client.get("/api/procedures", headers=world.sofia)).json() == []
