"""Official reports to download, each one written to the audit log with the signed-in user.

Appendix II lists citizens: their CCCD, name and phone are masked unless the user's role may see
them in clear (the district and provincial police who run the spot checks) and asks to."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Query
from fastapi.responses import Response

from tally06.contract.events import local_day
from tally06.domain.accounts import CLEAR_PII_ROLES
from tally06.reports import ReportError
from tally06.reports.export import Export, ExportRequest
from tally06.store.org import map_in_force, unit_path
from tally06_wallboard.deps import Runtime, User
from tally06_wallboard.exceptions import Forbidden, InvalidRequest, NotFound
from tally06_wallboard.schemas import ErrorBody
from tally06_wallboard.scope import default_unit, readable

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
    principal: User,
    unit: Annotated[str | None, Query(max_length=40, description="the unit whose children are the rows; "
                                      "default the user's own")] = None,
    cutoff: Annotated[dt.datetime | None, Query(description="ISO 8601 with offset; default now")] = None,
    since: Annotated[dt.datetime | None, Query(description="a previous report's cutoff: list corrections")] = None,
    map: MapId = None,  # noqa: A002 - the query parameter's public name
    format: Literal["xlsx", "csv"] = "xlsx",  # noqa: A002 - the query parameter's public name
    basis: Annotated[Literal["claimed", "confirmed"], Query(
        description="claimed: the activations teams report; confirmed: of those, the ones the national "
                    "registry confirmed")] = "claimed",
) -> Response:
    """The corrections since ``since`` come as a second sheet of the .xlsx (the CSV holds the table only).
    The title row, the CSV's ``basis`` column and the audit entry say which basis."""
    request, name = await _request(runtime, principal, unit, cutoff, since, map, "phu-luc-1", format)
    if basis != "claimed":
        request = replace(request, basis=basis)
        name = name.replace("phu-luc-1_", f"phu-luc-1-{basis}_", 1)
    return await _export(runtime, request.appendix1, name, format)


MapId = Annotated[int | None, Query(ge=1, description="the map the report is in (`tally06 org maps`); "
                                    "default the map in force at the cutoff")]


async def _unit(runtime: Runtime, principal: User, unit: str | None, at: dt.datetime, map_id: int | None) -> str:
    """The asked unit, else the user's own, if readable. A unit of the live map is checked in it;
    one only an earlier map has (a district dissolved since) is readable by the users at or
    above it in the report's map."""
    unit = default_unit(principal, unit)
    if runtime.reports.tree().get(unit) is not None and map_id is None:
        readable(runtime.reports, principal, unit, "unit")
        return unit
    async with runtime.pool.acquire() as conn:
        in_map = map_id or await map_in_force(conn, local_day(at))
        path = await unit_path(conn, unit, in_map) if in_map is not None else None
    if path is None:
        raise NotFound("unit", f"no unit {unit!r} in map {in_map}")
    if principal.unit not in path:
        raise Forbidden("unit", f"{unit} is outside your units ({principal.unit})")
    return unit


async def _request(runtime: Runtime, principal: User, unit: str | None, cutoff: dt.datetime | None,
                   since: dt.datetime | None, map_id: int | None, prefix: str,
                   format: str) -> tuple[ExportRequest, str]:  # noqa: A002
    at = _period(runtime, cutoff, since)
    unit = await _unit(runtime, principal, unit, at, map_id)
    name = f"{prefix}_{unit}_{at.astimezone(dt.UTC):%Y%m%dT%H%M}Z.{format}"
    return ExportRequest(principal.username, principal.role.value, unit, at, since, f"download:{name}",
                         map_id), name


async def _export(runtime: Runtime, build: Callable[[asyncpg.Connection], Awaitable[Export]], name: str,
                  format: str) -> Response:  # noqa: A002
    async with runtime.pool.acquire() as conn:
        try:
            export = await build(conn)
        except ReportError as exc:
            raise InvalidRequest(exc.field, str(exc)) from exc
    return _download(export, name, format)


def _period(runtime: Runtime, cutoff: dt.datetime | None, since: dt.datetime | None) -> dt.datetime:
    at = cutoff or runtime.clock.now()
    for name, moment in (("cutoff", at), ("since", since)):
        if moment is not None and moment.tzinfo is None:
            raise InvalidRequest(name, "needs a UTC offset, e.g. 2023-04-30T17:00+07:00")
    if since is not None and since >= at:
        raise InvalidRequest("since", "must be before the cutoff")
    return at


def _download(export: Export, name: str, format: str) -> Response:  # noqa: A002
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        export.write(path, None)
        body = path.read_bytes()
    return Response(body, media_type=MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{name}"'})


Unit = Annotated[str | None, Query(max_length=40, description="default the user's own unit")]
Cutoff = Annotated[dt.datetime | None, Query(description="end of the period, ISO 8601 with offset; default now")]
Since = Annotated[dt.datetime | None, Query(description="start of the period (exclusive); default the beginning")]


@router.get(
    "/appendix2",
    summary="Appendix II: every credited activation of a unit in a period (citizen masked unless allowed)",
    responses={200: {"content": {MEDIA["xlsx"]: {}, MEDIA["csv"]: {}}}, 403: {"model": ErrorBody},
               404: {"model": ErrorBody}, 422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def appendix2(
    runtime: Runtime, principal: User, unit: Unit = None, cutoff: Cutoff = None, since: Since = None,
    clear: Annotated[bool, Query(
        description="clear CCCD, names and phones: district and provincial police only")] = False,
    map: MapId = None,  # noqa: A002
    format: Literal["xlsx", "csv"] = "xlsx",  # noqa: A002
) -> Response:
    request, name = await _request(runtime, principal, unit, cutoff, since, map, "phu-luc-2", format)
    if clear and principal.role not in CLEAR_PII_ROLES:
        await request.refuse_clear(runtime.pool)
        raise Forbidden("clear", f"a {principal.role} may not see clear personal data (refused and logged)")
    protector = runtime.protector()
    # The personal data is read and its audit row written in one transaction.
    return await _export(runtime, lambda conn: request.appendix2(conn, protector=protector, clear=clear), name, format)


@router.get(
    "/officers",
    summary="Activations per team and per officer, with the 10-citizens-per-official rule",
    responses={200: {"content": {MEDIA["xlsx"]: {}, MEDIA["csv"]: {}}}, 403: {"model": ErrorBody},
               404: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def officers(
    runtime: Runtime, principal: User, unit: Unit = None, cutoff: Cutoff = None, since: Since = None,
    map: MapId = None,  # noqa: A002
    format: Literal["xlsx", "csv"] = "xlsx",  # noqa: A002
) -> Response:
    request, name = await _request(runtime, principal, unit, cutoff, since, map, "can-bo", format)
    return await _export(runtime, request.officers, name, format)
