"""The clinic web page's pages: today and the next days, alerts, a procedure, register, import.
Each asks the clinic service (bot/services), as the API and the CLI do, and renders the answer."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Callable
from typing import Annotated
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from bot.entrypoints.web.app import BASE, CallerDep, WiringDep, WordsDep, checked_form, render
from bot.entrypoints.web.words import Words
from bot.services.clinic_import import import_csv
from bot.services.clinics import Actor, ClinicError, NotFoundError, ProcedureDetails
from bot.services.fhir_import import import_fhir
from bot.services.pain_chart import pain_chart_png
from bot.services.procedures import pain_points
from bot.services.web_access import alerts, handle_alert

DAYS_SHOWN = 7
pages = APIRouter()
ID = Annotated[int, Path(ge=1, lt=2**31)]


def when(moment: dt.datetime, zone: str, t: Words) -> str:
    """A time as the clinic reads it: in the procedure's zone, in the page's language."""
    return format_datetime(moment.astimezone(ZoneInfo(zone)), "EEE d MMM y, HH:mm", locale=t.code)


def reminder_state(status: str, acknowledged: bool) -> str:
    """pending, sent, read ("Got it" pressed), skipped, failed or cancelled."""
    if acknowledged:
        return "read"
    return "pending" if status == "sending" else status


def who(by: Actor | None, t: Words) -> str:
    """Who of the clinic acted, as the page names them."""
    if by is None or by.kind != "staff":
        return t("who_operator")
    return t("who_staff", id=by.id)


def row(details: ProcedureDetails, t: Words) -> dict[str, object]:
    """One procedure as the lists show it."""
    p = details.procedure
    return {
        "id": p.id,
        "time": format_datetime(details.local_start, "HH:mm", locale=t.code),
        "reference": p.reference,
        "status": p.status,
        "joined": details.patient_linked,
        "unreachable": details.unreachable,
        "reminders": [
            (t.reminder(r.key), reminder_state(r.status, r.acknowledged), when(r.due_at, r.timezone, t))
            for r in details.reminders
            if r.key != "notice"
        ],
        "signs": [t.sign(sign) for sign, _ in details.warning_signs],
    }


@pages.get("/", response_class=HTMLResponse)
async def today(request: Request, caller: CallerDep, t: WordsDep, web: WiringDep) -> HTMLResponse:
    """Today's procedures and the next days', in the clinic's zone."""
    first = web.clinics.clock().astimezone(ZoneInfo(caller.clinic.settings.timezone)).date()
    shown = [first + dt.timedelta(days=n) for n in range(DAYS_SHOWN)]
    by_day: dict[dt.date, list[dict[str, object]]] = {day: [] for day in shown}
    for details in await web.clinics.procedures(caller.clinic, by=caller.by):
        day = details.local_start.date()
        if day in by_day:
            by_day[day].append(row(details, t))
    days = [
        (format_datetime(dt.datetime.combine(day, dt.time()), "EEEE d MMMM y", locale=t.code), rows)
        for day, rows in by_day.items()
        if rows
    ]
    return render(request, "today.html", t, caller, days=days, count=DAYS_SHOWN)


@pages.get("/alerts", response_class=HTMLResponse)
async def alert_list(request: Request, caller: CallerDep, t: WordsDep, web: WiringDep) -> HTMLResponse:
    """Warning signs reported under the clinic's procedures, newest first."""
    zone = caller.clinic.settings.timezone
    shown = [
        {
            "id": alert.id,
            "procedure_id": alert.procedure_id,
            "reference": alert.reference,
            "sign": t.sign(alert.sign),
            "reported": when(alert.reported_at, zone, t),
            "handled": None
            if alert.handled_at is None
            else t("alert_handled", who=who(alert.handled_by, t), when=when(alert.handled_at, zone, t)),
        }
        for alert in await alerts(web.clinics, caller.clinic)
    ]
    return render(request, "alerts.html", t, caller, alerts=shown)


@pages.post("/alerts/{alert_id}/handled")
async def alert_handled(request: Request, alert_id: ID, caller: CallerDep, web: WiringDep) -> Response:
    await checked_form(request, caller)
    await handle_alert(web.clinics, caller.clinic, alert_id, caller.by)
    return RedirectResponse(f"{BASE}/alerts", status_code=303)


@pages.get("/procedures/{procedure_id}", response_class=HTMLResponse)
async def procedure(
    request: Request, procedure_id: ID, caller: CallerDep, t: WordsDep, web: WiringDep
) -> HTMLResponse:
    """A procedure: when, whether its patient joined, and its timeline; reschedule, cancel, delete."""
    details = await web.clinics.details(caller.clinic, procedure_id, by=caller.by)
    _, checkins = await web.clinics.checkins(caller.clinic, procedure_id, by=caller.by)
    zone = details.procedure.timezone
    events: list[tuple[dt.datetime, str, str | None]] = []
    for r in details.reminders:
        state = reminder_state(r.status, r.acknowledged)
        events.append((r.due_at, t("ev_reminder", what=t.reminder(r.key)), state))
    for c in checkins:
        parts = [] if c.pain is None else [t("pain", score=c.pain)]
        if c.signs is not None:
            parts.append(", ".join(t.sign(s) for s in c.signs) or t("signs_none"))
        if c.comment:
            parts.append(t("comment", text=c.comment))
        events.append((c.due_at, t("ev_checkin", what="; ".join(parts) or t("not_answered")), None))
    for sign, at in details.warning_signs:
        events.append((at, t("ev_alert", what=t.sign(sign)), "alert"))
    events.sort(key=lambda event: event[0])
    return render(
        request,
        "procedure.html",
        t,
        caller,
        p=details.procedure,
        item=row(details, t),
        starts=when(details.procedure.starts_at, zone, t),
        local_date=details.local_start.date().isoformat(),
        local_time=details.local_start.strftime("%H:%M"),
        events=[(when(at, zone, t), text, state) for at, text, state in events],
        chart=any(c.pain is not None for c in checkins),
    )


@pages.get("/procedures/{procedure_id}/pain-chart.png")
async def pain_chart(procedure_id: ID, caller: CallerDep, t: WordsDep, web: WiringDep) -> Response:
    procedure_, views = await web.clinics.checkins(caller.clinic, procedure_id, by=caller.by)
    points = pain_points(views, ZoneInfo(procedure_.timezone), t.code)
    if not points:
        raise NotFoundError(f"no pain scores yet for procedure {procedure_id}")
    chart = await asyncio.to_thread(pain_chart_png, points, t("pain_chart"))  # the bot shares this loop
    return Response(chart, media_type="image/png")


@pages.post("/procedures/{procedure_id}/reschedule")
async def reschedule(request: Request, procedure_id: ID, caller: CallerDep, web: WiringDep) -> Response:
    form = await checked_form(request, caller)
    start = f"{form.get('date', '')}T{form.get('time', '')}"
    await web.clinics.reschedule(caller.clinic, procedure_id, start, by=caller.by)
    return RedirectResponse(f"{BASE}/procedures/{procedure_id}", status_code=303)


@pages.post("/procedures/{procedure_id}/cancel")
async def cancel(request: Request, procedure_id: ID, caller: CallerDep, web: WiringDep) -> Response:
    await checked_form(request, caller)
    await web.clinics.cancel(caller.clinic, procedure_id, by=caller.by)
    return RedirectResponse(f"{BASE}/procedures/{procedure_id}", status_code=303)


@pages.post("/procedures/{procedure_id}/delete", response_class=HTMLResponse)
async def delete(
    request: Request, procedure_id: ID, caller: CallerDep, t: WordsDep, web: WiringDep
) -> HTMLResponse:
    form = await checked_form(request, caller)
    if form.get("confirm") != "yes":
        raise ClinicError(t("delete_confirm"))
    await web.clinics.delete(caller.clinic, procedure_id, by=caller.by)
    return render(request, "message.html", t, caller, title_key="delete", text=t("deleted", id=procedure_id))


@pages.post("/procedures/{procedure_id}/pickup", response_class=HTMLResponse)
async def pickup(
    request: Request, procedure_id: ID, caller: CallerDep, t: WordsDep, web: WiringDep
) -> HTMLResponse:
    """Ready for pick-up: the patient's companions are told to come."""
    await checked_form(request, caller)
    told = await web.clinics.pickup_ready(caller.clinic, procedure_id, by=caller.by)
    return render(request, "message.html", t, caller, title_key="pickup", text=t("pickup_done", count=told))


@pages.post("/procedures/{procedure_id}/invite", response_class=HTMLResponse)
async def invite(
    request: Request, procedure_id: ID, caller: CallerDep, t: WordsDep, web: WiringDep
) -> HTMLResponse:
    await checked_form(request, caller)
    fresh = await web.clinics.new_invite(caller.clinic, procedure_id, by=caller.by)
    details = await web.clinics.details(caller.clinic, procedure_id)
    return _invite_page(request, caller, t, web.qr, details, link=fresh.link, expires_at=fresh.expires_at)


@pages.get("/register", response_class=HTMLResponse)
async def register_form(request: Request, caller: CallerDep, t: WordsDep) -> HTMLResponse:
    return render(request, "register.html", t, caller, zone=caller.clinic.settings.timezone)


@pages.post("/register", response_class=HTMLResponse)
async def register(request: Request, caller: CallerDep, t: WordsDep, web: WiringDep) -> HTMLResponse:
    """Register a procedure; the answer is its invite, as a link and a QR code to print."""
    form = await checked_form(request, caller)
    reference = str(form.get("reference", "")).strip() or None
    start = f"{form.get('date', '')}T{form.get('time', '')}"
    details, fresh = await web.clinics.register(caller.clinic, start, reference=reference, by=caller.by)
    return _invite_page(request, caller, t, web.qr, details, link=fresh.link, expires_at=fresh.expires_at)


def _invite_page(
    request: Request,
    caller: CallerDep,
    t: Words,
    qr: Callable[[str], bytes],
    details: ProcedureDetails,
    *,
    link: str,
    expires_at: dt.datetime,
) -> HTMLResponse:
    zone = details.procedure.timezone
    code = base64.b64encode(qr(link)).decode("ascii")
    return render(
        request,
        "registered.html",
        t,
        caller,
        p=details.procedure,
        starts=when(details.procedure.starts_at, zone, t),
        expires=when(expires_at, zone, t),
        link=link,
        qr=f"data:image/png;base64,{code}",
    )


@pages.get("/import", response_class=HTMLResponse)
async def import_form(request: Request, caller: CallerDep, t: WordsDep) -> HTMLResponse:
    return render(request, "import.html", t, caller, report=None)


@pages.post("/import", response_class=HTMLResponse)
async def import_file(request: Request, caller: CallerDep, t: WordsDep, web: WiringDep) -> HTMLResponse:
    """Import a CSV or FHIR file; each row's outcome."""
    form = await checked_form(request, caller)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ClinicError(t("import_text"))
    try:
        data = await upload.read()
    finally:
        await form.close()
    if (upload.filename or "").lower().endswith(".json") or data.lstrip().startswith(b"{"):
        report = await import_fhir(web.clinics, caller.clinic, data, by=caller.by)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ClinicError("the CSV is not UTF-8 text") from None
        report = await import_csv(web.clinics, caller.clinic, text, by=caller.by)
    return render(request, "import.html", t, caller, report=report)
