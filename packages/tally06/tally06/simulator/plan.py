"""Who works how hard: each team's daily target, pace and quirks, fixed by the seed.

Plan 70 hands the districts their Appendix I targets and expects the remainder done by the end
of phase 3; communes then give every team a DAILY target (the Sầm Sơn letter). So a team's
daily target is its area's remaining accounts shared over the area's teams and the campaign
days, where the area is the nearest unit above the team that has a target: the district in the
2023 map, the commune in the two-tier map (whose targets are shared out of Appendix I by
teams, so a team's pace is nearly the same in both). Teams do not all keep pace: most run near
target, some lag badly (those are the ones the notifier must alert on) and a few go quiet for
hours every day.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tally06.domain.org import Lineage, OrgRegistry, UnitKind
from tally06.imports.reference import appendix1, commune_targets
from tally06.simulator.people import officer_ids

if TYPE_CHECKING:
    from tally06.domain.targets import DailyTarget

# Plan 70: phase 1 starts 2023-03-24, phase 3 ends 2023-06-30 with 100 % of the remainder.
CAMPAIGN_FIRST_DAY = dt.date(2023, 3, 24)
CAMPAIGN_LAST_DAY = dt.date(2023, 6, 30)
CAMPAIGN_DAYS = (CAMPAIGN_LAST_DAY - CAMPAIGN_FIRST_DAY).days + 1
# A team of 3-5 people guiding citizens door to door: below 15 a day is idle, above 80 is
# more than 14.5 hours allow once travel and failed OTPs are counted.
MIN_DAILY_TARGET = 15
MAX_DAILY_TARGET = 80
DEFAULT_DAILY_TARGET = 40
LAGGING_SHARE = 0.15
SILENT_SHARE = 0.04


class TeamRole(enum.StrEnum):
    ON_PACE = "on_pace"
    LAGGING = "lagging"
    SILENT = "silent"


@dataclass(frozen=True)
class TeamPlan:
    """What a team is asked to do (``daily_target``) and how it actually works."""

    team: str
    commune: str
    area: str  # the unit whose target sets the team's pace (see ``_area``)
    daily_target: int
    rate_factor: float
    role: TeamRole
    level2_share: float
    officers: tuple[str, ...]
    # Seeds this team's silent windows, so a given day's silence is the same on every call.
    silence_seed: str

    @property
    def expected_per_day(self) -> float:
        """Citizens the team actually guides on an ordinary day."""
        return self.daily_target * self.rate_factor


class AreaTarget(Protocol):
    """What a team's pace is drawn from: a district's Appendix I row or a commune's share."""

    @property
    def code(self) -> str: ...
    @property
    def target_total(self) -> int: ...
    @property
    def target_level2(self) -> int: ...
    @property
    def remaining(self) -> int: ...


def reference_targets() -> dict[str, AreaTarget]:
    """The demo's targets by unit code: Appendix I's districts and the two-tier communes."""
    found: dict[str, AreaTarget] = {d.code: d for d in appendix1()}
    found.update((c.code, c) for c in commune_targets())
    return found


def daily_target_for(area: AreaTarget, teams_in_area: int, horizon_days: int) -> float:
    """The area's remaining accounts, per team, per campaign day (before clamping)."""
    return area.remaining / max(1, teams_in_area) / max(1, horizon_days)


def _clamp(value: float) -> int:
    return max(MIN_DAILY_TARGET, min(MAX_DAILY_TARGET, round(value)))


def _role(rng: random.Random) -> tuple[TeamRole, float]:
    draw = rng.random()
    if draw < LAGGING_SHARE:
        return TeamRole.LAGGING, rng.uniform(0.3, 0.6)
    if draw < LAGGING_SHARE + SILENT_SHARE:
        return TeamRole.SILENT, rng.uniform(0.9, 1.1)
    return TeamRole.ON_PACE, rng.uniform(0.9, 1.2)


def plan_teams(
    org: OrgRegistry,
    *,
    seed: int,
    targets: Mapping[str, AreaTarget] | None = None,
    horizon_days: int = CAMPAIGN_DAYS,
    teams: Iterable[str] | None = None,
) -> list[TeamPlan]:
    """Plans for the org's teams (or only ``teams``), sorted by code, the same for a seed.

    ``targets`` (unit code → target; the demo's reference targets by default) set each team's
    pace through its area. Plans depend on the seed and the map only, not on the run, so a
    restarted demo keeps its laggards; roles and officers do not depend on the map at all.
    """
    targets = reference_targets() if targets is None else targets
    lineages = [x for x in (org.lineage(u.code) for u in org.units(UnitKind.TEAM)) if x is not None]
    areas = {lineage.team: _area(lineage, targets) for lineage in lineages}
    per_area: dict[str, int] = {}
    for area in areas.values():
        per_area[area] = per_area.get(area, 0) + 1
    wanted = None if teams is None else set(teams)
    rng = random.Random(f"{seed}:plan")
    plans = []
    for lineage in sorted(lineages, key=lambda x: x.team):
        # Draw for every team even when unwanted, so a team's plan never depends on the subset.
        spread, (role, factor), officers = rng.uniform(0.85, 1.15), _role(rng), rng.randint(3, 5)
        if wanted is not None and lineage.team not in wanted:
            continue
        area = areas[lineage.team]
        target = targets.get(area)
        if target is None:
            base, level2_share = float(DEFAULT_DAILY_TARGET), 0.12
        else:
            base = daily_target_for(target, per_area[area], horizon_days)
            level2_share = target.target_level2 / target.target_total
        plans.append(TeamPlan(
            team=lineage.team, commune=lineage.key_unit, area=area,
            daily_target=_clamp(base * spread), rate_factor=round(factor, 3), role=role,
            level2_share=round(level2_share, 4), officers=officer_ids(lineage.team, officers),
            silence_seed=f"{seed}:silence:{lineage.team}",
        ))
    return plans


def _area(lineage: Lineage, targets: Mapping[str, AreaTarget]) -> str:
    """The unit whose target a team's pace is drawn from: the nearest one above the team that
    has a target (the district in the 2023 map, the commune in the two-tier one), else the
    unit that keys its facts."""
    for code in reversed(lineage.codes[:-1]):
        if code in targets:
            return code
    return lineage.key_unit


def daily_targets(plans: Iterable[TeamPlan]) -> dict[str, int]:
    """Team code → daily target, for whoever compares counts against what was asked."""
    return {p.team: p.daily_target for p in plans}


# A team's plan counts citizens visited; about 80 % of a day's visits turn into activations the
# same day (level 1 on the spot, level 2 once approved, some need a second visit). Activation
# targets a team working to plan can meet are a little below that.
ACTIVATION_YIELD = 0.75


def demo_daily_targets(seed: int = 6, org: OrgRegistry | None = None) -> list[DailyTarget]:
    """The daily activation target of every demo team (in the 2023 demo map unless ``org`` is
    given): what its plan of visits should yield."""
    from tally06.domain.targets import DailyTarget
    from tally06.imports.reference import demo_org

    plans = plan_teams(org or demo_org(), seed=seed)
    return [DailyTarget(team, "activated", round(target * ACTIVATION_YIELD))
            for team, target in sorted(daily_targets(plans).items())]
