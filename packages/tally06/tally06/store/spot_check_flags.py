"""Officers named in failing spot-check outcomes, for the implausible-activity flags.

A verifier who finds a claimed activation not made, made on someone else's account or phone,
or not guided by the officer named (``tally06.domain.spot_checks.FAILURES``) has found something
about that officer, whatever the check's verdict. Only decided checks are read: a unit's own
users may read the flags of their teams, and must not learn of a check before its verdict
(``domain.spot_checks.sees_open_check``). Officer ids and team codes only, never a citizen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from tally06.contract.events import LOCAL_TZ
from tally06.domain.spot_checks import FAILURES


@dataclass(frozen=True)
class FailingOutcome:
    officer: str
    team: str
    check_id: int
    check_status: str
    outcome: str
    count: int  # items of the check naming the officer and team with that outcome
    decided_at: dt.datetime

    @property
    def local_hour(self) -> dt.datetime:
        """The local hour of the verdict, without offset, as activity flags name their hours."""
        return self.decided_at.astimezone(LOCAL_TZ).replace(minute=0, second=0, microsecond=0, tzinfo=None)


async def failing_outcomes(conn: asyncpg.Connection | asyncpg.Pool, teams: Sequence[str], *,
                           since: dt.date | None = None, limit: int = 200) -> list[FailingOutcome]:
    """Per decided check, officer, team and failing outcome, newest verdict first; with
    ``since``, only checks decided on that local day or later."""
    start = None if since is None else dt.datetime.combine(since, dt.time(), LOCAL_TZ)
    rows = await conn.fetch(
        "SELECT i.officer, i.team, c.id AS check_id, c.status AS check_status, o.outcome, count(*) AS count, "
        "c.decided_at FROM spot_check_outcomes o JOIN spot_check_items i USING (check_id, rank) "
        "JOIN spot_checks c ON c.id = o.check_id "
        "WHERE c.status <> 'open' AND c.decided_at IS NOT NULL AND i.team = ANY($1::text[]) "
        "AND o.outcome = ANY($2::text[]) AND ($3::timestamptz IS NULL OR c.decided_at >= $3) "
        "GROUP BY i.officer, i.team, c.id, o.outcome ORDER BY c.decided_at DESC, i.officer, c.id, o.outcome "
        "LIMIT $4", list(teams), sorted(FAILURES), start, limit)
    return [FailingOutcome(**dict(r)) for r in rows]
