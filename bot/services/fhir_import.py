"""Importing a clinic's appointments from FHIR: an Appointment, or a Bundle of them.

Each entry becomes the same intent a CSV row does (book or cancel a reference), carried out
by bot/services/clinic_import.py; problems are counted by entry.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fhir.resources.appointment import Appointment
from fhir.resources.bundle import Bundle
from pydantic import ValidationError

from bot.db.audit_repo import Actor
from bot.db.clinic_repo import Clinic
from bot.services.clinic_import import (
    MAX_ROWS,
    ImportProblem,
    ImportReport,
    Intent,
    apply_intents,
    repeated_references,
)
from bot.services.clinic_model import WINDOW, ClinicError
from bot.services.clinics import ClinicService
from flows.models import REFERENCE, REFERENCE_RULE

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


async def import_fhir(
    service: ClinicService, clinic: Clinic, data: str | bytes | dict[str, Any], *, by: Actor | None = None
) -> ImportReport:
    """Import a FHIR (R5) Appointment, or a Bundle of them; problems are counted by entry.

    The reference is the first identifier's value, else the resource id. Raises ClinicError
    if the input is not JSON, not a FHIR resource, or a Bundle that is not valid.
    """
    report = ImportReport(unit="entry")
    intents = _read_fhir(_json(data), report.problems)
    await apply_intents(service, clinic, intents, report, by)
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


def _read_fhir(tree: Any, problems: list[ImportProblem]) -> list[Intent]:
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
    read: list[tuple[int, Intent]] = []
    for number, resource in resources:
        intent = _fhir_intent(number, resource)
        if isinstance(intent, str):
            problems.append(ImportProblem(number, intent))
        else:
            read.append((number, intent))
    duplicates = repeated_references((number, intent.reference) for number, intent in read)
    for number, _ in read:
        if number in duplicates:
            problems.append(ImportProblem(number, duplicates[number]))
    return [intent for number, intent in read if number not in duplicates]


def _fhir_intent(number: int, resource: Any) -> Intent | str:
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
        return Intent(number, reference, "cancel")
    if status not in FHIR_BOOK:
        return f"status {status!r} is not imported; booked, cancelled, noshow and entered-in-error are"
    start = appointment.start
    if start is None:
        return f"a booked Appointment needs a start, such as {FHIR_INSTANT_EXAMPLE}"
    if start.tzinfo is None:  # FHIR instants always carry an offset; never guess one
        return f"start needs an offset, such as {FHIR_INSTANT_EXAMPLE}"
    try:
        return Intent(number, reference, "book", start.astimezone(dt.UTC))
    except OverflowError:  # 0001-01-01T00:00:00+14:00
        return f"the start {start.isoformat()} is out of range; {WINDOW}"


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
