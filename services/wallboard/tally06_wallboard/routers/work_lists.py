"""Work lists: the citizens of a unit the registry shows approved but not activated, or collected
but not approved; the outcomes teams record; the reasons counted per unit (docs/work-lists.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from tally06.domain.work_lists import REASON_WORDS, Reason, WorkList, area_of
from tally06.reports.work_list_writers import SheetRow, work_list_xlsx
from tally06.store.work_lists import reason_counts
from tally06_wallboard.deps import Runtime, User
from tally06_wallboard.schemas import ErrorBody
from tally06_wallboard.scope import readable
from tally06_wallboard.work_lists import (
    OutcomeBody,
    ReasonCount,
    ReasonCounts,
    ReasonWords,
    RecordedOutcome,
    WorkListAnswer,
    admit,
    items,
    outcome,
    reason_words,
    work_list,
)

router = APIRouter(tags=["work lists"], responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody},
                                                   422: {"model": ErrorBody}})

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Unit = Annotated[str | None, Query(max_length=40, description="default the user's own unit")]
ListName = Annotated[WorkList, Query(alias="list", description="which list")]
Clear = Annotated[bool, Query(description="names and phones in clear: team leads and commune focal points only "
                                          "(audited)")]


@router.get("/v1/worklists", summary="A unit's work list, longest waiting first (masked unless asked and allowed)")
async def get_work_list(
    runtime: Runtime, principal: User, unit: Unit = None,
    list_name: ListName = WorkList.APPROVED_NOT_ACTIVATED,
    clear: Clear = False,
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> WorkListAnswer:
    asked = await admit(runtime, principal, unit, list_name, clear)
    return await work_list(runtime, asked, limit, offset)


@router.get("/v1/worklists.xlsx", summary="The whole list of a unit as a spreadsheet (every export audited)",
            responses={200: {"content": {XLSX: {}}}})
async def export_work_list(
    runtime: Runtime, principal: User, unit: Unit = None,
    list_name: ListName = WorkList.APPROVED_NOT_ACTIVATED, clear: Clear = False,
) -> Response:
    asked = await admit(runtime, principal, unit, list_name, clear)
    now = runtime.clock.now()
    name = f"danh-sach_{asked.work_list.value}_{asked.unit}_{now:%Y%m%dT%H%M}.xlsx"
    _, found = await items(runtime, asked, None, 0, "export.worklist", f"download:{name}")
    rows = [SheetRow(i.ref, i.commune, i.village, i.team, i.full_name, i.phone, i.level, i.since, i.days_waiting,
                     i.outcome.reason if i.outcome else None, i.outcome.at if i.outcome else None) for i in found]
    body = work_list_xlsx(asked.unit, asked.work_list, rows, clear=asked.clear, as_of=now)
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/v1/worklists/outcomes", summary="Record what a team found about a citizen on its list")
async def post_outcome(body: OutcomeBody, runtime: Runtime, principal: User) -> RecordedOutcome:
    return await outcome(runtime, principal, body)


@router.get("/v1/worklists/reasons", summary="The reason codes of outcomes, with their words")
async def reasons(_: User) -> list[ReasonWords]:
    return reason_words()


@router.get("/v1/units/{code}/outcome-reasons",
            summary="The latest outcome of each citizen of a unit still on a list, counted by reason")
async def outcome_reasons(
    runtime: Runtime, principal: User,
    code: Annotated[str, Path(max_length=40)],
    list_name: Annotated[WorkList | None, Query(alias="list", description="one list; default both")] = None,
) -> ReasonCounts:
    readable(runtime.reports, principal, code)
    area = area_of(runtime.reports.tree().org, code)
    lists = [list_name] if list_name else list(WorkList)
    waiting, counts = await reason_counts(runtime.pool, area, lists)
    return ReasonCounts(unit=code, waiting=waiting, reasons=[
        ReasonCount(reason=r, vi=REASON_WORDS[r].vi, en=REASON_WORDS[r].en, count=counts[Reason(r)])
        for r in REASON_WORDS])
