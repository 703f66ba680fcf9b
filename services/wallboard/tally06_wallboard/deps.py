"""FastAPI dependencies of the wallboard service."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tally06.kit.fastapi_app import get_runtime
from tally06.kit.rate_limit import address_key, retry_after
from tally06_wallboard.answers import Reports
from tally06_wallboard.exceptions import TooLarge, TooManyAttempts, Unauthenticated
from tally06_wallboard.runtime import WallboardRuntime
from tally06_wallboard.sessions import COOKIE, Principal

_bearer = HTTPBearer(auto_error=False, description="a session token from POST /v1/auth/token")
Runtime = Annotated[WallboardRuntime, Depends(get_runtime)]


# Coroutines even without I/O, for the reason given at tally06.kit.fastapi_app.get_runtime.
async def get_reports(runtime: Runtime) -> Reports:
    return runtime.reports


ReportsDep = Annotated[Reports, Depends(get_reports)]


async def get_principal(
    request: Request, runtime: Runtime,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The signed-in user: a bearer token (scripts) or the session cookie (the board, whose
    EventSource cannot send headers)."""
    token = credentials.credentials if credentials else request.cookies.get(COOKIE)
    if not token:
        raise Unauthenticated("session", "sign in first")
    principal = await runtime.sessions.principal(token)
    wait = runtime.user_limits.take(str(principal.user_id), time.monotonic())
    if wait:
        raise TooManyAttempts("session", "too many requests; slow down", retry_after(wait))
    return principal


MAX_SIGN_IN_BYTES = 4096


async def admit_sign_in(request: Request, runtime: Runtime) -> None:
    """Sign-in attempts per client address, before any password is checked; and a sign-in is
    a few dozen bytes, so a large body is refused before it is read."""
    if int(request.headers.get("content-length") or 0) > MAX_SIGN_IN_BYTES:
        raise TooLarge("body", f"a sign-in is at most {MAX_SIGN_IN_BYTES} bytes")
    address = address_key(request.client.host if request.client else None)
    wait = runtime.sign_in_limits.take(address, time.monotonic())
    if wait:
        raise TooManyAttempts("password", "too many sign-in attempts from this address", retry_after(wait))


SignInAdmitted = Depends(admit_sign_in)


User = Annotated[Principal, Depends(get_principal)]
