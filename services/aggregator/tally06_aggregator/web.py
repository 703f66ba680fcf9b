"""Health and metrics pages on each worker's Faust web server."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tally06_aggregator.app import app
from tally06_aggregator.agents import runtime


@app.page("/healthz")
async def healthz(web, request):  # noqa: ANN001 - Faust view signature
    return web.json({"status": "ok"})


@app.page("/readyz")
async def readyz(web, request):  # noqa: ANN001
    try:
        await (await runtime.pool()).fetchval("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return web.json({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return web.json({"status": "ready", "assigned": len(app.consumer.assignment())})


@app.page("/metrics")
async def metrics(web, request):  # noqa: ANN001
    return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST)
