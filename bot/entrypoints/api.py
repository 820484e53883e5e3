"""The clinic HTTP API: register, list, move and cancel procedures; invites; reminders and check-ins read."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from bot.services.clinic_import import ImportReport, import_csv
from bot.services.clinics import (
    Clinic,
    ClinicError,
    ClinicService,
    Invite,
    NotFoundError,
    ProcedureDetails,
    parse_start,
)
from bot.services.fhir_import import import_fhir

# The same QR code as the staff commands send, so `create_api(clinics, qr=qr_png)` is the usual call.
from bot.services.pain_chart import pain_chart_png
from bot.services.procedures import pain_points, qr_png

TITLE = "vertebrobot clinic API"
START_EXAMPLE = "2026-11-24T09:30"
UNAUTHORIZED = "missing or unknown API token; send the header `Authorization: Bearer <token>`"

ReminderStatus = Literal["pending", "sending", "sent", "skipped", "failed", "cancelled"]


class _In(BaseModel):
    # An unknown field (a patient's name, say) is refused rather than silently dropped.
    model_config = ConfigDict(extra="forbid")


class ProcedureIn(_In):
    """A procedure to register."""

    start: str = Field(
        description="ISO 8601: local to the clinic (or to `timezone`) without an offset, or with one.",
        examples=[START_EXAMPLE, "2026-11-24T09:30+02:00"],
    )
    timezone: str | None = Field(
        default=None, description="IANA zone of the procedure; the clinic's zone when left out."
    )
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The clinic's own reference for this procedure; no patient names.",
    )


class RescheduleIn(_In):
    """A procedure's new start."""

    start: str = Field(description="ISO 8601, as when registering.", examples=["2026-11-25T10:00"])
    timezone: str | None = Field(
        default=None,
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


@dataclass(frozen=True)
class _Wiring:
    """What the routes work with, kept on the app so one module serves many test apps."""

    clinics: ClinicService
    qr: Callable[[str], bytes] | None


def _wiring(request: Request) -> _Wiring:
    wiring: _Wiring = request.app.state.wiring
    return wiring


_bearer = HTTPBearer(auto_error=False, description="The clinic's API token (`vertebrobot clinic token`).")
WiringDep = Annotated[_Wiring, Depends(_wiring)]


async def _current_clinic(
    wiring: WiringDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Clinic:
    clinic = None if credentials is None else await wiring.clinics.authenticate(credentials.credentials)
    if clinic is None:
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    return clinic


ClinicDep = Annotated[Clinic, Depends(_current_clinic)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or unknown token."},
    422: {"description": "The request cannot be carried out; `detail` says what to change."},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    404: {"model": ErrorOut, "description": "No such procedure for this clinic."},
}
router = APIRouter(prefix="/api/procedures", tags=["procedures"])


def _invite_out(wiring: _Wiring, invite: Invite, zone_name: str) -> InviteOut:
    code = None if wiring.qr is None else base64.b64encode(wiring.qr(invite.link)).decode("ascii")
    return InviteOut(
        link=invite.link,
        expires_at=invite.expires_at,
        local_expires_at=invite.expires_at.astimezone(ZoneInfo(zone_name)),
        timezone=zone_name,
        qr_png_base64=code,
    )


@router.post("", status_code=201, responses=_ERRORS)
async def register(body: ProcedureIn, clinic: ClinicDep, wiring: WiringDep) -> RegisteredOut:
    """Register a procedure; hand its patient the invite link (or QR code)."""
    details, invite = await wiring.clinics.register(
        clinic, body.start, reference=body.reference, timezone=body.timezone
    )
    zone = details.procedure.timezone
    return RegisteredOut(procedure=procedure_out(details), invite=_invite_out(wiring, invite, zone))


@router.get("", responses=_ERRORS)
async def listing(
    clinic: ClinicDep,
    wiring: WiringDep,
    day: Annotated[dt.date | None, Query(alias="date", description="A local date, YYYY-MM-DD.")] = None,
) -> list[ProcedureOut]:
    """This clinic's procedures, soonest first (on one local date, if given)."""
    return [procedure_out(details) for details in await wiring.clinics.procedures(clinic, day)]


@router.get("/{procedure_id}", responses=_NOT_FOUND)
async def read(procedure_id: int, clinic: ClinicDep, wiring: WiringDep) -> ProcedureOut:
    """A procedure: whether its patient joined, its reminders and reported warning signs."""
    return procedure_out(await wiring.clinics.details(clinic, procedure_id))


@router.patch("/{procedure_id}", responses=_NOT_FOUND)
async def reschedule(
    procedure_id: int, body: RescheduleIn, clinic: ClinicDep, wiring: WiringDep
) -> ProcedureOut:
    """Move a procedure; the patient's reminders are planned again and the patient is told."""
    start: str | dt.datetime = body.start
    if body.timezone is not None:
        # The service reads a local time in the procedure's own zone; this one names another.
        start, _ = parse_start(start, body.timezone)
    return procedure_out(await wiring.clinics.reschedule(clinic, procedure_id, start))


@router.post("/{procedure_id}/cancel", responses=_NOT_FOUND)
async def cancel(procedure_id: int, clinic: ClinicDep, wiring: WiringDep) -> ProcedureOut:
    """Cancel a procedure: its reminders stop and the patient is told."""
    current = await wiring.clinics.details(clinic, procedure_id)
    if current.procedure.status == "cancelled":
        # Said plainly, so a repeated request is not mistaken for a fresh cancellation.
        raise ClinicError("this procedure is already cancelled")
    return procedure_out(await wiring.clinics.cancel(clinic, procedure_id))


@router.post("/{procedure_id}/invite", status_code=201, responses=_NOT_FOUND, tags=["invites"])
async def invite(procedure_id: int, clinic: ClinicDep, wiring: WiringDep) -> InviteOut:
    """A new invite link for a procedure whose patient has not joined yet."""
    fresh = await wiring.clinics.new_invite(clinic, procedure_id)
    details = await wiring.clinics.details(clinic, procedure_id)
    return _invite_out(wiring, fresh, details.procedure.timezone)


@router.get("/{procedure_id}/reminders", responses=_NOT_FOUND)
async def reminders(procedure_id: int, clinic: ClinicDep, wiring: WiringDep) -> RemindersOut:
    """A procedure's reminders: what was sent, skipped or cancelled, and what the patient read."""
    return reminders_out(await wiring.clinics.details(clinic, procedure_id))


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


@router.get("/{procedure_id}/checkins", responses=_NOT_FOUND, tags=["check-ins"])
async def checkins(procedure_id: int, clinic: ClinicDep, wiring: WiringDep) -> CheckinsOut:
    """What the patient answered at each check-in: pain score, warning signs, comment."""
    _, views = await wiring.clinics.checkins(clinic, procedure_id)
    return CheckinsOut(
        procedure_id=procedure_id,
        checkins=[
            CheckinOut(
                key=item.key,
                due_at=item.due_at,
                pain=item.pain,
                warning_signs=None if item.signs is None else list(item.signs),
                comment=item.comment,
                answered_at=item.answered_at,
            )
            for item in views
        ],
    )


@router.get(
    "/{procedure_id}/pain-chart.png",
    response_class=Response,
    responses={**_NOT_FOUND, 200: {"content": {"image/png": {}}, "description": "The chart as a PNG."}},
    tags=["check-ins"],
)
async def pain_chart(procedure_id: int, clinic: ClinicDep, wiring: WiringDep) -> Response:
    """The patient's pain scores over the check-ins, as the same chart /pain shows the patient."""
    procedure, views = await wiring.clinics.checkins(clinic, procedure_id)
    points = pain_points(views, ZoneInfo(procedure.timezone), "en")
    if not points:
        raise NotFoundError(f"no pain scores yet for procedure {procedure_id}")
    title = f"Pain scores, procedure #{procedure_id} (0 = none, 10 = worst)"
    # Drawn in a worker thread: the bot shares this event loop.
    return Response(await asyncio.to_thread(pain_chart_png, points, title), media_type="image/png")


async def healthz() -> dict[str, str]:
    """Whether the server answers (no token needed)."""
    return {"status": "ok"}


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _clinic_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


class ImportProblemOut(BaseModel):
    """One row or entry that was not imported, and why."""

    line: int = Field(description="CSV line (the header is line 1) or FHIR Bundle entry (from 1).")
    reason: str


class ImportOut(BaseModel):
    """What an import did: procedure ids by outcome, invites for new ones, and each problem."""

    created: list[int]
    rescheduled: list[int]
    cancelled: list[int]
    unchanged: list[int]
    invites: dict[int, str] = Field(description="Invite link of each created procedure.")
    problems: list[ImportProblemOut]


def _import_out(report: ImportReport) -> ImportOut:
    return ImportOut(
        created=report.created,
        rescheduled=report.rescheduled,
        cancelled=report.cancelled,
        unchanged=report.unchanged,
        invites={pid: invite.link for pid, invite in report.invites.items()},
        problems=[ImportProblemOut(line=p.line, reason=p.reason) for p in report.problems],
    )


imports = APIRouter(prefix="/api/import", tags=["import"])


@imports.post("/fhir", responses=_ERRORS)
async def import_fhir_appointments(request: Request, wiring: WiringDep, clinic: ClinicDep) -> ImportOut:
    """Import a FHIR Appointment or a Bundle of them: booked creates or moves, cancelled and noshow cancel."""
    return _import_out(await import_fhir(wiring.clinics, clinic, await request.body()))


@imports.post("/csv", responses=_ERRORS)
async def import_csv_appointments(request: Request, wiring: WiringDep, clinic: ClinicDep) -> ImportOut:
    """Import CSV rows `start,reference[,timezone][,action]`; each bad row comes back by line."""
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ClinicError("the CSV is not UTF-8 text") from None
    return _import_out(await import_csv(wiring.clinics, clinic, text))


def create_api(clinics: ClinicService, *, qr: Callable[[str], bytes] | None = None) -> FastAPI:
    """The clinic API on `clinics`; invites carry a QR code when `qr` is given (e.g. `qr_png`)."""
    api = FastAPI(title=TITLE, version="1", openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    api.state.wiring = _Wiring(clinics, qr)
    # Starlette picks the handler of the nearest class in the exception's MRO, so 404 wins over 422.
    api.add_exception_handler(NotFoundError, _not_found)
    api.add_exception_handler(ClinicError, _clinic_error)
    api.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    api.include_router(router)
    api.include_router(imports)
    return api


__all__ = [
    "TITLE",
    "CheckinOut",
    "CheckinsOut",
    "InviteOut",
    "ProcedureIn",
    "ProcedureOut",
    "RegisteredOut",
    "ReminderOut",
    "RemindersOut",
    "RescheduleIn",
    "WarningSignOut",
    "create_api",
    "qr_png",
]
