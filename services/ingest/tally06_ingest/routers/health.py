"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from tally06.kit.fastapi_health import health_router
from tally06_ingest.runtime import IngestRuntime


def _ready(runtime: IngestRuntime) -> JSONResponse:
    return JSONResponse({"status": "ready", "units": len(runtime.registry.registry), "map": runtime.registry.id})


router = health_router("The event store answers, so events can be accepted", _ready)
