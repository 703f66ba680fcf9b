"""FastAPI dependencies of the wallboard service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tally06_wallboard.exceptions import Unauthenticated
from tally06_wallboard.reports import Reports
from tally06_wallboard.runtime import WallboardRuntime
from tally06_wallboard.sessions import COOKIE, Principal

_bearer = HTTPBearer(auto_error=False, description="a session token from POST /v1/auth/token")


def get_runtime(request: Request) -> WallboardRuntime:
    return request.app.state.runtime


Runtime = Annotated[WallboardRuntime, Depends(get_runtime)]


def get_reports(runtime: Runtime) -> Reports:
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
    request.state.principal = principal
    return principal


User = Annotated[Principal, Depends(get_principal)]
