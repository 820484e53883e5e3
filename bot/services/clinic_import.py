"""Clinics import their schedule: a CSV file or FHIR Appointments, row by row, nothing half-done.

Both readers (FHIR in bot/services/fhir_import.py) turn the input into intents (book this
reference at this time, cancel that one).
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from bot.db.audit_repo import Actor
from bot.db.clinic_repo import Clinic
from bot.db.reminder_repo import Procedure
from bot.services.clinic_model import ClinicError, Invite, beyond_window, parse_start
from bot.services.clinics import ClinicService
from flows.models import REFERENCE, REFERENCE_RULE

MAX_ROWS = 5000  # rows or entries in one import: each is a transaction on the event loop
COLUMNS = ("start", "reference", "timezone", "action")
REQUIRED_COLUMNS = ("reference",)  # a file of cancellations needs no start
ACTIONS = ("book", "cancel")


@dataclass(frozen=True)
class ImportProblem:
    """A row (CSV line, counting the header as line 1) or FHIR entry (1-based) not imported, and why."""

    line: int
    reason: str


Outcome = Literal["created", "rescheduled", "cancelled", "unchanged", "skipped", "problem"]


@dataclass(frozen=True)
class RowOutcome:
    """What became of one row or entry: the procedure it touched, or why it was skipped or refused."""

    line: int
    outcome: Outcome
    reference: str | None = None
    procedure_id: int | None = None
    reason: str | None = None  # for skipped and problem
    version: str | None = None  # the FHIR version an entry was read as (R4, R4B, R5); None for CSV


@dataclass
class ImportReport:
    """What an import did, row by row: procedure ids by outcome, skipped rows and problems."""

    rows: list[RowOutcome] = field(default_factory=list)
    unit: str = "line"  # what a row's line counts: "line" (CSV) or "entry" (FHIR)
    # The invite of each created procedure: shown once, like register's; kept out of repr and logs.
    invites: dict[int, Invite] = field(default_factory=dict, repr=False)

    def add(self, row: RowOutcome) -> None:
        """Note one row's outcome."""
        self.rows.append(row)

    def problem(self, line: int, reason: str, version: str | None = None) -> None:
        """Note a row that cannot be imported, and why."""
        self.rows.append(RowOutcome(line, "problem", reason=reason, version=version))

    def _ids(self, outcome: Outcome) -> list[int]:
        return [row.procedure_id for row in self.rows if row.outcome == outcome and row.procedure_id]

    def _reasons(self, outcome: Outcome) -> list[ImportProblem]:
        return [ImportProblem(row.line, row.reason or "") for row in self.rows if row.outcome == outcome]

    @property
    def created(self) -> list[int]:
        return self._ids("created")

    @property
    def rescheduled(self) -> list[int]:
        return self._ids("rescheduled")

    @property
    def cancelled(self) -> list[int]:
        return self._ids("cancelled")

    @property
    def unchanged(self) -> list[int]:
        return self._ids("unchanged")

    @property
    def problems(self) -> list[ImportProblem]:
        """Rows not imported because something in them (or in the clinic's procedures) is wrong."""
        return self._reasons("problem")

    @property
    def skipped(self) -> list[ImportProblem]:
        """Rows with nothing to import: an included Patient, a cancellation of an unknown reference."""
        return self._reasons("skipped")

    @property
    def nothing_imported(self) -> bool:
        """There were problems, and no row was imported (nor found already as it says)."""
        return bool(self.problems) and all(row.outcome in ("skipped", "problem") for row in self.rows)

    def summary(self) -> str:
        """One line for people: the counts, and where the problems are."""
        counts = (
            f"{len(self.created)} created, {len(self.rescheduled)} rescheduled, "
            f"{len(self.cancelled)} cancelled, {len(self.unchanged)} unchanged"
        )
        if self.skipped:
            counts += f", {len(self.skipped)} skipped"
        problems = self.problems
        if not problems:
            return f"{counts}, no problems"
        shown = [problem.line for problem in problems]
        where = ", ".join(map(str, shown[:10])) + (", …" if len(shown) > 10 else "")
        noun = "problem" if len(problems) == 1 else "problems"
        unit = self.unit if len(shown) == 1 else {"entry": "entries"}.get(self.unit, f"{self.unit}s")
        return f"{counts}; {len(problems)} {noun} ({unit} {where})"

    def messages(self) -> list[str]:
        """Each problem as `line 3: reason` (or `entry 3: reason`)."""
        return [f"{self.unit} {problem.line}: {problem.reason}" for problem in self.problems]

    def skip_messages(self) -> list[str]:
        """Each skipped row as `entry 6: skipped: reason`."""
        return [f"{self.unit} {row.line}: skipped: {row.reason}" for row in self.skipped]


@dataclass(frozen=True)
class Intent:
    """One readable row: what the clinic asks for one reference."""

    line: int
    reference: str
    action: Literal["book", "cancel"]
    start: dt.datetime | None = None  # UTC; set when booking
    zone: str | None = None  # a zone the row names; None means the clinic's
    local: dt.datetime | None = None  # the wall time, when the row gave no offset
    version: str | None = None  # the FHIR version the entry was read as


@dataclass(frozen=True)
class _Step:
    """What applying one intent takes."""

    intent: Intent
    kind: Literal["register", "reschedule", "cancel", "unchanged", "skipped"]
    procedure_id: int | None = None
    start: dt.datetime | None = None  # UTC, for register and reschedule
    reason: str | None = None  # for skipped


# ---------------------------------------------------------------- CSV


async def import_csv(
    service: ClinicService, clinic: Clinic, text: str, *, by: Actor | None = None
) -> ImportReport:
    """Import a CSV schedule: columns start, reference, and optionally timezone and action.

    `start` is ISO 8601 with an offset, or a wall time in `timezone` (if empty: in the zone of
    the procedure with this reference, else the clinic's); `action` is book (the default) or
    cancel. Raises ClinicError if the file has no usable header.
    """
    report = ImportReport(unit="line")
    intents = _read_csv(text, clinic, report)
    await apply_intents(service, clinic, intents, report, by)
    return report


def _read_csv(text: str, clinic: Clinic, report: ImportReport) -> list[Intent]:
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
            if len(rows) + len(report.rows) >= MAX_ROWS:
                raise ClinicError(f"more than {MAX_ROWS} rows; split the file")
            values = _cells(cells, columns)
            if isinstance(values, str):
                report.problem(line, values)
            else:
                rows.append((line, values))
    except csv.Error as exc:
        raise ClinicError(f"line {reader.line_num}: not readable as CSV ({exc})") from None
    duplicates = repeated_references((line, values["reference"]) for line, values in rows)
    intents = []
    for line, values in rows:
        intent = duplicates.get(line) or _csv_intent(line, values, clinic)
        if isinstance(intent, str):
            report.problem(line, intent)
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


def _csv_intent(line: int, values: dict[str, str], clinic: Clinic) -> Intent | str:
    reference = values["reference"]
    if not reference:
        return "reference is empty; give the clinic's own id for this procedure"
    if not REFERENCE.fullmatch(reference):
        return REFERENCE_RULE
    action = values.get("action", "").lower() or "book"
    if action == "cancel":
        # Only the reference counts: start and timezone are not needed to cancel.
        return Intent(line, reference, "cancel")
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
    return Intent(line, reference, "book", start, zone, wall if wall.tzinfo is None else None)


# ---------------------------------------------------------------- FHIR


def repeated_references(references: Iterable[tuple[int, str]]) -> dict[int, str]:
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


async def apply_intents(
    service: ClinicService,
    clinic: Clinic,
    intents: list[Intent],
    report: ImportReport,
    by: Actor | None = None,
) -> None:
    """Check every intent against the clinic's procedures, then carry out the good ones one by one."""
    references = {intent.reference for intent in intents}
    known = await service.store.run(lambda tx: tx.bookings.with_references(clinic.id, references))
    now: dt.datetime = service.clock()
    steps = []
    for intent in intents:
        step = _decide(intent, known.get(intent.reference, []), now)
        if isinstance(step, str):
            report.problem(intent.line, step, intent.version)
        elif step.kind == "skipped":
            report.add(
                RowOutcome(
                    intent.line, "skipped", intent.reference, reason=step.reason, version=intent.version
                )
            )
        else:
            steps.append(step)
    for step in steps:
        try:
            await _carry_out(service, clinic, step, report, by)
        except ClinicError as exc:  # changed since it was checked: this row only
            report.problem(step.intent.line, str(exc), step.intent.version)
    report.rows.sort(key=lambda row: row.line)


def _decide(intent: Intent, matches: list[Procedure], now: dt.datetime) -> _Step | str:
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
        # Nothing to stop: exports carry cancellations of bookings that never came here.
        return _Step(intent, "skipped", reason=f"no procedure with reference {intent.reference!r} to cancel")
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
        if too_far := beyond_window(intent.start, now):
            return too_far
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
    if too_far := beyond_window(start, now):
        return too_far
    return _Step(intent, "reschedule", current.id, start)


async def _carry_out(
    service: ClinicService, clinic: Clinic, step: _Step, report: ImportReport, by: Actor | None
) -> None:
    intent = step.intent
    done: Outcome = "unchanged"
    if step.kind == "register":
        assert step.start is not None
        details, invite = await service.register(
            clinic, step.start, reference=intent.reference, timezone=intent.zone, by=by
        )
        report.invites[details.procedure.id] = invite
        done, procedure_id = "created", details.procedure.id
    else:
        assert step.procedure_id is not None
        procedure_id = step.procedure_id
        if step.kind == "reschedule":
            assert step.start is not None
            await service.reschedule(clinic, procedure_id, step.start, by=by)
            done = "rescheduled"
        elif step.kind == "cancel":
            await service.cancel(clinic, procedure_id, by=by)
            done = "cancelled"
    report.add(RowOutcome(intent.line, done, intent.reference, procedure_id, version=intent.version))
