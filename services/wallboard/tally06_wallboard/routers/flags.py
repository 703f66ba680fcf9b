"""Implausible activity flagged by ingest (an officer activating more accounts in an hour than
a person can), and officers named in failing outcomes of decided spot checks
(``store.spot_check_flags``), for the focal points who review them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from tally06.store.spot_check_flags import failing_outcomes
from tally06_wallboard.deps import Runtime, User
from tally06_wallboard.schemas import ActivityFlag, ErrorBody
from tally06_wallboard.scope import default_unit, readable

router = APIRouter(prefix="/v1/flags", tags=["flags"], responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}})


@router.get("", summary="Officers flagged for implausible activity, newest hour first")
async def flags(
    runtime: Runtime,
    principal: User,
    unit: Annotated[str | None, Query(max_length=40, description="only teams at or below this unit")] = None,
    since: Annotated[dt.date | None, Query(description="local day of the first hour to list")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ActivityFlag]:
    unit = default_unit(principal, unit)
    readable(runtime.reports, principal, unit, "unit")
    teams = runtime.tree.subtree(unit)
    rows = await runtime.pool.fetch(
        "SELECT officer, team, local_hour, activations, threshold, first_flagged_at, last_flagged_at "
        "FROM activity_flags WHERE team = ANY($1::text[]) AND ($2::date IS NULL OR local_hour >= $2) "
        "ORDER BY local_hour DESC, officer LIMIT $3", teams, since, limit)
    found = [ActivityFlag(**dict(r)) for r in rows]
    found += [ActivityFlag(kind="spot_check", officer=f.officer, team=f.team, local_hour=f.local_hour,
                           activations=None, threshold=None, first_flagged_at=f.decided_at,
                           last_flagged_at=f.decided_at, check_id=f.check_id, check_status=f.check_status,
                           outcome=f.outcome, count=f.count)
              for f in await failing_outcomes(runtime.pool, teams, since=since, limit=limit)]
    # One list, newest hour first, as before; stable sorts keep each source's own order within an hour.
    found.sort(key=lambda f: f.officer)
    found.sort(key=lambda f: f.local_hour, reverse=True)
    return found[:limit]
