"""/healthz, /readyz and /metrics of a FastAPI service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

import asyncpg
from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tally06.kit.fastapi_app import get_runtime


class PooledRuntime(Protocol):
    pool: asyncpg.Pool


R = TypeVar("R", bound=PooledRuntime)

# Module level: FastAPI resolves the endpoints' (string) annotations in this module's globals.
_Runtime = Annotated[Any, Depends(get_runtime)]


def health_router(ready_summary: str, ready: Callable[[R], JSONResponse]) -> APIRouter:
    """Ready means the database answers within 2 s, then whatever ``ready`` answers for the
    service's runtime (its own figures, or 503 while a part of it is still starting)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary=ready_summary)
    async def readyz(runtime: _Runtime) -> JSONResponse:
        try:
            await asyncio.wait_for(runtime.pool.fetchval("SELECT 1"), timeout=2)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
        return ready(runtime)

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
