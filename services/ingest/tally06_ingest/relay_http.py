"""Health, readiness and metrics of the relay process."""

from __future__ import annotations

import asyncio

import asyncpg
from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def create_relay_app(pool: asyncpg.Pool, status: dict[str, object]) -> FastAPI:
    app = FastAPI(title="tally06 relay", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            row = await asyncio.wait_for(pool.fetchrow(
                "SELECT (SELECT last_seq FROM event_seq) AS stored, position, broker_epoch FROM relay_state"), 2)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, 503)
        return JSONResponse({"status": "ready", "backlog": row["stored"] - row["position"],
                             "broker_epoch": row["broker_epoch"], **status})

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
