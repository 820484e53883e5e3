"""Clinics import their schedule: a CSV file or FHIR Appointments, row by row, nothing half-done.

Both readers turn the input into intents (book this reference at this time, cancel that one).
Every intent is checked, against the file and against the clinic's procedures, before anything
is written; then each good one is one call to the clinic service, so one transaction. A row is
either imported whole or reported with its line (CSV) or entry (FHIR Bundle) and the reason.

Procedures are matched by `reference`, the clinic's own id for the procedure (never a name), so
importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from fhir.resources.appointment import Appointment
from fhir.resources.bundle import Bundle
from pydantic import ValidationError
from sqlalchemy import select

from bot.db.store import Transaction
from bot.db.tables import PROCEDURES
from bot.services.clinic_model import REFERENCE, REFERENCE_RULE, Clinic, ClinicError, Invite, parse_start
from bot.services.clinics import ClinicService

MAX_ROWS = 5000  # rows or entries in one import: each is a transaction on the event loop
COLUMNS = ("start", "reference", "timezone", "action")
REQUIRED_COLUMNS = ("reference",)  # a file of cancellations needs no start
ACTIONS = ("book", "cancel")

# FHIR Appointment.status (R5: proposed | pending | booked | arrived | fulfilled | cancelled |
# noshow | entered-in-error | checked-in | waitlist) and what an import does with it:
# - booked: the procedure will happen at `start` -> register it, or move it if `start` changed.
# - cancelled, noshow: it will not happen (or did not) -> cancel it, stopping its reminders.
# - entered-in-error: the appointment never existed, so a procedure made from it must not keep
#   reminding the patient -> cancel it, like `cancelled` (nothing to do for an unknown one is
#   still reported, as for `cancelled`, so the clinic sees it).
# - proposed, pending, waitlist: not confirmed yet; reminders for a maybe are worse than none.
# - arrived, checked-in, fulfilled: the patient is there or done; the procedure as booked stands
#   and its aftercare reminders must go on, so cancelling or re-planning would be wrong.
# The last two groups are reported ("status X is not imported") and change nothing.
FHIR_BOOK = frozenset({"booked"})
FHIR_CANCEL = frozenset({"cancelled", "noshow", "entered-in-error"})
FHIR_INSTANT_EXAMPLE = "2026-11-24T09:30:00+02:00"
# Values of these fields may be quoted back in a reason; others may hold names or notes.
FHIR_SHOWN_FIELDS = frozenset({"start", "end", "status", "id", "resourceType", "type"})
FHIR_ERRORS_SHOWN = 3


@dataclass(frozen=True)
class ImportProblem:
    """A row (CSV line, counting the header as line 1) or FHIR entry (1-based) not imported, and why."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did: procedure ids by outcome, and the rows it could not import."""

    created: list[int] = field(default_factory=list)
    rescheduled: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    unit: str = "line"  # what ImportProblem.line counts: "line" (CSV) or "entry" (FHIR)
    # The invite of each created procedure: shown once, like register's; kept out of repr and logs.
    invites: dict[int, Invite] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        """One line for people: the counts, and where the problems are."""
        counts = (
            f"{len(self.created)} created, {len(self.rescheduled)} rescheduled, "
            f"{len(self.cancelled)} cancelled, {len(self.unchanged)} unchanged"
        )
        if not self.problems:
            return f"{counts}, no problems"
        shown = sorted({problem.line for problem in self.problems})
        where = ", ".join(map(str, shown[:10])) + (", …" if len(shown) > 10 else "")
        noun = "problem" if len(self.problems) == 1 else "problems"
        unit = self.unit if len(shown) == 1 else {"entry": "entries"}.get(self.unit, f"{self.unit}s")
        return f"{counts}; {len(self.problems)} {noun} ({unit} {where})"

    def messages(self) -> list[str]:
        """Each problem as `line 3: reason` (or `entry 3: reason`)."""
        return [f"{self.unit} {problem.line}: {problem.reason}" for problem in self.problems]


@dataclass(frozen=True)
class _Intent:
    """One readable row: what the clinic asks for one reference."""

    line: int
    reference: str
    action: Literal["book", "cancel"]
    start: dt.datetime | None = None  # UTC; set when booking
    zone: str | None = None  # a zone the row names; None means the clinic's
    local: dt.datetime | None = None  # the wall time, when the row gave no offset


@dataclass(frozen=True)
class _Known:
    """A procedure of this clinic that has a reference."""

    id: int
    reference: str
    starts_at: dt.datetime
    timezone: str
    status: str


@dataclass(frozen=True)
class _Step:
    """What applying one intent takes."""

    intent: _Intent
    kind: Literal["register", "reschedule", "cancel", "unchanged"]
    procedure_id: int | None = None
    start: dt.datetime | None = None  # UTC, for register and reschedule


# ---------------------------------------------------------------- CSV


async def import_csv(service: ClinicService, clinic: Clinic, text: str) -> ImportReport:
    """Import a CSV schedule: columns start, reference, and optionally timezone and action.

    `start` is ISO 8601 with an offset, or a wall time in `timezone` (if empty: in the zone of
    the procedure with this reference, else the clinic's); `action` is book (the default) or
    cancel. Raises ClinicError if the file has no usable header.
    """
    report = ImportReport(unit="line")
    intents = _read_csv(text, clinic, report.problems)
    await _apply(service, clinic, intents, report)
    return report


def _read_csv(text: str, clinic: Clinic, problems: list[ImportProblem]) -> list[_Intent]:
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ClinicError("the file is empty; its first line must be a header such as start,reference")
    first_line = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)  # a tie (no delimiter at all) gives ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = _header(next(reader))
        rows: list[tuple[int, dict[str, str]]] = []
        previous_end = reader.line_num
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(rows) + len(problems) >= MAX_ROWS:
                raise ClinicError(f"more than {MAX_ROWS} rows; split the file")
            values = _cells(cells, columns)
            if isinstance(values, str):
                problems.append(ImportProblem(line, values))
            else:
                rows.append((line, values))
    except csv.Error as exc:
        raise ClinicError(f"line {reader.line_num}: not readable as CSV ({exc})") from None
    duplicates = _duplicates((line, values["reference"]) for line, values in rows)
    intents = []
    for line, values in rows:
        intent = duplicates.get(line) or _csv_intent(line, values, clinic)
        if isinstance(intent, str):
            problems.append(ImportProblem(line, intent))
        else:
            intents.append(intent)
    return intents


def _header(cells: list[str]) -> list[str]:
    given = [cell.strip() for cell in cells]
    while given and not given[-1]:
        given.pop()  # spreadsheets often end every line with a delimiter
    names = [name.lower() for name in given]
    expected = "start, reference, and optionally timezone and action"
    unknown = [shown for shown, name in zip(given, names, strict=True) if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if unknown:
        # Not ignored: a misspelt `timezone` would otherwise put every time in the wrong zone.
        shown = ", ".join(repr(name) for name in unknown)
        raise ClinicError(f"line 1: unknown column {shown}; the header names the columns {expected}")
    if missing:
        raise ClinicError(f"line 1: the header needs the column {', '.join(missing)}; columns: {expected}")
    if repeated:
        raise ClinicError(f"line 1: the column {', '.join(repeated)} appears twice")
    return names


def _cells(cells: list[str], columns: list[str]) -> dict[str, str] | str:
    """The row's values by column, or why the row does not fit the header."""
    extra = cells[len(columns) :]
    if len(cells) < len(columns) or any(cell.strip() for cell in extra):
        values = f"{len(cells)} value{'' if len(cells) == 1 else 's'}"
        return (
            f"{values}, but the header has {len(columns)} columns ({', '.join(columns)}); "
            "check the delimiters and quotes"
        )
    return {name: cell.strip() for name, cell in zip(columns, cells, strict=False)}


def _csv_intent(line: int, values: dict[str, str], clinic: Clinic) -> _Intent | str:
    reference = values["reference"]
    if not reference:
        return "reference is empty; give the clinic's own id for this procedure"
    if not REFERENCE.fullmatch(reference):
        return REFERENCE_RULE
    action = values.get("action", "").lower() or "book"
    if action == "cancel":
        # Only the reference counts: start and timezone are not needed to cancel.
        return _Intent(line, reference, "cancel")
    if action != "book":
        return f"unknown action {values['action']!r}; use book or cancel"
    text = values.get("start", "")
    if not text:
        return "start is empty; give the date and time, such as 2026-11-24T09:30"
    zone = values.get("timezone") or None
    try:
        start, _ = parse_start(text, zone or clinic.settings.timezone)
    except ClinicError as exc:  # also a date without a time of day
        return str(exc)
    wall = dt.datetime.fromisoformat(text)  # parse_start read it already
    return _Intent(line, reference, "book", start, zone, wall if wall.tzinfo is None else None)


# ---------------------------------------------------------------- FHIR


async def import_fhir(
    service: ClinicService, clinic: Clinic, data: str | bytes | dict[str, Any]
) -> ImportReport:
    """Import a FHIR (R5) Appointment, or a Bundle of them; problems are counted by entry.

    The reference is the first identifier's value, else the resource id. Raises ClinicError
    if the input is not JSON, not a FHIR resource, or a Bundle that is not valid.
    """
    report = ImportReport(unit="entry")
    intents = _read_fhir(_json(data), report.problems)
    await _apply(service, clinic, intents, report)
    return report


def _json(data: str | bytes | dict[str, Any]) -> Any:
    if isinstance(data, dict):
        return data
    try:
        return json.loads(data.removeprefix("\ufeff") if isinstance(data, str) else data)
    except UnicodeDecodeError:
        raise ClinicError("not JSON: the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ClinicError(f"not JSON: {exc}") from None
    except RecursionError:
        raise ClinicError("not JSON that can be read: nested too deeply") from None


def _read_fhir(tree: Any, problems: list[ImportProblem]) -> list[_Intent]:
    if not isinstance(tree, dict) or not isinstance(tree.get("resourceType"), str):
        raise ClinicError("expected a FHIR Appointment or a Bundle of Appointments (with resourceType)")
    if tree["resourceType"] == "Bundle":
        envelope = {key: value for key, value in tree.items() if key != "entry"}
        try:
            # Entries are validated one by one below: a bad one must not sink the others.
            Bundle.model_validate(envelope)
        except ValidationError as exc:
            raise ClinicError(f"not a valid FHIR Bundle: {_reason(exc)}") from None
        entries = tree.get("entry", [])
        if not isinstance(entries, list):
            raise ClinicError("not a valid FHIR Bundle: entry must be a list")
        if len(entries) > MAX_ROWS:
            raise ClinicError(f"more than {MAX_ROWS} entries; split the Bundle")
        resources = [
            (number, entry.get("resource") if isinstance(entry, dict) else None)
            for number, entry in enumerate(entries, start=1)
        ]
    else:
        resources = [(1, tree)]
    read: list[tuple[int, _Intent]] = []
    for number, resource in resources:
        intent = _fhir_intent(number, resource)
        if isinstance(intent, str):
            problems.append(ImportProblem(number, intent))
        else:
            read.append((number, intent))
    duplicates = _duplicates((number, intent.reference) for number, intent in read)
    for number, _ in read:
        if number in duplicates:
            problems.append(ImportProblem(number, duplicates[number]))
    return [intent for number, intent in read if number not in duplicates]


def _fhir_intent(number: int, resource: Any) -> _Intent | str:
    if not isinstance(resource, dict):
        return "the entry has no resource"
    kind = resource.get("resourceType")
    if kind != "Appointment":
        return "the resource has no resourceType" if kind is None else f"a {kind}, not an Appointment"
    try:
        appointment = Appointment.model_validate(resource)
    except ValidationError as exc:
        return f"not a valid Appointment: {_reason(exc)}"
    identifier = appointment.identifier[0].value if appointment.identifier else None
    reference = identifier or appointment.id
    if not reference:
        return "the Appointment has neither an identifier value nor an id to match it by"
    if not REFERENCE.fullmatch(reference):
        return f"{REFERENCE_RULE} (from the identifier value or the id)"
    status = appointment.status
    if status in FHIR_CANCEL:
        return _Intent(number, reference, "cancel")
    if status not in FHIR_BOOK:
        return f"status {status!r} is not imported; booked, cancelled, noshow and entered-in-error are"
    start = appointment.start
    if start is None:
        return f"a booked Appointment needs a start, such as {FHIR_INSTANT_EXAMPLE}"
    if start.tzinfo is None:  # FHIR instants always carry an offset; never guess one
        return f"start needs an offset, such as {FHIR_INSTANT_EXAMPLE}"
    return _Intent(number, reference, "book", start.astimezone(dt.UTC))


def _reason(exc: ValidationError) -> str:
    """Pydantic's errors as one readable sentence, without quoting fields that may hold names."""
    errors = exc.errors(include_url=False, include_context=False)
    parts = []
    for error in errors[:FHIR_ERRORS_SHOWN]:
        where = _where(error["loc"])
        field_name = next((str(part) for part in reversed(error["loc"]) if isinstance(part, str)), "")
        given = error.get("input")
        shown = field_name in FHIR_SHOWN_FIELDS and isinstance(given, str) and len(given) <= 40
        message = " ".join(str(error["msg"]).split()).removeprefix("Value error, ").replace("``", "")
        if error["type"] in ("missing", "model_field_validation.missing"):
            parts.append(f"{where} is required")
        elif field_name in ("start", "end") and "does not match" in message:
            got = f" {given!r}" if shown else ""
            parts.append(f"{where}{got} is not a FHIR instant such as {FHIR_INSTANT_EXAMPLE}")
        else:
            parts.append(f"{where}: {message.rstrip('.')}" + (f" (got {given!r})" if shown else ""))
    if len(errors) > FHIR_ERRORS_SHOWN:
        parts.append(f"and {len(errors) - FHIR_ERRORS_SHOWN} more")
    return "; ".join(parts)


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "the resource"


# ---------------------------------------------------------------- both


def _duplicates(references: Iterable[tuple[int, str]]) -> dict[int, str]:
    """Rows naming a reference another row names too: which of them is meant cannot be told."""
    lines: dict[str, list[int]] = {}
    for line, reference in references:
        if reference:
            lines.setdefault(reference, []).append(line)
    reasons = {}
    for reference, where in lines.items():
        if len(where) > 1:
            for line in where:
                others = ", ".join(str(other) for other in where if other != line)
                reasons[line] = f"reference {reference!r} is also given at {others}; give each procedure once"
    return reasons


async def _apply(
    service: ClinicService, clinic: Clinic, intents: list[_Intent], report: ImportReport
) -> None:
    """Check every intent against the clinic's procedures, then carry out the good ones one by one."""
    references = {intent.reference for intent in intents}
    known = await service.store.run(lambda tx: _known(tx, clinic.id, references))
    now: dt.datetime = service.clock()
    steps = []
    for intent in intents:
        step = _decide(intent, known.get(intent.reference, []), now)
        if isinstance(step, str):
            report.problems.append(ImportProblem(intent.line, step))
        else:
            steps.append(step)
    for step in steps:
        try:
            await _carry_out(service, clinic, step, report)
        except ClinicError as exc:  # changed since it was checked: this row only
            report.problems.append(ImportProblem(step.intent.line, str(exc)))
    report.problems.sort(key=lambda problem: problem.line)


def _known(tx: Transaction, clinic_id: int, references: set[str]) -> dict[str, list[_Known]]:
    found: dict[str, list[_Known]] = {}
    if not references:
        return found
    rows = tx.conn.execute(
        select(
            PROCEDURES.c.id,
            PROCEDURES.c.reference,
            PROCEDURES.c.starts_at,
            PROCEDURES.c.timezone,
            PROCEDURES.c.status,
        )
        .where(PROCEDURES.c.clinic_id == clinic_id, PROCEDURES.c.reference.in_(sorted(references)))
        .order_by(PROCEDURES.c.id)
    )
    for row in rows:
        found.setdefault(row.reference, []).append(
            _Known(row.id, row.reference, row.starts_at, row.timezone, row.status)
        )
    return found


def _decide(intent: _Intent, matches: list[_Known], now: dt.datetime) -> _Step | str:
    """What one intent does to this clinic's procedures with its reference, or why it cannot."""
    scheduled = [known for known in matches if known.status == "scheduled"]
    if len(scheduled) > 1:
        ids = ", ".join(str(known.id) for known in scheduled)
        return (
            f"reference {intent.reference!r} matches several scheduled procedures ({ids}); cancel the extras"
        )
    current = scheduled[0] if scheduled else None
    if intent.action == "cancel":
        if current is not None:
            return _Step(intent, "cancel", current.id)
        if matches:
            return _Step(intent, "unchanged", matches[-1].id)  # cancelled already
        return f"no procedure with reference {intent.reference!r} to cancel"
    assert intent.start is not None
    if current is None:
        if matches:
            # A stale file must not bring back what the clinic cancelled since.
            return (
                f"procedure {matches[-1].id} with reference {intent.reference!r} was cancelled; "
                "a new booking needs a new reference"
            )
        if intent.start <= now:
            return "the start is in the past; give a future time"
        return _Step(intent, "register", start=intent.start)
    if intent.zone is not None and intent.zone != current.timezone:
        return (
            f"procedure {current.id} is in the time zone {current.timezone}, not {intent.zone}; "
            "to change its zone, cancel it and book it under a new reference"
        )
    start = intent.start
    if intent.zone is None and intent.local is not None:
        start, _ = parse_start(intent.local, current.timezone)  # a wall time in the procedure's own zone
    if start == current.starts_at:
        return _Step(intent, "unchanged", current.id)
    if start <= now:
        return "the new start is in the past; give a future time"
    return _Step(intent, "reschedule", current.id, start)


async def _carry_out(service: ClinicService, clinic: Clinic, step: _Step, report: ImportReport) -> None:
    intent = step.intent
    if step.kind == "register":
        assert step.start is not None
        details, invite = await service.register(
            clinic, step.start, reference=intent.reference, timezone=intent.zone
        )
        report.created.append(details.procedure.id)
        report.invites[details.procedure.id] = invite
        return
    assert step.procedure_id is not None
    if step.kind == "reschedule":
        assert step.start is not None
        await service.reschedule(clinic, step.procedure_id, step.start)
        report.rescheduled.append(step.procedure_id)
    elif step.kind == "cancel":
        await service.cancel(clinic, step.procedure_id)
        report.cancelled.append(step.procedure_id)
    else:
        report.unchanged.append(step.procedure_id)
