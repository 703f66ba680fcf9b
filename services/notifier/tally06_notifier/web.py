"""Health and metrics pages on the notifier's Faust web server."""

from __future__ import annotations

from typing import Any

from tally06.kit.faust_app import add_health_pages
from tally06_notifier.agents import runtime
from tally06_notifier.app import app


async def _ready() -> dict[str, Any]:
    await (await runtime.pool()).fetchval("SELECT 1")
    return {"leading": runtime.is_leader, "last_evaluation": runtime.last_evaluation}


add_health_pages(app, _ready)
