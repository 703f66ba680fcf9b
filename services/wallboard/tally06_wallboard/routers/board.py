"""The wall screen: one static page; everything it shows comes from the read API."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

STATIC = resources.files("tally06_wallboard") / "static"


@router.get("/", response_class=HTMLResponse)
async def board() -> HTMLResponse:
    # Read on every request (it is small), and never cached: after a deploy or a restart the
    # board must load the page that matches the API.
    return HTMLResponse(STATIC.joinpath("index.html").read_text("utf-8"), headers={"Cache-Control": "no-cache"})
