"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from tally06.kit.fastapi_health import health_router
from tally06_wallboard.runtime import WallboardRuntime


def _ready(runtime: WallboardRuntime) -> JSONResponse:
    # Until the feed has a position on every partition, a change could slip past the boards
    # that open now. Once positioned, a broker hiccup only shows as "feed: down" on boards.
    if not runtime.feed.positioned.is_set():
        return JSONResponse({"status": "starting", "feed": "not positioned yet"}, status_code=503)
    return JSONResponse({"status": "ready", "units": len(runtime.tree.units), "map": runtime.tree.map_id,
                         "feed": "ok" if runtime.feed.healthy() else "down", "streams": runtime.hub.listeners})


router = health_router("The read model answers and the live feed is positioned", _ready)
