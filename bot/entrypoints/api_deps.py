"""What the clinic API's routes depend on: the wiring, the calling clinic and its token, a
procedure id in range, and the error answers they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.entrypoints.api_guard import TOO_MANY, WrongTokenLimit
from bot.entrypoints.api_models import ErrorOut
from bot.services.clinics import Actor, Clinic, ClinicService, NotFoundError

UNAUTHORIZED = "missing or unknown API token; send the header `Authorization: Bearer <token>`"


@dataclass(frozen=True)
class ApiWiring:
    """What the routes work with, kept on the app so one module serves many test apps."""

    clinics: ClinicService
    qr: Callable[[str], bytes] | None
    wrong_tokens: WrongTokenLimit


def _wiring(request: Request) -> ApiWiring:
    wiring: ApiWiring = request.app.state.wiring
    return wiring


_bearer = HTTPBearer(auto_error=False, description="The clinic's API token (`vertebrobot clinic token`).")
WiringDep = Annotated[ApiWiring, Depends(_wiring)]


async def _current_caller(
    request: Request,
    wiring: WiringDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> tuple[Clinic, Actor]:
    address = request.client.host if request.client else "unknown"
    # Looked up on every call, so a revoked token gets 401 from the next call on. A right token
    # is never refused, even from an address that sent wrong ones (clinics behind one proxy).
    caller = None if credentials is None else await wiring.clinics.authenticate(credentials.credentials)
    if caller is not None:
        return caller
    wait = wiring.wrong_tokens.retry_after(address)
    if wait is not None:
        raise HTTPException(429, TOO_MANY, headers={"Retry-After": str(wait)})
    wiring.wrong_tokens.note_wrong(address)
    raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


CallerDep = Annotated[tuple[Clinic, Actor], Depends(_current_caller)]


async def _current_clinic(caller: CallerDep) -> Clinic:
    return caller[0]


async def _current_actor(caller: CallerDep) -> Actor:
    """The token that made the call, for the audit log (FastAPI resolves the caller once per request)."""
    return caller[1]


ClinicDep = Annotated[Clinic, Depends(_current_clinic)]
ActorDep = Annotated[Actor, Depends(_current_actor)]
ID_RANGE = range(-(2**31), 2**31)  # the database's INTEGER


def _procedure_id(procedure_id: Annotated[int, Path(description="The procedure's id.")], _: CallerDep) -> int:
    # After the token (401 first, as for any id); then no such row can exist.
    if procedure_id not in ID_RANGE:  # PostgreSQL would refuse the query itself
        raise NotFoundError(f"no procedure {procedure_id}")
    return procedure_id


ProcedureId = Annotated[int, Depends(_procedure_id)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing or unknown token."},
    429: {"model": ErrorOut, "description": "Too many wrong tokens from this address; see Retry-After."},
    422: {"description": "The request cannot be carried out; `detail` says what to change."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"model": ErrorOut, "description": "No such procedure for this clinic."},
}
CONFLICT: dict[str, Any] = {
    "model": ErrorOut,
    "description": "Another scheduled procedure has the reference.",
}
