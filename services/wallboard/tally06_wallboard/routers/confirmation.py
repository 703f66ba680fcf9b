"""Claimed and confirmed: what the national registry made of a unit's activation claims."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from tally06_wallboard.deps import ReportsDep, User
from tally06_wallboard.routers.units import Code
from tally06_wallboard.schemas import ErrorBody, UnitConfirmation
from tally06_wallboard.scope import readable

router = APIRouter(prefix="/v1/units", tags=["units"], responses={404: {"model": ErrorBody}, 403: {"model": ErrorBody}})


@router.get("/{code}/confirmation", response_model_by_alias=True, responses={422: {"model": ErrorBody}},
            summary="Claimed, confirmed and the other registry states per level and day, with the confirmation rate")
async def confirmation(
    code: Code, reports: ReportsDep, principal: User,
    first: Annotated[dt.date | None, Query(alias="from", description="first day of the claims; default the "
                                           "unit's first (at most 366 days before to)")] = None,
    last: Annotated[dt.date | None, Query(alias="to", description="last day of the claims; default today")] = None,
) -> UnitConfirmation:
    """The rate is confirmed / (confirmed + unconfirmed + already_active + level_differs): a
    pending claim, whose window is still open, is not judged yet. Days are the claims' local days
    (for unclaimed activations, the registry's activation day)."""
    readable(reports, principal, code)
    return await reports.confirmation(code, first, last)
