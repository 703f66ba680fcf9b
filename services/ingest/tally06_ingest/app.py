"""The ingest FastAPI application."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tally06.kit.fastapi_app import service_app
from tally06.kit.fastapi_errors import answer_database_down, answer_invalid_requests, error_response
from tally06.kit.http_security import JSON_API_CSP, SecurityHeaders
from tally06_ingest.exceptions import EnvelopeError
from tally06_ingest.routers import events, health
from tally06_ingest.runtime import IngestRuntime
from tally06_ingest.schemas import EventBatch
from tally06_ingest.settings import IngestSettings

log = structlog.get_logger(__name__)


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
    async def start() -> IngestRuntime:
        runtime = await IngestRuntime.start(settings)
        log.info("ingest_started", units=len(runtime.registry.registry), map=runtime.registry.id)
        return runtime

    production = settings.mode == "production"
    app = service_app("tally06 ingest", start, production=production)
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
        return error_response(exc.status, exc.field, exc.message, headers or None)

    answer_invalid_requests(app)
    # The database going away mid-request (refused, starting up, connection broken under a
    # query): the answer is unknown to the phone, which retries; events that were stored then
    # answer "duplicate" with their sequence number.
    answer_database_down(app, event="event_store_unavailable", field="event_store",
                         message="unavailable; retry later (events already stored answer duplicate)")
    return app


def app_from_environment() -> FastAPI:
    """The app for ``python -m tally06_ingest`` (uvicorn imports it in every worker)."""
    return create_app(IngestSettings())
