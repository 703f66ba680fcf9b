"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tally06_wallboard.deps import Runtime

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The read model answers and the live feed is positioned")
async def readyz(runtime: Runtime) -> JSONResponse:
    try:
        await asyncio.wait_for(runtime.pool.fetchval("SELECT 1"), timeout=2)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    # Until the feed has a position on every partition, a change could slip past the boards
    # that open now. Once positioned, a broker hiccup only shows as "feed: down" on boards.
    if not runtime.feed.positioned.is_set():
        return JSONResponse({"status": "starting", "feed": "not positioned yet"}, status_code=503)
    return JSONResponse({"status": "ready", "units": len(runtime.tree.units),
                         "feed": "ok" if runtime.feed.healthy() else "down", "streams": runtime.hub.listeners})


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
