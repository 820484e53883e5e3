"""The clinic API's request and response bodies, and how the service's records become them.

Requests refuse unknown fields (a patient's name, say); responses carry ids, times and states,
never a patient's name or words beyond the comment they wrote for the clinic.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.services.clinic_import import ImportReport
from bot.services.clinic_model import ZONE_NAME_MAX, ProcedureDetails

START_EXAMPLE = "2026-11-24T09:30"
START_MAX = 64  # the longest ISO 8601 time, 2026-11-24T09:30:00.000000+02:00, is 32 characters

ReminderStatus = Literal["pending", "sending", "sent", "skipped", "failed", "cancelled"]


class _In(BaseModel):
    # An unknown field (a patient's name, say) is refused rather than silently dropped.
    model_config = ConfigDict(extra="forbid")


class ProcedureIn(_In):
    """A procedure to register."""

    start: str = Field(
        max_length=START_MAX,
        description="ISO 8601: local to the clinic (or to `timezone`) without an offset, or with one.",
        examples=[START_EXAMPLE, "2026-11-24T09:30+02:00"],
    )
    timezone: str | None = Field(
        default=None,
        min_length=1,
        max_length=ZONE_NAME_MAX,
        description="IANA zone of the procedure; the clinic's zone when left out.",
    )
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The clinic's own reference for this procedure; no patient names.",
    )


class RescheduleIn(_In):
    """A procedure's new start, or its new reference, or both."""

    start: str | None = Field(
        default=None,
        max_length=START_MAX,
        description="ISO 8601, as when registering.",
        examples=["2026-11-25T10:00"],
    )
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The clinic's new reference for the procedure; no other scheduled procedure may have it.",
    )
    timezone: str | None = Field(
        default=None,
        min_length=1,
        max_length=ZONE_NAME_MAX,
        description="IANA zone `start` is written in; the procedure's own zone when left out. "
        "The procedure keeps its zone either way.",
    )


class ReminderOut(BaseModel):
    """One reminder: when it is due, whether it went, whether the patient pressed "Got it"."""

    key: str
    due_at: dt.datetime = Field(description="UTC.")
    local_due_at: dt.datetime = Field(description="In the procedure's time zone.")
    status: ReminderStatus
    acknowledged: bool


class WarningSignOut(BaseModel):
    """A warning sign the patient reported to the bot: which, and when."""

    sign: str
    at: dt.datetime = Field(description="UTC.")
    local_at: dt.datetime = Field(description="In the procedure's time zone.")


class ProcedureOut(BaseModel):
    """A procedure as the clinic sees it."""

    id: int
    reference: str | None
    status: Literal["scheduled", "cancelled"]
    starts_at: dt.datetime = Field(description="UTC.")
    local_start: dt.datetime = Field(description="In the procedure's time zone.")
    timezone: str
    patient_joined: bool
    unreachable: bool = Field(description="The patient blocked the bot: nothing it sends reaches them.")
    reminders: list[ReminderOut]
    warning_signs: list[WarningSignOut]


class RemindersOut(BaseModel):
    """A procedure's reminders: deliveries and acknowledgements."""

    procedure_id: int
    timezone: str
    reminders: list[ReminderOut]


class InviteOut(BaseModel):
    """The link the patient opens in Telegram to join the procedure."""

    link: str
    expires_at: dt.datetime = Field(description="UTC.")
    local_expires_at: dt.datetime = Field(description="In the procedure's time zone.")
    timezone: str
    qr_png_base64: str | None = Field(description="The link as a QR code (PNG, base64); null without one.")


class RegisteredOut(BaseModel):
    """A registered procedure and the invite to hand its patient."""

    procedure: ProcedureOut
    invite: InviteOut


class AuditEntryOut(BaseModel):
    """One audited action: who (the kind and id of the actor), what, on which procedure, when."""

    actor_kind: Literal["token", "staff", "operator", "system"] = Field(
        description="token: an API token (its id); staff: a staff member (Telegram id); operator: the "
        "command line; system: the retention purge."
    )
    actor_id: int | None
    action: str = Field(
        description="registered, moved, reference_changed, cancelled, deleted, invited, read, read_checkins, "
        "listed, token_issued, token_revoked, staff_added, staff_removed, purged."
    )
    procedure_id: int | None
    at: dt.datetime = Field(description="UTC.")


class ErrorOut(BaseModel):
    """What went wrong, for a person to act on."""

    detail: str


def procedure_out(details: ProcedureDetails) -> ProcedureOut:
    """The API's view of a procedure."""
    zone = ZoneInfo(details.procedure.timezone)
    return ProcedureOut(
        id=details.procedure.id,
        reference=details.procedure.reference,
        status="cancelled" if details.procedure.status == "cancelled" else "scheduled",
        starts_at=details.procedure.starts_at,
        local_start=details.local_start,
        timezone=details.procedure.timezone,
        patient_joined=details.patient_linked,
        unreachable=details.unreachable,
        reminders=reminders_out(details).reminders,
        warning_signs=[
            WarningSignOut(sign=sign, at=at, local_at=at.astimezone(zone))
            for sign, at in details.warning_signs
        ],
    )


def reminders_out(details: ProcedureDetails) -> RemindersOut:
    """A procedure's reminders in the API's shape."""
    zone = ZoneInfo(details.procedure.timezone)
    return RemindersOut(
        procedure_id=details.procedure.id,
        timezone=details.procedure.timezone,
        reminders=[
            ReminderOut(
                key=item.key,
                due_at=item.due_at,
                local_due_at=item.due_at.astimezone(zone),
                status=item.status,
                acknowledged=item.acknowledged,
            )
            for item in details.reminders
        ],
    )


class CheckinOut(BaseModel):
    """One check-in after the procedure, as the patient answered it."""

    key: str = Field(description="Which check-in: day_after, day_two, week_after (content/reminders.yaml).")
    due_at: dt.datetime
    pain: int | None = Field(description="Pain 0 (none) to 10 (worst); null if not given.")
    warning_signs: list[str] | None = Field(
        description="Signs the patient tapped on the screen; [] = none of them; null = screen not answered."
    )
    comment: str | None = Field(description="The patient's own words for the clinic, if they wrote any.")
    answered_at: dt.datetime


class CheckinsOut(BaseModel):
    """A procedure's check-ins, in the order they were due."""

    procedure_id: int
    checkins: list[CheckinOut]


class ImportProblemOut(BaseModel):
    """One row or entry that was not imported (or skipped), and why."""

    line: int = Field(description="CSV line (the header is line 1) or FHIR Bundle entry (from 1).")
    reason: str


class ImportRowOut(BaseModel):
    """What became of one row or entry."""

    line: int = Field(description="CSV line (the header is line 1) or FHIR Bundle entry (from 1).")
    outcome: Literal["created", "rescheduled", "cancelled", "unchanged", "skipped", "problem"]
    reference: str | None
    procedure_id: int | None
    fhir_version: Literal["R4", "R4B", "R5"] | None = Field(
        description="The FHIR version the entry was read as; null for CSV and for an entry not read."
    )
    reason: str | None = Field(description="Why it was skipped or not imported.")


class ImportInviteOut(BaseModel):
    """The invite of a procedure the import created, named by the clinic's reference."""

    reference: str | None
    procedure_id: int
    link: str
    expires_at: dt.datetime = Field(description="UTC.")


class ImportOut(BaseModel):
    """What an import did: procedure ids by outcome, invites for new ones, what was skipped, each problem."""

    created: list[int]
    rescheduled: list[int]
    cancelled: list[int]
    unchanged: list[int]
    invites: list[ImportInviteOut] = Field(description="The invite of each created procedure, by reference.")
    skipped: list[ImportProblemOut] = Field(
        description="Nothing to import, rightly: an included Patient, a cancellation of an unknown reference."
    )
    problems: list[ImportProblemOut]
    entries: list[ImportRowOut] = Field(description="Every row or entry, in order, with its outcome.")


class ImportFailedOut(ImportOut):
    """Nothing could be imported: every row or entry had a problem (or was skipped)."""

    detail: str


def import_out(report: ImportReport) -> ImportOut:
    """The API's view of an import."""
    references = {row.procedure_id: row.reference for row in report.rows}
    return ImportOut(
        created=report.created,
        rescheduled=report.rescheduled,
        cancelled=report.cancelled,
        unchanged=report.unchanged,
        invites=[
            ImportInviteOut(
                reference=references.get(pid),
                procedure_id=pid,
                link=invite.link,
                expires_at=invite.expires_at,
            )
            for pid, invite in report.invites.items()
        ],
        skipped=[ImportProblemOut(line=p.line, reason=p.reason) for p in report.skipped],
        problems=[ImportProblemOut(line=p.line, reason=p.reason) for p in report.problems],
        entries=[
            ImportRowOut(
                line=row.line,
                outcome=row.outcome,
                reference=row.reference,
                procedure_id=row.procedure_id,
                fhir_version=row.version,
                reason=row.reason,
            )
            for row in report.rows
        ],
    )


def import_answer(report: ImportReport) -> ImportOut | JSONResponse:
    """The import as the API answers it: 422 when nothing could be imported, with the report."""
    out = import_out(report)
    if not report.nothing_imported:
        return out
    failed = ImportFailedOut(detail=f"nothing could be imported: {report.summary()}", **out.model_dump())
    return JSONResponse(failed.model_dump(mode="json"), status_code=422)
