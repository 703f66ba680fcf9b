"""The read API's answers: read model and targets in, figures out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import asyncpg

from tally06.contract.events import local_day
from tally06.domain.calendar import Phase, WorkingHours, deadline_for, hours_for
from tally06.domain.confirmation import FIGURES, Confirmation, LevelCounts, by_day, summed
from tally06.domain.org import Unit, UnitKind
from tally06.kit.clock import Clock
from tally06.store.phases import phases_at
from tally06.store.spot_check_marks import failed_marks
from tally06.store.targets import campaign_targets_at, daily_targets_on
from tally06.store.working_hours import working_hours_on
from tally06_wallboard import readmodel
from tally06_wallboard.exceptions import InvalidRequest, NotFound
from tally06_wallboard.figures import Plan, UnitCounts, unit_figures, unit_ref
from tally06_wallboard.hierarchy import Tree
from tally06_wallboard.ranking import rank_units, standing
from tally06_wallboard.schemas import (
    ConfirmationDay,
    Levels,
    RankedUnit,
    Ranking,
    SpotCheckMark,
    Trend,
    TrendDay,
    UnitConfirmation,
    UnitProgress,
)
from tally06_wallboard.targets import Goal, campaign_goals, daily_activation_targets
from tally06_wallboard.trend import fill_days, window

Basis = Literal["claimed", "confirmed"]
# The longest period one confirmation answer covers: a campaign, with room.
MAX_CONFIRMATION_DAYS = 366


@dataclass
class Reports:
    pool: asyncpg.Pool
    tree: Callable[[], Tree]  # the registry is refreshed while the service runs
    clock: Clock
    plan: Plan

    def unit(self, code: str, tree: Tree | None = None, field: str = "code") -> Unit:
        unit = (tree or self.tree()).get(code)
        if unit is None:
            raise NotFound(field, f"{code!r} is not a known unit")
        return unit

    async def _targets(self, tree: Tree, now: dt.datetime) -> tuple[
            dict[str, Goal], dict[str, int], dict[str, WorkingHours], dict[str, list[Phase]]]:
        """Campaign goals, today's activation targets, the working hours and the phases set per unit."""
        goals = campaign_goals(tree, await campaign_targets_at(self.pool, now))
        daily = daily_activation_targets(tree, await daily_targets_on(self.pool, local_day(now)))
        hours = await working_hours_on(self.pool, local_day(now))
        return goals, daily, hours, await phases_at(self.pool, now)

    def _plan(self, tree: Tree, code: str, phases: dict[str, list[Phase]]) -> Plan:
        """The unit's own deadline (its phases' or an ancestor's), else the service's."""
        deadline = deadline_for(code, phases, tree.org)
        return self.plan if deadline is None else replace(self.plan, deadline=deadline)

    async def progress(self, code: str) -> UnitProgress:
        # One tree for the whole answer: the live map may switch while it is being made.
        tree = self.tree()
        unit = self.unit(code, tree)
        now = self.clock.now()
        goals, daily, hours, phases = await self._targets(tree, now)
        counts = await readmodel.unit_counts(self.pool, [code], local_day(now), self.plan.run_rate_days)
        figures = unit_figures(unit, counts.get(code, UnitCounts()), goals.get(code), daily.get(code), now,
                               self._plan(tree, code, phases), hours_for(code, hours, tree.org))
        return UnitProgress(**dict(figures), path=[unit_ref(u) for u in tree.path(code)])

    async def ranking(self, tree: Tree, codes: Sequence[str], parent: Unit | None,
                      level: UnitKind | None, basis: Basis = "claimed") -> Ranking:
        """Figures of the given units, ranked on the basis (claimed or registry-confirmed
        activations), with the change since the start of the day."""
        now = self.clock.now()
        today = local_day(now)
        goals, daily, hours, phases = await self._targets(tree, now)
        counts = await readmodel.unit_counts(self.pool, codes, today, self.plan.run_rate_days)
        figures = {
            code: unit_figures(tree.units[code], counts.get(code, UnitCounts()), goals.get(code),
                               daily.get(code), now, self._plan(tree, code, phases), hours_for(code, hours, tree.org))
            for code in codes
        }
        ranked_by, places = rank_units([
            standing(code, *counts.get(code, UnitCounts()).on_basis(basis), goals.get(code)) for code in figures
        ])
        marks = await failed_marks(self.pool, codes, as_of=now)
        entries = [
            RankedUnit(**dict(figures[code]), rank=p.rank, rank_start_of_day=p.rank_start_of_day,
                       rank_change=p.rank_change,
                       spot_check=SpotCheckMark(**marks[code].as_dict()) if code in marks else None)
            for code, p in sorted(places.items(), key=lambda item: (item[1].rank, item[0]))
        ]
        return Ranking(parent=unit_ref(parent) if parent else None, level=level, day=today, basis=basis,
                       ranked_by=ranked_by, entries=entries, as_of=now)

    async def children(self, code: str, basis: Basis = "claimed") -> Ranking:
        tree = self.tree()
        unit = self.unit(code, tree)
        kids = tree.kids(code)
        # A unit's children are of one kind in the usual maps; a map may mix them (levels can be
        # skipped), and then the highest of their kinds names the level.
        level = min((tree.units[k].kind for k in kids), key=lambda k: k.rank) if kids else None
        return await self.ranking(tree, kids, unit, level, basis)

    async def leaderboard(self, level: UnitKind, parent: str | None, basis: Basis = "claimed") -> Ranking:
        """Every unit of a level the live map ranks, optionally only those below one unit."""
        tree = self.tree()
        if level not in tree.ranked_kinds():
            ranked = ", ".join(k.value for k in tree.ranked_kinds()) or "none"
            raise InvalidRequest("level", f"the map in force ranks no {level.value} units; its levels: {ranked}")
        root = self.unit(parent, tree) if parent else None
        return await self.ranking(tree, tree.of_kind(level, parent), root, level, basis)

    async def trend(self, code: str, days: int) -> Trend:
        tree = self.tree()
        unit = self.unit(code, tree)
        now = self.clock.now()
        first, last = window(local_day(now), days)
        series = await readmodel.daily_series(self.pool, code, first, last)
        activated = dict(fill_days({d: a for d, (a, _) in series.items()}, first, last))
        claims = dict(fill_days({d: c for d, (_, c) in series.items()}, first, last))
        points = []
        for day in activated:
            # Targets are versioned by day, so each day is judged by the targets of that day.
            targets = daily_activation_targets(tree, await daily_targets_on(self.pool, day))
            points.append(TrendDay(day=day, activated=activated[day], target=targets.get(code), claims=claims[day]))
        return Trend(unit=unit_ref(unit), days=points, as_of=now)

    async def confirmation(self, code: str, first: dt.date | None, last: dt.date | None) -> UnitConfirmation:
        """Claimed, confirmed and every registry state of a unit's claims per level and day, for
        the claims of ``first``..``last`` (default: from the unit's first such day to today)."""
        unit = self.unit(code)
        now = self.clock.now()
        last = last or local_day(now)
        if first is not None and first > last:
            raise InvalidRequest("from", f"{first} is after to ({last})")
        if first is not None and (last - first).days >= MAX_CONFIRMATION_DAYS:
            raise InvalidRequest("from", f"at most {MAX_CONFIRMATION_DAYS} days: from {first} to {last} is longer")
        rows = await readmodel.confirmation_rows(self.pool, code, first, last)
        if first is None:
            earliest = min((r["day"] for r in rows), default=last)
            first = max(earliest, last - dt.timedelta(days=MAX_CONFIRMATION_DAYS - 1))
        days = by_day(rows, first, last)
        total = summed(days.values())
        return UnitConfirmation(
            unit=unit_ref(unit), from_day=first, to_day=last,
            **{state: _levels(getattr(total, state)) for state in FIGURES}, judged=total.judged(),
            rate=_share(total), days=[
                ConfirmationDay(day=day, claimed=c.claimed.total, confirmed=c.confirmed.total, rate=_share(c))
                for day, c in days.items()],
            as_of=now)



def _levels(counts: LevelCounts) -> Levels:
    return Levels(l1=counts.l1, l2=counts.l2, total=counts.total)


def _share(figures: Confirmation) -> float | None:
    found = figures.rate()
    return None if found is None else round(float(found), 4)
