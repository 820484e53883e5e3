"""Clinic imports: CSV and FHIR schedules become procedures row by row; bad rows reported, none half-done."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db.reminder_repo import Procedure
from bot.db.store import Store
from bot.services.clinic_import import ImportProblem, ImportReport, import_csv
from bot.services.clinics import Actor, Clinic, ClinicError, ClinicService, ConflictError, ProcedureDetails
from bot.services.fhir_import import import_fhir
from flows import check
from flows.models import ClinicSettings
from tests.databases import database_url

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
LIMIT = 10  # seconds: every test is bounded; none sleeps, none uses the network


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store(database_url(tmp_path / "import.db"))
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture
def service(store: Store) -> ClinicService:
    content = check.load_content()
    return ClinicService(store, content.plan, bot_username="t", clock=lambda: NOW)


@pytest.fixture
async def clinic(service: ClinicService) -> Clinic:
    content = check.load_content()
    settings = ClinicSettings.model_validate(
        {**content.clinic.model_dump(), "timezone": "Europe/Sofia", "name": "Sofia Spine"}
    )
    return await service.save_clinic("sofia", settings)


async def by_reference(service: ClinicService, clinic: Clinic) -> dict[str, Procedure]:
    found: dict[str, Procedure] = {}
    for details in await service.procedures(clinic):
        assert details.procedure.reference is not None
        assert details.procedure.reference not in found, "one procedure per reference"
        found[details.procedure.reference] = details.procedure
    return found


def reasons(report: ImportReport) -> dict[int, str]:
    assert len({problem.line for problem in report.problems}) == len(report.problems), "one reason per row"
    assert [problem.line for problem in report.problems] == sorted(p.line for p in report.problems)
    return {problem.line: problem.reason for problem in report.problems}


def schedule() -> str:
    return (FIXTURES / "schedule.csv").read_text(encoding="utf-8")


def update() -> str:
    # Read as a spreadsheet export arrives: BOM, `;` and CRLF kept as they are.
    return (FIXTURES / "update.csv").read_bytes().decode("utf-8")


# ---------------------------------------------------------------- CSV


async def test_a_csv_imports_the_good_rows_and_reports_each_bad_row_by_line(
    service: ClinicService, clinic: Clinic
) -> None:
    async with asyncio.timeout(LIMIT):
        report = await import_csv(service, clinic, schedule())
        procedures = await by_reference(service, clinic)

    assert {ref: p.starts_at for ref, p in procedures.items()} == {
        "R-100": utc(2026, 11, 24, 7, 30),  # Sofia wall time, EET +02:00
        "R-101": utc(2026, 11, 25, 14, 0),  # its own offset
        "R-102": utc(2027, 4, 1, 5, 0),  # Sofia wall time in summer, EEST +03:00
        "R-103": utc(2026, 11, 26, 10, 0),  # the row's own zone, London in winter
        "R-114": utc(2026, 12, 8, 7, 0),  # quoted start, action in capitals
    }
    assert {ref: p.timezone for ref, p in procedures.items()} == {
        "R-100": "Europe/Sofia",
        "R-101": "Europe/Sofia",
        "R-102": "Europe/Sofia",
        "R-103": "Europe/London",
        "R-114": "Europe/Sofia",
    }
    assert all(p.status == "scheduled" and p.source == "clinic" for p in procedures.values())
    assert sorted(report.created) == sorted(p.id for p in procedures.values())
    assert (report.rescheduled, report.cancelled, report.unchanged) == ([], [], [])
    assert set(report.invites) == set(report.created)
    assert all(invite.link.startswith("https://t.me/t?start=") for invite in report.invites.values())
    assert "token" not in repr(report)  # invites are shown once, never logged

    found = reasons(report)
    assert found == {
        6: "reference is empty; give the clinic's own id for this procedure",
        7: (
            "cannot read the time 'tomorrow at 9'; write it as 2026-11-24T09:30 (local) "
            "or with an offset, 2026-11-24T09:30+02:00"
        ),
        8: "the start is in the past; give a future time",
        9: "unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Sofia",
        10: "reference 'R-107' is also given at 11; give each procedure once",
        11: "reference 'R-107' is also given at 10; give each procedure once",
        13: "unknown action 'postpone'; use book or cancel",
        14: (
            "2 values, but the header has 4 columns (start, reference, timezone, action); "
            "check the delimiters and quotes"
        ),
        15: (
            "5 values, but the header has 4 columns (start, reference, timezone, action); "
            "check the delimiters and quotes"
        ),
        17: "the time '2026-12-04' has a date but no time of day; write it as 2026-11-24T09:30",
        18: "a reference is the clinic's own id: 1 to 64 characters, no spaces, no names",
        # a quoted value over lines 19-20 (a newline in the reference): later lines still count right
        19: "a reference is the clinic's own id: 1 to 64 characters, no spaces, no names",
        21: (
            "cannot read the time '2026-12-07T25:00'; write it as 2026-11-24T09:30 (local) "
            "or with an offset, 2026-11-24T09:30+02:00"
        ),
    }
    # Nothing to stop, rightly: exports carry cancellations of bookings never imported here.
    assert report.skipped == [ImportProblem(12, "no procedure with reference 'R-999' to cancel")]
    assert report.summary() == (
        "5 created, 0 rescheduled, 0 cancelled, 0 unchanged, 1 skipped; "
        "13 problems (lines 6, 7, 8, 9, 10, 11, 13, 14, 15, 17, …)"
    )
    assert report.messages()[0] == "line 6: reference is empty; give the clinic's own id for this procedure"


async def test_importing_the_same_csv_again_changes_nothing(service: ClinicService, clinic: Clinic) -> None:
    async with asyncio.timeout(LIMIT):
        first = await import_csv(service, clinic, schedule())
        before = await by_reference(service, clinic)
        again = await import_csv(service, clinic, schedule())
        after = await by_reference(service, clinic)

    assert after == before
    assert (again.created, again.rescheduled, again.cancelled) == ([], [], [])
    assert sorted(again.unchanged) == sorted(first.created)
    assert again.invites == {}
    assert again.problems == first.problems


async def test_a_later_csv_reschedules_cancels_and_leaves_the_same_alone(
    service: ClinicService, clinic: Clinic
) -> None:
    async with asyncio.timeout(LIMIT):
        await import_csv(service, clinic, schedule())
        ids = {ref: p.id for ref, p in (await by_reference(service, clinic)).items()}
        report = await import_csv(service, clinic, update())  # BOM, `;`, CRLF, columns in another order
        after = await by_reference(service, clinic)
        again = await import_csv(service, clinic, update())

    assert report.problems == []
    assert report.created == []
    assert sorted(report.rescheduled) == sorted([ids["R-101"], ids["R-103"]])
    assert report.cancelled == [ids["R-102"]]
    assert sorted(report.unchanged) == sorted([ids["R-100"], ids["R-114"]])
    assert report.summary() == "0 created, 2 rescheduled, 1 cancelled, 2 unchanged, no problems"
    assert after["R-101"].starts_at == utc(2026, 11, 25, 16, 0)
    # No timezone column: a wall time is read in the procedure's own zone (London), not the clinic's.
    assert after["R-103"].starts_at == utc(2026, 11, 26, 11, 0)
    assert after["R-103"].timezone == "Europe/London"
    assert after["R-102"].status == "cancelled"
    assert after["R-100"].starts_at == utc(2026, 11, 24, 7, 30)
    # Cancelling what is cancelled already is no change (and tells no patient twice).
    assert (again.rescheduled, again.cancelled, again.problems) == ([], [], [])
    assert sorted(again.unchanged) == sorted(
        ids[ref] for ref in ("R-100", "R-101", "R-102", "R-103", "R-114")
    )


async def test_csv_rows_that_conflict_with_the_clinics_procedures_are_reported(
    service: ClinicService, clinic: Clinic, store: Store
) -> None:
    async with asyncio.timeout(LIMIT):
        await import_csv(service, clinic, "start,reference\n2026-12-01T09:00,A-1\n2026-12-02T09:00,A-2\n")
        await import_csv(service, clinic, "reference,action\nA-2,cancel\n")
        procedures = await by_reference(service, clinic)
        details, _ = await service.register(clinic, "2026-12-03T09:00", reference="A-3")
        with pytest.raises(ConflictError):
            await service.register(clinic, "2026-12-03T09:00", reference="A-3")
        # Two scheduled procedures with one reference, as a database from before that refusal may hold.
        starts = details.procedure.starts_at
        second = await store.run(lambda tx: tx.bookings.add(clinic.id, "A-3", starts, "Europe/Sofia", NOW))
        report = await import_csv(
            service,
            clinic,
            "start,reference\n"
            "2026-11-19T09:00,A-1\n"  # moved into the past
            "2026-12-05T09:00,A-2\n"  # cancelled since: a stale file must not bring it back
            "2026-12-04T09:00,A-3\n",  # two scheduled procedures have this reference
        )
        after = await service.procedures(clinic)

    assert report.created == report.rescheduled == report.cancelled == report.unchanged == []
    first = details.procedure.id
    assert reasons(report) == {
        2: "the new start is in the past; give a future time",
        3: (
            f"procedure {procedures['A-2'].id} with reference 'A-2' was cancelled; "
            "a new booking needs a new reference"
        ),
        4: f"reference 'A-3' matches several scheduled procedures ({first}, {second}); cancel the extras",
    }
    assert [(d.procedure.reference, d.procedure.starts_at, d.procedure.status) for d in after] == [
        ("A-1", utc(2026, 12, 1, 7, 0), "scheduled"),
        ("A-2", utc(2026, 12, 2, 7, 0), "cancelled"),
        ("A-3", utc(2026, 12, 3, 7, 0), "scheduled"),
        ("A-3", utc(2026, 12, 3, 7, 0), "scheduled"),
    ]


async def test_a_zone_change_is_refused_and_an_unchanged_past_start_is_fine(
    service: ClinicService, clinic: Clinic, store: Store
) -> None:
    async with asyncio.timeout(LIMIT):
        await import_csv(service, clinic, "start,reference\n2026-12-01T09:00,Z-1\n2026-11-21T09:00,Z-2\n")
        later = ClinicService(store, service.plan, bot_username="t", clock=lambda: utc(2026, 11, 25))
        report = await import_csv(
            later,
            clinic,
            "start,reference,timezone\n2026-12-01T09:00,Z-1,Europe/London\n2026-11-21T09:00,Z-2,\n",
        )
        procedures = await by_reference(service, clinic)

    assert reasons(report) == {
        2: (
            f"procedure {procedures['Z-1'].id} is in the time zone Europe/Sofia, not Europe/London; "
            "to change its zone, cancel it and book it under a new reference"
        )
    }
    assert report.unchanged == [procedures["Z-2"].id]  # past now, but the same start: nothing to do


async def test_a_row_that_fails_while_applying_is_reported_and_the_rest_go_on(
    service: ClinicService, clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with asyncio.timeout(LIMIT):
        await import_csv(service, clinic, "start,reference\n2026-12-01T09:00,C-1\n")
        procedure = (await by_reference(service, clinic))["C-1"]
        reschedule = service.reschedule

        async def cancelled_meanwhile(
            clinic: Clinic, procedure_id: int, start: str | dt.datetime, *, by: Actor | None = None
        ) -> ProcedureDetails:
            await service.cancel(clinic, procedure_id)  # staff cancel it while the import runs
            return await reschedule(clinic, procedure_id, start, by=by)

        monkeypatch.setattr(service, "reschedule", cancelled_meanwhile)
        report = await import_csv(
            service, clinic, "start,reference\n2026-12-02T09:00,C-1\n2026-12-03T09:00,C-2\n"
        )
        procedures = await by_reference(service, clinic)

    assert report.problems == [ImportProblem(2, "this procedure is cancelled; register a new one")]
    assert report.summary() == "1 created, 0 rescheduled, 0 cancelled, 0 unchanged; 1 problem (line 2)"
    assert report.rescheduled == []
    assert report.created == [procedures["C-2"].id]
    assert procedures["C-1"].starts_at == procedure.starts_at


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("\ufeff  \n", "the file is empty"),
        ("2026-12-01T09:00,R-1\n", "line 1: unknown column '2026-12-01T09:00', 'R-1'"),
        ("Start,Reference,Patient Name\n", "line 1: unknown column 'Patient Name'"),
        ("start,tz,reference\n", "line 1: unknown column 'tz'"),
        ("start\n2026-12-01T09:00\n", "line 1: the header needs the column reference"),
        ("start;when\n", "line 1: unknown column 'when'"),
        ("start,reference,start\n", "line 1: the column start appears twice"),
        (
            'start,reference\n2026-12-01T09:00,R-1\n"' + "x" * 200_000 + '",R-2\n',
            "line 3: not readable as CSV",
        ),
    ],
)
async def test_a_csv_without_a_usable_header_is_refused_whole(
    service: ClinicService, clinic: Clinic, text: str, message: str
) -> None:
    async with asyncio.timeout(LIMIT):
        with pytest.raises(ClinicError) as raised:
            await import_csv(service, clinic, text)
        assert await service.procedures(clinic) == []
    assert str(raised.value).startswith(message)


async def test_a_semicolon_file_with_a_trailing_delimiter_imports(
    service: ClinicService, clinic: Clinic
) -> None:
    async with asyncio.timeout(LIMIT):
        report = await import_csv(service, clinic, "\ufeffstart;reference;\n2026-12-01 09:00;S-1;\n\n")
        procedures = await by_reference(service, clinic)
    assert report.problems == []
    assert procedures["S-1"].starts_at == utc(2026, 12, 1, 7, 0)


# ---------------------------------------------------------------- FHIR


async def seed_fhir(service: ClinicService, clinic: Clinic) -> dict[str, int]:
    ids = {}
    for reference, start in [
        ("R-200", "2026-12-10T09:00"),
        ("R-201", "2026-12-11T09:00"),
        ("R-202", "2026-12-12T09:00"),
        ("R-203", "2026-12-13T09:00"),
        ("R-204", "2026-12-14T09:00"),
    ]:
        details, _ = await service.register(clinic, start, reference=reference)
        ids[reference] = details.procedure.id
    return ids


async def test_a_fhir_bundle_books_moves_cancels_and_reports_by_entry(
    service: ClinicService, clinic: Clinic
) -> None:
    data = (FIXTURES / "appointments.json").read_text(encoding="utf-8")
    async with asyncio.timeout(LIMIT):
        ids = await seed_fhir(service, clinic)
        report = await import_fhir(service, clinic, data)
        procedures = await by_reference(service, clinic)
        again = await import_fhir(service, clinic, data.encode())

    assert len(report.created) == 2
    assert sorted(report.created) == sorted([procedures["R-210"].id, procedures["appt-211"].id])
    assert report.rescheduled == [ids["R-200"]]
    assert report.cancelled == [ids["R-201"], ids["R-202"], ids["R-204"]]
    assert report.unchanged == [ids["R-203"]]  # the same instant written with another offset
    assert procedures["R-210"].starts_at == utc(2026, 12, 1, 7, 0)
    assert procedures["R-210"].timezone == "Europe/Sofia"
    assert procedures["appt-211"].starts_at == utc(2026, 12, 16, 8, 15)  # no identifier: the id
    assert procedures["R-200"].starts_at == utc(2026, 12, 10, 9, 30)
    assert {ref: procedures[ref].status for ref in ("R-201", "R-202", "R-204", "R-203")} == {
        "R-201": "cancelled",
        "R-202": "cancelled",
        "R-204": "cancelled",
        "R-203": "scheduled",
    }
    assert not {"R-205", "R-206", "R-207", "R-208", "R-299"} & set(procedures)

    found = reasons(report)
    assert found == {
        5: (
            "not a valid R4/R4B/R5 Appointment: start 'not-a-date' is not a FHIR instant "
            "such as 2026-11-24T09:30:00+02:00"
        ),
        6: "not a valid R4/R4B/R5 Appointment: status is required",
        7: "status 'proposed' is not imported; booked, cancelled, noshow and entered-in-error are",
        10: "a Patient, not an Appointment",
        13: "a booked Appointment needs a start, such as 2026-11-24T09:30:00+02:00",
        14: "the entry has no resource",
    }
    assert not any("Ivan" in reason or "pydantic" in reason for reason in found.values())
    assert report.skipped == [ImportProblem(9, "no procedure with reference 'R-299' to cancel")]
    assert report.summary() == (
        "2 created, 1 rescheduled, 3 cancelled, 1 unchanged, 1 skipped; "
        "6 problems (entries 5, 6, 7, 10, 13, 14)"
    )
    assert report.messages()[-1] == "entry 14: the entry has no resource"

    assert (again.created, again.rescheduled, again.cancelled) == ([], [], [])
    assert sorted(again.unchanged) == sorted(
        [*report.created, *report.rescheduled, *report.cancelled, *report.unchanged]
    )
    assert again.problems == report.problems


async def test_a_single_appointment_is_entry_one(service: ClinicService, clinic: Clinic) -> None:
    appointment = {
        "resourceType": "Appointment",
        "id": "one",
        "identifier": [{"system": "urn:x"}],  # no value: the id is the reference
        "status": "booked",
        "start": "2026-12-20T09:00:00+02:00",
        "participant": [{"status": "accepted"}],
    }
    async with asyncio.timeout(LIMIT):
        report = await import_fhir(service, clinic, appointment)
        waitlisted = await import_fhir(service, clinic, json.dumps({**appointment, "status": "waitlist"}))
        duplicated = await import_fhir(
            service,
            clinic,
            {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": appointment}] * 2},
        )
        procedures = await by_reference(service, clinic)

    assert report.created == [procedures["one"].id]
    assert procedures["one"].starts_at == utc(2026, 12, 20, 7, 0)
    assert reasons(waitlisted) == {
        1: "status 'waitlist' is not imported; booked, cancelled, noshow and entered-in-error are"
    }
    assert reasons(duplicated) == {
        1: "reference 'one' is also given at 2; give each procedure once",
        2: "reference 'one' is also given at 1; give each procedure once",
    }
    assert procedures["one"].status == "scheduled"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"resourceType": "Bundle", "entry": [', "not JSON: Expecting value: line 1 column 38 (char 37)"),
        (b"\xff\xfe{not json", "not JSON"),
        ("<Appointment/>", "not JSON: Expecting value: line 1 column 1 (char 0)"),
        ("[]", "expected a FHIR Appointment or a Bundle of Appointments"),
        ('{"status": "booked"}', "expected a FHIR Appointment or a Bundle of Appointments"),
        ('{"resourceType": "Bundle", "entry": []}', "not a valid FHIR Bundle: type is required"),
        ('{"resourceType": "Bundle", "type": "collection", "entry": {}}', "not a valid FHIR Bundle: entry"),
    ],
)
async def test_unreadable_fhir_is_refused_whole(
    service: ClinicService, clinic: Clinic, data: str | bytes, message: str
) -> None:
    async with asyncio.timeout(LIMIT):
        with pytest.raises(ClinicError) as raised:
            await import_fhir(service, clinic, data)
        assert await service.procedures(clinic) == []
    assert str(raised.value).startswith(message)


async def test_two_registrations_of_one_reference_at_once_give_one_procedure(
    service: ClinicService, clinic: Clinic, store: Store, tmp_path: Path
) -> None:
    # A second instance on the same database (on PostgreSQL, a second connection at the same time).
    other_store = Store(database_url(tmp_path / "import.db"))
    other = ClinicService(other_store, service.plan, bot_username="t", clock=lambda: NOW)
    try:
        async with asyncio.timeout(LIMIT):
            results = await asyncio.gather(
                service.register(clinic, "2026-12-01T09:00", reference="TWICE"),
                other.register(clinic, "2026-12-01T10:00", reference="TWICE"),
                return_exceptions=True,
            )
            procedures = await service.procedures(clinic)
    finally:
        await other_store.close()
    assert sorted(type(result).__name__ for result in results) == ["ConflictError", "tuple"]
    assert [details.procedure.reference for details in procedures] == ["TWICE"]
