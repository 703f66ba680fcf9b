"""Appendix I ("Phụ lục I") of plan 70 as of a cutoff, computed from the event store.

Rule for "activated as of a cutoff" (documented in docs/reports.md):

    an activation counts for a cutoff C when its event is credited (the first accepted event
    for that citizen and metric ``activated_l1`` / ``activated_l2``) AND occurred_at <= C AND
    received_at <= C.

``credited`` is decided at write time by arrival order, so the credited event of a (citizen,
metric) is the earliest *received* one: every other claim arrived later. Filtering on
``received_at <= C`` therefore gives exactly the credit holders the store knew at C, and a
report for a past cutoff gives the same figures whenever it is run again, even after late
events (occurred before C, received after C) have arrived. Those late arrivals are listed as
"corrections since a previous report" instead of silently changing the old figures.

Targets are the campaign targets in force at the cutoff (``campaign_targets_at``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import asyncpg

from tally06.domain.metrics import ACTIVATED
from tally06.domain.org import OrgRegistry, UnitKind
from tally06.domain.pace import completion_pct, remaining
from tally06.domain.targets import CampaignTarget
from tally06.reports.exceptions import ReportError
from tally06.store.org import load_org
from tally06.store.targets import campaign_targets_at

# Column of `events` naming a unit of each kind, and the kind of its children in a report.
_COLUMN = {UnitKind.PROVINCE: "province", UnitKind.DISTRICT: "district",
           UnitKind.COMMUNE: "commune", UnitKind.TEAM: "team"}
_CHILD = {UnitKind.PROVINCE: UnitKind.DISTRICT, UnitKind.DISTRICT: UnitKind.COMMUNE,
          UnitKind.COMMUNE: UnitKind.TEAM}


@dataclass(frozen=True)
class Appendix1Row:
    no: int | None  # None on the totals row
    unit_code: str
    unit_name: str
    target_total: int
    target_level1: int
    target_level2: int
    activated_level1: int
    activated_level2: int
    activated_total: int
    completion_pct: Decimal
    remaining: int


@dataclass(frozen=True)
class Correction:
    """Credited activations of a unit that occurred by the previous cutoff but arrived after it."""

    unit_code: str
    unit_name: str
    activated_level1: int
    activated_level2: int

    @property
    def activated_total(self) -> int:
        return self.activated_level1 + self.activated_level2


@dataclass
class Appendix1Report:
    unit_code: str
    unit_name: str
    cutoff: dt.datetime
    rows: list[Appendix1Row]
    total: Appendix1Row
    since: dt.datetime | None = None
    corrections: list[Correction] = field(default_factory=list)


def _aware(moment: dt.datetime, what: str) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ReportError(f"{what} needs a UTC offset, e.g. 2023-04-30T17:00+07:00")
    return moment


def assemble_appendix1(
    unit_code: str,
    unit_name: str,
    children: list[tuple[str, str]],
    targets: Mapping[str, CampaignTarget],
    activated: Mapping[tuple[str, str], int],
    cutoff: dt.datetime,
) -> Appendix1Report:
    """Rows and totals from plain figures; pure, so the arithmetic is tested without a database.

    ``children`` is (code, name) in report order; ``activated`` maps (unit, metric) to counts.
    A unit without a target in force has target 0 (completion 100.00 by ``pace.completion_pct``).
    The totals row sums the rows (including "remaining"); its % is summed activated / summed
    target, as Appendix I prints it (137,881 / 3,243,976 = 4.25).
    """
    rows = []
    for no, (code, name) in enumerate(children, start=1):
        t = targets.get(code)
        tt, t1, t2 = (t.total, t.level1, t.level2) if t else (0, 0, 0)
        a1, a2 = activated.get((code, "activated_l1"), 0), activated.get((code, "activated_l2"), 0)
        rows.append(Appendix1Row(no, code, name, tt, t1, t2, a1, a2, a1 + a2,
                                 completion_pct(a1 + a2, tt), remaining(a1 + a2, tt)))

    def total(attr: str) -> int:
        return sum(getattr(r, attr) for r in rows)

    totals = Appendix1Row(
        None, unit_code, "Tổng cộng", total("target_total"), total("target_level1"),
        total("target_level2"), total("activated_level1"), total("activated_level2"),
        total("activated_total"), completion_pct(total("activated_total"), total("target_total")),
        total("remaining"))
    return Appendix1Report(unit_code, unit_name, cutoff, rows, totals)


async def build_appendix1(
    conn: asyncpg.Connection,
    unit_code: str,
    cutoff: dt.datetime,
    since: dt.datetime | None = None,
    *,
    org: OrgRegistry | None = None,
    progress: Callable[[str], None] | None = None,
) -> Appendix1Report:
    """Appendix I for the children of ``unit_code`` (province → districts, district → communes,
    commune → teams) as of ``cutoff``; with ``since``, also the corrections that arrived after
    that previous cutoff (and by ``cutoff``)."""
    _aware(cutoff, "the cutoff")
    if since is not None:
        _aware(since, "the previous cutoff")
        if since >= cutoff:
            raise ReportError("the previous cutoff must be before the cutoff")
    step = progress or (lambda _what: None)
    org = org or await load_org(conn)
    unit = org.get(unit_code)
    if unit is None:
        raise ReportError(f"unknown unit {unit_code!r}")
    if unit.kind not in _CHILD:
        raise ReportError(f"{unit_code} is a team: Appendix I lists the units under a unit")
    children = sorted((u for u in org.children(unit_code)), key=lambda u: u.code)
    own, child = _COLUMN[unit.kind], _COLUMN[_CHILD[unit.kind]]
    step("targets")
    targets = await campaign_targets_at(conn, cutoff)
    step("activations")
    # `own`/`child` come from the fixed mapping above, never from input.
    counts = await conn.fetch(
        f"SELECT {child} AS unit, metric, count(*) AS n FROM events "
        f"WHERE {own} = $1 AND credited AND metric = ANY($2::text[]) "
        "AND occurred_at <= $3 AND received_at <= $3 GROUP BY 1, 2",
        unit_code, list(ACTIVATED), cutoff)
    report = assemble_appendix1(
        unit.code, unit.name, [(u.code, u.name) for u in children], targets,
        {(r["unit"], r["metric"]): r["n"] for r in counts}, cutoff)
    if since is not None:
        step("corrections")
        late = await conn.fetch(
            f"SELECT {child} AS unit, metric, count(*) AS n FROM events "
            f"WHERE {own} = $1 AND credited AND metric = ANY($2::text[]) "
            "AND occurred_at <= $3 AND received_at > $3 AND received_at <= $4 GROUP BY 1, 2",
            unit_code, list(ACTIVATED), since, cutoff)
        by_unit: dict[str, dict[str, int]] = {}
        for r in late:
            by_unit.setdefault(r["unit"], {})[r["metric"]] = r["n"]
        report.since = since
        report.corrections = [
            Correction(u.code, u.name, by_unit[u.code].get("activated_l1", 0),
                       by_unit[u.code].get("activated_l2", 0))
            for u in children if u.code in by_unit
        ]
    return report
