"""The "failed spot check" mark on a unit's figures (rankings, children tables, Appendix I).

A unit is marked when its latest conclusive spot check (passed or failed) decided at or before
``as_of`` failed and was drawn to mark figures (``spot_checks.marks_figures``). An inconclusive
check (the reserves ran out) says nothing about the unit's figures, so it neither marks them nor
lifts an earlier mark: only a later passing check does (the moment the notifier's
spot_check_failed alert resolves too). A report for a past cutoff shows the marks as they stood
then, so it reads the same whenever it is made again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from tally06.domain.spot_checks import STATUS_TEXTS, CheckStatus


@dataclass(frozen=True)
class Mark:
    id: int
    status: CheckStatus
    decided_at: dt.datetime

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "status": self.status.value, "decided_at": self.decided_at}


# The Appendix I column, and its cell for a marked row: "Không đạt (#12)" — the failed status's
# words without the column's own ("Không đạt kiểm tra xác suất" under "Kiểm tra xác suất").
COLUMN_VI = "Kiểm tra xác suất"


def mark_vi(mark: Mark) -> str:
    words = STATUS_TEXTS[mark.status][0].removesuffix(" " + COLUMN_VI.lower())
    return f"{words} (#{mark.id})"


async def failed_marks(conn: asyncpg.Connection | asyncpg.Pool, units: Iterable[str], *,
                       as_of: dt.datetime) -> dict[str, Mark]:
    """The units of ``units`` whose figures carry the mark at ``as_of``, with the check that put it."""
    rows = await conn.fetch(
        "SELECT unit, id, status, decided_at, marks_figures FROM ("
        "SELECT DISTINCT ON (unit) * FROM spot_checks WHERE unit = ANY($1::text[]) "
        "AND status IN ('passed', 'failed') AND decided_at <= $2 ORDER BY unit, decided_at DESC, id DESC) latest "
        "WHERE status = 'failed' AND marks_figures", sorted(set(units)), as_of)
    return {r["unit"]: Mark(r["id"], CheckStatus(r["status"]), r["decided_at"]) for r in rows}
