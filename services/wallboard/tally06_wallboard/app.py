"""The wallboard FastAPI application: read API, live stream and the board's static files."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.cors import CORSMiddleware

from tally06.kit.fastapi_app import service_app
from tally06.kit.fastapi_errors import answer_database_down, answer_invalid_requests, error_response
from tally06.kit.http_security import SecurityHeaders
from tally06_wallboard.exceptions import WallboardError
from tally06_wallboard.routers import (
    alerts,
    auth,
    board,
    confirmation,
    flags,
    health,
    kinds,
    leaderboard,
    reports,
    stream,
    units,
)
from tally06_wallboard.routers.board import STATIC
from tally06_wallboard.routers.goals import router as goals_router
from tally06_wallboard.routers.spot_check_items import router as spot_check_items_router
from tally06_wallboard.routers.spot_checks import router as spot_checks_router
from tally06_wallboard.routers.work_lists import router as work_lists_router
from tally06_wallboard.runtime import WallboardRuntime
from tally06_wallboard.settings import WallboardSettings

log = structlog.get_logger(__name__)

# The board loads only its own files (Chart.js is vendored); bars are sized by style attributes.
BOARD_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
             "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")

DESCRIPTION = """Live figures of the Đề án 06 campaign from the read model: progress of a unit
against its daily and campaign targets, rankings with the change since the start of the local
day, daily trends, alerts and a stream of changes. The wall screen is served at `/`.

Every figure needs a signed-in user (`POST /v1/auth/token`, then a bearer token or the session
cookie); a user reads their own unit and the units below it."""


def create_app(settings: WallboardSettings) -> FastAPI:
    async def start() -> WallboardRuntime:
        runtime = await WallboardRuntime.start(settings)
        log.info("wallboard_started", units=len(runtime.tree.units), map=runtime.tree.map_id, url=settings.public_url,
                 deadline=settings.campaign_deadline.isoformat())
        return runtime

    app = service_app("tally06 wallboard", start, production=settings.mode == "production",
                      description=DESCRIPTION)
    for router in (auth.router, units.router, confirmation.router, kinds.router, leaderboard.router, alerts.router,
                   flags.router, reports.router, goals_router, work_lists_router, spot_checks_router,
                   spot_check_items_router, stream.router, health.router, board.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    if settings.cors_origins:
        # Only for another site that embeds the figures; the board itself is same-origin.
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    # Outermost, so every answer carries the headers, errors included.
    app.add_middleware(SecurityHeaders, content_security_policy=BOARD_CSP, csp_exempt_paths=("/docs",))

    @app.exception_handler(WallboardError)
    async def _refused(_: Request, exc: WallboardError) -> JSONResponse:
        return error_response(exc.status, exc.field, exc.message, exc.headers)

    answer_invalid_requests(app)
    answer_database_down(app, event="read_model_unavailable", field="read_model", message="unavailable; retry later")
    return app
