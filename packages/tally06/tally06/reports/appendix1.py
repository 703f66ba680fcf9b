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

Counts are summed through the map the report is in (``reports.scope``): the map in force on the
cutoff's local day unless another is asked for. An event counts for the row of the child unit
under which its team's holder sits in that map, so the same cutoff gives the same table after
any later reorganisation, and the rows can be the children of any unit: the districts of a 2023
province, the communes of a two-tier one, the provinces under a country root, the villages or
teams of a commune.

Targets are the campaign targets in force at the cutoff (``campaign_targets_at``), rolled up the
report's map: a row's target is its unit's own, else the sum of those below it.

Basis (``BASES`` of domain/metrics.py): *claimed* counts the activations above; *confirmed*
counts, of exactly those, the ones the national registry confirmed (``claim_states``, the
reconciler's verdict as of the latest extract it has judged). A confirmed report for a past
cutoff therefore counts the same claims as the claimed one, judged with what the registry
knows now: its figures grow as later extracts confirm pending claims, never beyond the claimed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

import asyncpg

from tally06.domain.metrics import ACTIVATED, BASES
from tally06.domain.org import UnitKind
from tally06.domain.pace import completion_pct, remaining
from tally06.domain.targets import CampaignTarget, rollup_campaign_targets
from tally06.reports.exceptions import ReportError
from tally06.reports.scope import MapRef, ReportScope, check_aware, report_scope
from tally06.store.spot_check_marks import Mark, failed_marks
from tally06.store.targets import campaign_targets_at


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
    unit_kind: UnitKind | None = None  # None on the totals row
    # The unit's latest conclusive spot check at the cutoff failed and marks its figures
    # (store/spot_check_marks.py); None on the totals row.
    spot_check: Mark | None = None


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
    map: MapRef | None = None  # the map the rows are units of
    unit_kind: UnitKind | None = None
    basis: str = "claimed"  # a key of BASES: what teams claim, or what the registry confirmed

    @property
    def levels(self) -> list[UnitKind]:
        """The kinds of the rows' units, from the top down ("Cấp xã" for a two-tier province)."""
        return sorted({r.unit_kind for r in self.rows if r.unit_kind is not None}, key=lambda k: k.rank)


def assemble_appendix1(
    unit_code: str,
    unit_name: str,
    children: Sequence[tuple[str, str] | tuple[str, str, UnitKind]],
    targets: Mapping[str, CampaignTarget],
    activated: Mapping[tuple[str, str], int],
    cutoff: dt.datetime,
) -> Appendix1Report:
    """Rows and totals from plain figures; pure, so the arithmetic is tested without a database.

    ``children`` is (code, name[, kind]) in report order; ``activated`` maps (unit, metric) to
    counts. A unit without a target in force has target 0 (completion 100.00 by
    ``pace.completion_pct``). The totals row sums the rows (including "remaining"); its % is
    summed activated / summed target, as Appendix I prints it (137,881 / 3,243,976 = 4.25).
    """
    rows = []
    for no, (code, name, *kind) in enumerate(children, start=1):
        t = targets.get(code)
        tt, t1, t2 = (t.total, t.level1, t.level2) if t else (0, 0, 0)
        a1, a2 = activated.get((code, "activated_l1"), 0), activated.get((code, "activated_l2"), 0)
        rows.append(Appendix1Row(no, code, name, tt, t1, t2, a1, a2, a1 + a2,
                                 completion_pct(a1 + a2, tt), remaining(a1 + a2, tt), kind[0] if kind else None))

    def total(attr: str) -> int:
        return sum(getattr(r, attr) for r in rows)

    totals = Appendix1Row(
        None, unit_code, "Tổng cộng", total("target_total"), total("target_level1"),
        total("target_level2"), total("activated_level1"), total("activated_level2"),
        total("activated_total"), completion_pct(total("activated_total"), total("target_total")),
        total("remaining"))
    return Appendix1Report(unit_code, unit_name, cutoff, rows, totals)


# What a counted activation must also be on each basis (a constant of this module, never input).
_BASIS_FILTER = {
    "claimed": "",
    "confirmed": "AND EXISTS (SELECT 1 FROM claim_states s WHERE s.seq = events.seq AND s.state = 'confirmed') ",
}


async def _counts_by_child(conn: asyncpg.Connection, scope: ReportScope, received_after: dt.datetime | None,
                           occurred_by: dt.datetime, received_by: dt.datetime,
                           basis: str = "claimed") -> dict[tuple[str, str], int]:
    """Credited activations per (child of the unit, metric), through the scope's map; on the
    confirmed basis only those the registry confirmed.

    The events are read per team code (``events_team_day`` index), then each code is counted in
    the child of the unit that holds it in the map: the same as joining ``map_holders`` and
    ``map_units`` on the team and taking the child from the holder's path.
    """
    rows = await conn.fetch(
        "SELECT team, metric, count(*) AS n FROM events "
        "WHERE team = ANY($1::text[]) AND credited AND metric = ANY($2::text[]) "
        "AND occurred_at <= $3 AND received_at <= $4 "
        f"AND ($5::timestamptz IS NULL OR received_at > $5) {_BASIS_FILTER[basis]}GROUP BY 1, 2",
        scope.team_codes(), list(ACTIVATED), occurred_by, received_by, received_after)
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        child = scope.child_holding(r["team"])
        if child is not None:
            counts[(child, r["metric"])] = counts.get((child, r["metric"]), 0) + r["n"]
    return counts


async def build_appendix1(
    conn: asyncpg.Connection,
    unit_code: str,
    cutoff: dt.datetime,
    since: dt.datetime | None = None,
    *,
    map_id: int | None = None,
    progress: Callable[[str], None] | None = None,
    basis: str = "claimed",
) -> Appendix1Report:
    """Appendix I for the children of ``unit_code`` (any unit but a team) as of ``cutoff``, in
    the map in force on the cutoff's local day or in map ``map_id``, counting claimed or
    registry-confirmed activations (``basis``); with ``since``, also the corrections that arrived
    after that previous cutoff (and by ``cutoff``), per row of the same map."""
    if basis not in BASES:
        raise ReportError(f"unknown basis {basis!r}: one of {', '.join(BASES)}", "basis")
    check_aware(cutoff, "the cutoff")
    if since is not None:
        check_aware(since, "the previous cutoff")
        if since >= cutoff:
            raise ReportError("the previous cutoff must be before the cutoff")
    step = progress or (lambda _what: None)
    step("the map")
    scope = await report_scope(conn, unit_code, cutoff, map_id)
    unit = scope.unit
    if unit.kind is UnitKind.TEAM:
        raise ReportError(f"{unit_code} is a team: Appendix I lists the units under a unit", "unit")
    children = scope.children()
    step("targets")
    targets = rollup_campaign_targets(scope.map.registry, await campaign_targets_at(conn, cutoff))
    step("activations")
    counts = await _counts_by_child(conn, scope, None, cutoff, cutoff, basis)
    report = assemble_appendix1(unit.code, unit.name, [(u.code, u.name, u.kind) for u in children], targets,
                                counts, cutoff)
    report.map, report.unit_kind, report.basis = scope.ref, unit.kind, basis
    step("spot checks")
    marks = await failed_marks(conn, [u.code for u in children], as_of=cutoff)
    report.rows = [replace(r, spot_check=marks.get(r.unit_code)) for r in report.rows]
    if since is not None:
        step("corrections")
        late = await _counts_by_child(conn, scope, since, since, cutoff, basis)
        report.since = since
        report.corrections = [
            Correction(u.code, u.name, late.get((u.code, "activated_l1"), 0), late.get((u.code, "activated_l2"), 0))
            for u in children if (u.code, "activated_l1") in late or (u.code, "activated_l2") in late
        ]
    return report
