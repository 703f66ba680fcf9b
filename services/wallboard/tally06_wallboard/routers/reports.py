"""Official reports to download. Appendix I only: it holds no personal data; Appendix II (names,
CCCDs, phones) stays on the CLI until sign-in and roles guard the API (issue 7)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from tally06.reports import ReportError, build_appendix1, write_appendix1
from tally06.reports.audit import record_export
from tally06_wallboard.deps import Runtime
from tally06_wallboard.exceptions import InvalidRequest
from tally06_wallboard.schemas import ErrorBody

router = APIRouter(prefix="/v1/reports", tags=["reports"])

MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv; charset=utf-8"}


@router.get(
    "/appendix1",
    summary="Appendix I (targets and activations per unit) as of a cutoff, from the event store",
    responses={200: {"content": {MEDIA["xlsx"]: {}, MEDIA["csv"]: {}}}, 404: {"model": ErrorBody},
               422: {"model": ErrorBody}},
)
async def appendix1(
    runtime: Runtime,
    unit: Annotated[str, Query(max_length=40, description="the unit whose children are the rows")] = "TH",
    cutoff: Annotated[dt.datetime | None, Query(description="ISO 8601 with offset; default now")] = None,
    since: Annotated[dt.datetime | None, Query(description="a previous report's cutoff: list corrections")] = None,
    format: Literal["xlsx", "csv"] = "xlsx",  # noqa: A002 - the query parameter's public name
) -> Response:
    """The corrections since ``since`` come as a second sheet of the .xlsx (the CSV holds the table only)."""
    runtime.reports.unit(unit)
    at = cutoff or runtime.clock.now()
    for name, moment in (("cutoff", at), ("since", since)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidRequest(name, "needs a UTC offset, e.g. 2023-04-30T17:00+07:00")
    async with runtime.pool.acquire() as conn:
        try:
            report = await build_appendix1(conn, unit, at, since, org=runtime.tree.org)
        except ReportError as exc:
            raise InvalidRequest("cutoff", str(exc)) from exc
        name = f"phu-luc-1_{unit}_{at.astimezone(dt.UTC):%Y%m%dT%H%M}Z.{format}"
        await record_export(conn, actor="wallboard-api", role="api", action="export.appendix1", unit=unit,
                            period_from=since, period_to=at, clear_pii=False, row_count=len(report.rows),
                            target=f"download:{name}")
    with tempfile.TemporaryDirectory() as folder:
        files = write_appendix1(report, Path(folder) / name)
        body = files[0].read_bytes()
    return Response(body, media_type=MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{name}"'})
