"""Health and metrics pages on each worker's Faust web server."""

from __future__ import annotations

from typing import Any

from tally06.kit.faust_app import add_health_pages
from tally06_aggregator.agents import runtime
from tally06_aggregator.app import app


async def _ready() -> dict[str, Any]:
    await (await runtime.pool()).fetchval("SELECT 1")
    return {"assigned": len(app.consumer.assignment())}


add_health_pages(app, _ready)
