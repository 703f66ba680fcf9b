"""Ranking of one level of the hierarchy, with rank change since the start of the day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tally06.domain.org import UnitKind
from tally06_wallboard.answers import Basis
from tally06_wallboard.deps import ReportsDep, User
from tally06_wallboard.schemas import ErrorBody, Ranking
from tally06_wallboard.scope import default_unit, readable

router = APIRouter(prefix="/v1/leaderboard", tags=["leaderboard"],
                   responses={404: {"model": ErrorBody}, 403: {"model": ErrorBody}})


@router.get("", summary="Every unit of a level of the live map (optionally below one unit), ranked",
            responses={422: {"model": ErrorBody}})
async def leaderboard(
    reports: ReportsDep,
    principal: User,
    level: Annotated[UnitKind, Query(description="the kind of units to rank: one GET /v1/kinds marks as ranked")],
    parent: Annotated[str | None, Query(max_length=40,
                                        description="only units below this one; default the user's own")] = None,
    basis: Annotated[Basis, Query(description="count what teams claim, or what the national registry "
                                  "confirmed")] = "claimed",
) -> Ranking:
    parent = default_unit(principal, parent)
    readable(reports, principal, parent, "parent")
    return await reports.leaderboard(level, parent, basis)
