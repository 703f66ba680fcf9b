"""Progress of one unit, the ranking of its children and its daily trend."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from tally06_wallboard.answers import Basis
from tally06_wallboard.deps import ReportsDep, User
from tally06_wallboard.figures import unit_ref
from tally06_wallboard.schemas import ErrorBody, Ranking, Trend, UnitProgress, UnitRef
from tally06_wallboard.scope import readable

router = APIRouter(prefix="/v1/units", tags=["units"], responses={404: {"model": ErrorBody}, 403: {"model": ErrorBody}})

Code = Annotated[str, Path(description="unit code, e.g. VN, TH, TH-03, TH-03-C01, TH-03-C01-T1", max_length=40)]


@router.get("", summary="Where a board starts: the top of the user's part of the live map")
async def roots(reports: ReportsDep, principal: User) -> list[UnitRef]:
    """The user's own unit (a country, a province, a commune...); empty when the live map no
    longer has it (a district focal point after districts were dissolved)."""
    unit = reports.tree().get(principal.unit)
    return [unit_ref(unit)] if unit is not None else []


@router.get("/{code}/progress", summary="Today against the daily target, cumulative against the campaign target")
async def progress(code: Code, reports: ReportsDep, principal: User) -> UnitProgress:
    readable(reports, principal, code)
    return await reports.progress(code)


@router.get("/{code}/children", summary="The unit's children, ranked, with the same figures")
async def children(code: Code, reports: ReportsDep, principal: User,
                   basis: Annotated[Basis, Query(description="count what teams claim, or what the national "
                                                 "registry confirmed")] = "claimed") -> Ranking:
    readable(reports, principal, code)
    return await reports.children(code, basis)


@router.get("/{code}/trend", summary="Activations, daily target and duplicate claims per local day")
async def trend(code: Code, reports: ReportsDep, principal: User,
                days: Annotated[int, Query(ge=1, le=92, description="days ending today")] = 14) -> Trend:
    readable(reports, principal, code)
    return await reports.trend(code, days)
