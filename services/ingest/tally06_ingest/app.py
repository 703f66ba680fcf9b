"""The ingest FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from tally06.kit.http_security import JSON_API_CSP, SecurityHeaders
from tally06.store.database import DATABASE_UNAVAILABLE
from tally06_ingest.exceptions import EnvelopeError
from tally06_ingest.routers import events, health
from tally06_ingest.runtime import IngestRuntime
from tally06_ingest.schemas import EventBatch
from tally06_ingest.settings import IngestSettings

log = structlog.get_logger(__name__)


def _error(status: int, field: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": [{"field": field, "message": message}]}, status, headers=headers)


def _document_request_bodies(app: FastAPI) -> None:
    """The events body is read raw (to answer per item), so FastAPI cannot see its schema;
    add it to the OpenAPI components by hand."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            body = EventBatch.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(body.pop("$defs", {}))
            components["EventBatch"] = body
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: IngestSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = await IngestRuntime.start(settings)
        log.info("ingest_started", teams=len(app.state.runtime.registry.units()))
        try:
            yield
        finally:
            await app.state.runtime.stop()

    production = settings.mode == "production"
    app = FastAPI(
        title="tally06 ingest",
        version="1",
        lifespan=lifespan,
        docs_url=None if production else "/docs",
        redoc_url=None,
        openapi_url=None if production else "/openapi.json",
    )
    app.include_router(events.router)
    app.include_router(health.router)
    _document_request_bodies(app)
    # Every answer is JSON for a machine. The interactive docs page (outside production only)
    # loads its script and styles from a CDN, so it alone goes without the strict policy.
    docs_pages = () if production else ("/docs", "/docs/oauth2-redirect")
    app.add_middleware(SecurityHeaders, content_security_policy=JSON_API_CSP, cache_control="no-store",
                       csp_exempt_paths=docs_pages)

    @app.exception_handler(EnvelopeError)
    async def _envelope(_: Request, exc: EnvelopeError) -> JSONResponse:
        headers = dict(exc.headers)
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return _error(exc.status, exc.field, exc.message, headers or None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the input, which may hold personal data.
        detail = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return JSONResponse({"detail": detail}, 422)

    # The database going away mid-request (refused, starting up, connection broken under a
    # query): the answer is unknown to the phone, which retries; events that were stored then
    # answer "duplicate" with their sequence number.
    async def _store_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("event_store_unavailable", error=type(exc).__name__)
        return _error(503, "event_store", "unavailable; retry later (events already stored answer duplicate)",
                      {"Retry-After": "2"})

    for error in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error, _store_down)

    return app


def app_from_environment() -> FastAPI:
    """The app for ``python -m tally06_ingest`` (uvicorn imports it in every worker)."""
    return create_app(IngestSettings())
