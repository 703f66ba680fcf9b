"""FastAPI dependencies of the wallboard service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tally06_wallboard.reports import Reports
from tally06_wallboard.runtime import WallboardRuntime


def get_runtime(request: Request) -> WallboardRuntime:
    return request.app.state.runtime


Runtime = Annotated[WallboardRuntime, Depends(get_runtime)]


def get_reports(runtime: Runtime) -> Reports:
    return runtime.reports


ReportsDep = Annotated[Reports, Depends(get_reports)]
