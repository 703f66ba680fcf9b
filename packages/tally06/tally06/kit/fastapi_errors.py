"""The error answers of the FastAPI services: one shape, ``{"detail": [{"field", "message"}]}``."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tally06.store.database import DATABASE_UNAVAILABLE

log = structlog.get_logger(__name__)


def error_response(status: int, field: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": [{"field": field, "message": message}]}, status, headers=headers)


def answer_invalid_requests(app: FastAPI) -> None:
    """A request FastAPI cannot validate answers 422 naming its fields, without their values:
    FastAPI's default echoes the input, which may hold personal data."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return JSONResponse({"detail": detail}, 422)


def answer_database_down(app: FastAPI, *, event: str, field: str, message: str) -> None:
    """The database going away under a request answers 503 with Retry-After (logged as
    ``event``), not 500: the client's retry is the right move."""

    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning(event, error=type(exc).__name__)
        return error_response(503, field, message, {"Retry-After": "2"})

    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, database_down)
