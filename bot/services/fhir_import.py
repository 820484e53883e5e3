"""Importing a clinic's appointments from FHIR (R4, R4B or R5): an Appointment, or a Bundle of them.

Each entry becomes the same intent a CSV row does (book or cancel a reference), carried out
by bot/services/clinic_import.py; outcomes are counted by entry, each saying the FHIR version
it was read as.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from fhir.resources.appointment import Appointment as AppointmentR5
from fhir.resources.bundle import Bundle as BundleR5
from fhir.resources.R4B.appointment import Appointment as AppointmentR4B
from fhir.resources.R4B.bundle import Bundle as BundleR4B
from pydantic import BaseModel, ValidationError

from bot.db.audit_repo import Actor
from bot.db.clinic_repo import Clinic
from bot.services.clinic_import import (
    MAX_ROWS,
    ImportReport,
    Intent,
    RowOutcome,
    apply_intents,
    repeated_references,
)
from bot.services.clinic_model import WINDOW, ClinicError
from bot.services.clinics import ClinicService
from flows.models import REFERENCE, REFERENCE_RULE

# FHIR Appointment.status (the same codes in R4, R4B and R5) and what an import does with it:
# - booked: the procedure will happen at `start` -> register it, or move it if `start` changed.
# - cancelled, noshow: it will not happen (or did not) -> cancel it, stopping its reminders.
# - entered-in-error: the appointment never existed, so a procedure made from it must not keep
#   reminding the patient -> cancel it, like `cancelled` (one for an unknown reference is
#   skipped, as for `cancelled`: exports carry cancellations of bookings never imported).
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

# The Appointment and Bundle of R4 and R4B have the same elements, so one model reads both;
# an entry that does not say which it is, is reported as R4, the version EHRs export.
APPOINTMENTS: dict[str, type[BaseModel]] = {"R4": AppointmentR4B, "R4B": AppointmentR4B, "R5": AppointmentR5}
BUNDLES: dict[str, type[BaseModel]] = {"R4": BundleR4B, "R4B": BundleR4B, "R5": BundleR5}
TRIED = ("R4", "R5")  # in this order when the version is not declared
VERSIONS = {"4.0": "R4", "4.3": "R4B", "5.0": "R5", "R4": "R4", "R4B": "R4B", "R5": "R5"}
# A core definition with the FHIR version (`hl7.org/fhir/StructureDefinition/Appointment|4.0.1`),
# or under a version's own address (`hl7.org/fhir/R4B/...`, `hl7.org/fhir/4.0/...`). The version
# of another profile (an implementation guide's `...|1.1.0`) is that guide's, not FHIR's.
_DECLARED = re.compile(
    r"^https?://hl7\.org/fhir/(?:StructureDefinition/\w+\|(\d+\.\d+)(?:\.\d+)?$|(R4B|R4|R5|\d+\.\d+)/)",
    re.IGNORECASE,
)
READ = "R4 (4.0), R4B (4.3) or R5 (5.0)"


async def import_fhir(
    service: ClinicService,
    clinic: Clinic,
    data: str | bytes | dict[str, Any],
    *,
    by: Actor | None = None,
    fhir_version: str | None = None,
) -> ImportReport:
    """Import a FHIR R4, R4B or R5 Appointment, or a Bundle of them; outcomes are counted by entry.

    The version is the one `fhir_version` names (the `fhirVersion` of a content type, such as
    4.0), else the one a `meta.profile` declares, else the first of R4 and R5 whose Appointment
    the entry is. The reference is the first identifier's value, else the resource id. Raises
    ClinicError if the input is not JSON, not a FHIR resource, or a Bundle that is not valid.
    """
    report = ImportReport(unit="entry")
    declared = None if fhir_version is None else _version(fhir_version)
    intents = _read_fhir(_json(data), report, declared)
    await apply_intents(service, clinic, intents, report, by)
    return report


def _version(given: str) -> str:
    """R4, R4B or R5 for a version such as 4.0.1, 4.3 or R5; ClinicError for one not read."""
    parts = given.strip().split(".")
    version = VERSIONS.get(".".join(parts[:2]).upper())
    if version is None:
        raise ClinicError(f"FHIR version {given[:20]!r} is not imported; export {READ}")
    return version


def _declared(resource: dict[str, Any]) -> str | None:
    """The version a resource's `meta.profile` names, if any; ClinicError for one not read."""
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    for profile in profiles if isinstance(profiles, list) else []:
        found = _DECLARED.search(profile) if isinstance(profile, str) else None
        if found:
            return _version(found.group(1) or found.group(2))
    return None


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


def _read_fhir(tree: Any, report: ImportReport, declared: str | None) -> list[Intent]:
    if not isinstance(tree, dict) or not isinstance(tree.get("resourceType"), str):
        raise ClinicError("expected a FHIR Appointment or a Bundle of Appointments (with resourceType)")
    if tree["resourceType"] == "Bundle":
        declared = declared or _declared(tree)
        envelope = {key: value for key, value in tree.items() if key != "entry"}
        # Entries are validated one by one below: a bad one must not sink the others.
        bundle = _validated(BUNDLES, envelope, declared)
        if isinstance(bundle, str):
            raise ClinicError(f"not a valid FHIR Bundle: {bundle}")
        entries = tree.get("entry", [])
        if not isinstance(entries, list):
            raise ClinicError("not a valid FHIR Bundle: entry must be a list")
        if len(entries) > MAX_ROWS:
            raise ClinicError(f"more than {MAX_ROWS} entries; split the Bundle")
        resources = list(enumerate(entries, start=1))
    else:
        resources = [(1, {"resource": tree})]
    read: list[tuple[int, Intent]] = []
    for number, entry in resources:
        intent = _entry_intent(number, entry, declared)
        if isinstance(intent, RowOutcome):
            report.add(intent)
        else:
            read.append((number, intent))
    duplicates = repeated_references((number, intent.reference) for number, intent in read)
    for number, intent in read:
        if number in duplicates:
            report.problem(number, duplicates[number], intent.version)
    return [intent for number, intent in read if number not in duplicates]


def _entry_intent(number: int, entry: Any, declared: str | None) -> Intent | RowOutcome:
    resource = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(resource, dict):
        return RowOutcome(number, "problem", reason="the entry has no resource")
    kind = resource.get("resourceType")
    search = entry.get("search")
    mode = search.get("mode") if isinstance(search, dict) else None
    if mode in ("include", "outcome") and kind != "Appointment":
        # A searchset's _include (the patient, the practitioner) or the server's note on the search.
        if mode == "include":
            why = f"a {kind} included with the search"
        else:
            why = f"the server's note on the search ({kind})"
        return RowOutcome(number, "skipped", reason=f"{why}, not an Appointment")
    if kind != "Appointment":
        reason = "the resource has no resourceType" if kind is None else f"a {kind}, not an Appointment"
        return RowOutcome(number, "problem", reason=reason)
    try:
        version = declared or _declared(resource)
    except ClinicError as exc:
        return RowOutcome(number, "problem", reason=str(exc))
    appointment = _validated(APPOINTMENTS, resource, version)
    if isinstance(appointment, str):
        which = version or "/".join(APPOINTMENTS)
        return RowOutcome(
            number, "problem", reason=f"not a valid {which} Appointment: {appointment}", version=version
        )
    read_as, fields = appointment
    intent = _intent(number, fields, read_as)
    if isinstance(intent, str):
        return RowOutcome(number, "problem", reason=intent, version=read_as)
    return intent


def _validated(
    models: dict[str, type[BaseModel]], resource: dict[str, Any], version: str | None
) -> tuple[str, Any] | str:
    """The resource read as `version` (or as the first version it fits), or why it fits none."""
    errors: list[ValidationError] = []
    for tried in (version,) if version else TRIED:
        try:
            return tried, models[tried].model_validate(resource)
        except ValidationError as exc:
            errors.append(exc)
    return _reason(min(errors, key=lambda exc: exc.error_count()))


def _intent(number: int, appointment: Any, version: str) -> Intent | str:
    identifier = appointment.identifier[0].value if appointment.identifier else None
    reference = identifier or appointment.id
    if not reference:
        return "the Appointment has neither an identifier value nor an id to match it by"
    if not REFERENCE.fullmatch(reference):
        return f"{REFERENCE_RULE} (from the identifier value or the id)"
    status = appointment.status
    if status in FHIR_CANCEL:
        return Intent(number, reference, "cancel", version=version)
    if status not in FHIR_BOOK:
        return f"status {status!r} is not imported; booked, cancelled, noshow and entered-in-error are"
    start = appointment.start
    if start is None:
        return f"a booked Appointment needs a start, such as {FHIR_INSTANT_EXAMPLE}"
    if start.tzinfo is None:  # FHIR instants always carry an offset; never guess one
        return f"start needs an offset, such as {FHIR_INSTANT_EXAMPLE}"
    try:
        return Intent(number, reference, "book", start.astimezone(dt.UTC), version=version)
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
