"""Sign-in, session renewal and sign-out for people using the board and the read API."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tally06.domain.accounts import SignIn
from tally06.store.users import end_sessions, sign_in
from tally06_wallboard.deps import Runtime, SignInAdmitted, User
from tally06_wallboard.exceptions import TooManyAttempts, Unauthenticated
from tally06_wallboard.schemas import Credentials, ErrorBody, Me, Session
from tally06_wallboard.sessions import COOKIE, Principal

router = APIRouter(prefix="/v1/auth", tags=["auth"], responses={401: {"model": ErrorBody}})


def _me(principal: Principal) -> Me:
    return Me(username=principal.username, display_name=principal.display_name, role=principal.role,
              unit=principal.unit)


def _session(runtime: Runtime, response: Response, token: str, me: Me) -> Session:
    ttl = runtime.sessions.ttl_s
    response.set_cookie(COOKIE, token, max_age=ttl, httponly=True, samesite="strict", path="/",
                        secure=runtime.settings.public_url.startswith("https://"))
    return Session(access_token=token, expires_in=ttl, user=me)


@router.post("/token", summary="Sign in: a short-lived session token (also set as a cookie)",
             responses={429: {"model": ErrorBody}}, dependencies=[SignInAdmitted])
async def token(body: Credentials, runtime: Runtime, response: Response) -> Session:
    # Sessions expire in real time even when the service runs a demo clock.
    now = runtime.wall_clock.now()
    result = await sign_in(runtime.pool, body.username, body.password, now)
    if result.outcome is SignIn.LOCKED:
        raise TooManyAttempts("password", "too many wrong passwords; wait and try again", result.retry_after_s)
    if result.outcome is SignIn.WRONG or result.user is None:
        raise Unauthenticated("password", "wrong username or password")
    user = result.user
    me = Me(username=user.username, display_name=user.display_name, role=user.role, unit=user.unit)
    return _session(runtime, response, runtime.sessions.issue(user, now), me)


@router.post("/refresh", summary="A fresh token for a session still valid (an open board renews itself)")
async def refresh(principal: User, runtime: Runtime, response: Response) -> Session:
    user = await runtime.sessions.account(principal.user_id)
    if user is None:
        raise Unauthenticated("session", "ended; sign in again")
    return _session(runtime, response, runtime.sessions.issue(user, runtime.wall_clock.now()), _me(principal))


@router.post("/sign-out", summary="End every session of the signed-in user", status_code=204)
async def sign_out(principal: User, runtime: Runtime, response: Response) -> None:
    await end_sessions(runtime.pool, principal.username)
    runtime.sessions.forget(principal.user_id)
    response.delete_cookie(COOKIE, path="/")


@router.get("/me", summary="Who is signed in, with which role and units")
async def me(principal: User) -> Me:
    return _me(principal)
