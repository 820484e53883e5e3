"""The clinic HTTP API: register, list, move and cancel procedures; invites; reminders and check-ins read."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from bot.entrypoints.api_deps import (
    CONFLICT,
    ERRORS,
    NOT_FOUND,
    ActorDep,
    ApiWiring,
    ClinicDep,
    ProcedureId,
    WiringDep,
)
from bot.entrypoints.api_guard import Clock, WrongTokenLimit, add_docs, add_security_headers
from bot.entrypoints.api_models import (
    AuditEntryOut,
    CheckinOut,
    CheckinsOut,
    ErrorOut,
    ImportFailedOut,
    ImportOut,
    InviteOut,
    ProcedureIn,
    ProcedureOut,
    RegisteredOut,
    ReminderOut,
    RemindersOut,
    RescheduleIn,
    WarningSignOut,
    import_answer,
    procedure_out,
    reminders_out,
)
from bot.entrypoints.config import Settings
from bot.entrypoints.web import mount_web
from bot.services.clinic_import import import_csv
from bot.services.clinics import (
    ClinicError,
    ClinicService,
    ConflictError,
    Invite,
    NotFoundError,
    parse_start,
)
from bot.services.fhir_import import import_fhir

# The same QR code as the staff commands send, so `create_api(clinics, qr=qr_png)` is the usual call.
from bot.services.pain_chart import pain_chart_png
from bot.services.procedures import pain_points, qr_png

TITLE = "vertebrobot clinic API"
OPENAPI_URL = "/openapi.json"
router = APIRouter(prefix="/api/procedures", tags=["procedures"])


def _invite_out(wiring: ApiWiring, invite: Invite, zone_name: str) -> InviteOut:
    code = None if wiring.qr is None else base64.b64encode(wiring.qr(invite.link)).decode("ascii")
    return InviteOut(
        link=invite.link,
        expires_at=invite.expires_at,
        local_expires_at=invite.expires_at.astimezone(ZoneInfo(zone_name)),
        timezone=zone_name,
        qr_png_base64=code,
    )


@router.post("", status_code=201, responses={**ERRORS, 409: CONFLICT})
async def register(body: ProcedureIn, clinic: ClinicDep, by: ActorDep, wiring: WiringDep) -> RegisteredOut:
    """Register a procedure; hand its patient the invite link (or QR code)."""
    details, invite = await wiring.clinics.register(
        clinic, body.start, reference=body.reference, timezone=body.timezone, by=by
    )
    zone = details.procedure.timezone
    return RegisteredOut(procedure=procedure_out(details), invite=_invite_out(wiring, invite, zone))


@router.get("", responses=ERRORS)
async def listing(
    clinic: ClinicDep,
    by: ActorDep,
    wiring: WiringDep,
    day: Annotated[dt.date | None, Query(alias="date", description="A local date, YYYY-MM-DD.")] = None,
) -> list[ProcedureOut]:
    """This clinic's procedures, soonest first (on one local date, if given)."""
    return [procedure_out(details) for details in await wiring.clinics.procedures(clinic, day, by=by)]


@router.get("/{procedure_id}", responses=NOT_FOUND)
async def read(procedure_id: ProcedureId, clinic: ClinicDep, by: ActorDep, wiring: WiringDep) -> ProcedureOut:
    """A procedure: whether its patient joined (and can be reached), its reminders and warning signs."""
    return procedure_out(await wiring.clinics.details(clinic, procedure_id, by=by))


@router.delete("/{procedure_id}", status_code=204, responses=NOT_FOUND)
async def delete(procedure_id: ProcedureId, clinic: ClinicDep, by: ActorDep, wiring: WiringDep) -> Response:
    """Delete a procedure and its patient's data (reminders, check-ins, warning signs, and the
    patient's answers unless another procedure has them). The patient is not told: cancel first."""
    await wiring.clinics.delete(clinic, procedure_id, by=by)
    return Response(status_code=204)


@router.patch("/{procedure_id}", responses={**NOT_FOUND, 409: CONFLICT})
async def reschedule(
    procedure_id: ProcedureId, body: RescheduleIn, clinic: ClinicDep, by: ActorDep, wiring: WiringDep
) -> ProcedureOut:
    """Move a procedure (its patient's reminders are planned again and the patient is told), or
    give it another reference, or both."""
    if body.start is None and body.reference is None:
        raise ClinicError("give `start`, `reference`, or both")
    if body.reference is not None:  # checked before moving: a clash changes nothing
        await wiring.clinics.change_reference(clinic, procedure_id, body.reference, check=True)
    if body.start is not None:
        start: str | dt.datetime = body.start
        if body.timezone is not None:
            # The service reads a local time in the procedure's own zone; this one names another.
            start, _ = parse_start(start, body.timezone)
        await wiring.clinics.reschedule(clinic, procedure_id, start, by=by)
    if body.reference is not None:
        await wiring.clinics.change_reference(clinic, procedure_id, body.reference, by=by)
    return procedure_out(await wiring.clinics.details(clinic, procedure_id))


@router.post("/{procedure_id}/cancel", responses=NOT_FOUND)
async def cancel(
    procedure_id: ProcedureId, clinic: ClinicDep, by: ActorDep, wiring: WiringDep
) -> ProcedureOut:
    """Cancel a procedure: its reminders stop and the patient is told."""
    current = await wiring.clinics.details(clinic, procedure_id)
    if current.procedure.status == "cancelled":
        # Said plainly, so a repeated request is not mistaken for a fresh cancellation.
        raise ClinicError("this procedure is already cancelled")
    return procedure_out(await wiring.clinics.cancel(clinic, procedure_id, by=by))


@router.post("/{procedure_id}/invite", status_code=201, responses=NOT_FOUND, tags=["invites"])
async def invite(procedure_id: ProcedureId, clinic: ClinicDep, by: ActorDep, wiring: WiringDep) -> InviteOut:
    """A new invite link for a procedure whose patient has not joined yet."""
    fresh = await wiring.clinics.new_invite(clinic, procedure_id, by=by)
    details = await wiring.clinics.details(clinic, procedure_id)
    return _invite_out(wiring, fresh, details.procedure.timezone)


@router.post("/{procedure_id}/pickup-ready", responses=NOT_FOUND, tags=["companions"])
async def pickup_ready(
    procedure_id: ProcedureId, clinic: ClinicDep, by: ActorDep, wiring: WiringDep
) -> dict[str, int]:
    """Tell the patient's companions that the patient is ready to be picked up (422 if none joined)."""
    return {"companions_told": await wiring.clinics.pickup_ready(clinic, procedure_id, by=by)}


@router.get("/{procedure_id}/reminders", responses=NOT_FOUND)
async def reminders(
    procedure_id: ProcedureId, clinic: ClinicDep, by: ActorDep, wiring: WiringDep
) -> RemindersOut:
    """A procedure's reminders: what was sent, skipped or cancelled, and what the patient read."""
    return reminders_out(await wiring.clinics.details(clinic, procedure_id, by=by))


@router.get("/{procedure_id}/checkins", responses=NOT_FOUND, tags=["check-ins"])
async def checkins(
    procedure_id: ProcedureId, clinic: ClinicDep, by: ActorDep, wiring: WiringDep
) -> CheckinsOut:
    """What the patient answered at each check-in: pain score, warning signs, comment."""
    _, views = await wiring.clinics.checkins(clinic, procedure_id, by=by)
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
    responses={**NOT_FOUND, 200: {"content": {"image/png": {}}, "description": "The chart as a PNG."}},
    tags=["check-ins"],
)
async def pain_chart(
    procedure_id: ProcedureId, clinic: ClinicDep, by: ActorDep, wiring: WiringDep
) -> Response:
    """The patient's pain scores over the check-ins, as the same chart /pain shows the patient."""
    procedure, views = await wiring.clinics.checkins(clinic, procedure_id, by=by)
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
    return JSONResponse({"detail": str(exc)}, status_code=409 if isinstance(exc, ConflictError) else 422)


imports = APIRouter(prefix="/api/import", tags=["import"])


_IMPORT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    422: {"model": ImportFailedOut, "description": "Unreadable input, or nothing could be imported."},
}
CSV_BODY = (
    "send the CSV file itself as the request body with Content-Type: text/csv "
    "(curl --data-binary @schedule.csv -H 'Content-Type: text/csv'), not a form upload"
)


def _media_type(request: Request) -> tuple[str, dict[str, str]]:
    kind, *params = request.headers.get("content-type", "").split(";")
    pairs = (param.partition("=") for param in params)
    return kind.strip().lower(), {key.strip().lower(): value.strip().strip('"') for key, _, value in pairs}


@imports.post("/fhir", response_model=ImportOut, responses=_IMPORT_ERRORS)
async def import_fhir_appointments(
    request: Request, wiring: WiringDep, clinic: ClinicDep, by: ActorDep
) -> ImportOut | JSONResponse:
    """Import FHIR R4, R4B or R5 Appointments (one, or a Bundle such as a searchset): booked creates
    or moves, cancelled and noshow cancel; `fhirVersion` in the content type names the version."""
    version = _media_type(request)[1].get("fhirversion")
    body = await request.body()
    return import_answer(await import_fhir(wiring.clinics, clinic, body, by=by, fhir_version=version))


@imports.post("/csv", response_model=ImportOut, responses={**_IMPORT_ERRORS, 415: {"model": ErrorOut}})
async def import_csv_appointments(
    request: Request, wiring: WiringDep, clinic: ClinicDep, by: ActorDep
) -> ImportOut | JSONResponse:
    """Import CSV rows `start,reference[,timezone][,action]`, the file as the raw body (text/csv)."""
    if _media_type(request)[0] in ("multipart/form-data", "application/x-www-form-urlencoded"):
        # A form mangles the file (curl -d drops its line breaks); say what to send instead.
        raise HTTPException(415, CSV_BODY)
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ClinicError("the CSV is not UTF-8 text") from None
    return import_answer(await import_csv(wiring.clinics, clinic, text, by=by))


audit_router = APIRouter(prefix="/api/audit", tags=["audit"])
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@audit_router.get("", responses=ERRORS)
async def audit_log(
    clinic: ClinicDep,
    wiring: WiringDep,
    since: Annotated[
        dt.datetime | None, Query(description="ISO 8601 with an offset; entries from then on (default: all).")
    ] = None,
) -> list[AuditEntryOut]:
    """This clinic's audit log, oldest first: who registered, moved, cancelled, deleted or read a
    procedure, issued or revoked a token; ids and times only."""
    if since is not None and since.tzinfo is None:
        raise ClinicError("`since` needs an offset, e.g. 2026-11-24T00:00:00Z")
    try:
        since = EPOCH if since is None else since.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00+14:00
        raise ClinicError("`since` is out of range; give a time such as 2026-11-24T00:00:00Z") from None
    entries = await wiring.clinics.audit_log(clinic, since)
    return [AuditEntryOut.model_validate(entry, from_attributes=True) for entry in entries]


def create_api(
    clinics: ClinicService,
    *,
    qr: Callable[[str], bytes] | None = None,
    docs: bool | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The clinic API on `clinics`; invites carry a QR code when `qr` is given (e.g. `qr_png`).
    /docs only with `docs` (by default VERTEBROBOT_API_DOCS); wrong tokens counted on `clock`
    (by default the service's)."""
    api = FastAPI(title=TITLE, version="1", openapi_url=OPENAPI_URL, docs_url=None, redoc_url=None)
    api.state.wiring = ApiWiring(clinics, qr, WrongTokenLimit(clock or clinics.clock))
    add_security_headers(api)
    if Settings().api_docs if docs is None else docs:
        add_docs(api, OPENAPI_URL)
    # Starlette picks the handler of the nearest class in the exception's MRO, so 404 wins over 422.
    api.add_exception_handler(NotFoundError, _not_found)
    api.add_exception_handler(ClinicError, _clinic_error)
    api.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    api.include_router(router)
    api.include_router(imports)
    api.include_router(audit_router)
    mount_web(api, clinics, qr=qr)  # the clinic web page, /clinic/
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
