"""Backlog goals in PostgreSQL: set with a frozen baseline, judged from ``registry_citizens``.

* ``approved_not_activated``: the baseline is the list of the unit's residents (live map) whom
  the registry shows approved and not activated when the goal is set; their keys are kept, and
  progress is how many of them the registry now shows activated.
* ``not_registered``: those people are not in the registry, so nobody can be named; the baseline
  is a count the user gives from the population data. Progress is the unit's residents whom the
  registry first saw (their earliest stage day) on or after the setting day and now shows
  activated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from tally06.contract.events import local_day
from tally06.domain.backlog_goals import BacklogGoal, BacklogList, GoalProgress, check_share, progress
from tally06.exceptions import FieldError
from tally06.store.funnel import RESIDENTS, live_map_id
from tally06.store.org import Conn


class GoalRefused(FieldError):
    """A goal cannot be set as asked; names the field at fault."""


@dataclass(frozen=True)
class StoredGoal:
    id: int
    goal: BacklogGoal
    set_at: dt.datetime
    set_by: str | None
    map_id: int | None


_FREEZE = f"""
INSERT INTO backlog_goal_members (goal_id, citizen_key)
SELECT $3, citizen_key FROM ({RESIDENTS}) residents WHERE status = 'approved' AND activated_on IS NULL
"""

_MEMBERS_DONE = """
SELECT count(*) FROM backlog_goal_members m JOIN registry_citizens r USING (citizen_key)
WHERE m.goal_id = $1 AND r.status = 'activated'
"""

# The earliest day the registry knows of a citizen: who first appears on or after the setting
# day was not registered when the goal was set.
_NEWCOMERS_DONE = f"""
SELECT count(*) FROM ({RESIDENTS}) residents
WHERE status = 'activated' AND least(collected_on, approved_on, activated_on) >= $3
"""

_COLUMNS = "id, unit, list, share, due, baseline, set_on, set_at, set_by, map_id"


async def set_goal(conn: asyncpg.Connection, *, unit: str, list_name: str, share: Decimal, due: dt.date,
                   now: dt.datetime, baseline: int | None = None, actor: str | None = None,
                   map_id: int | None = None) -> StoredGoal:
    """Set a goal and freeze its baseline, in one transaction (the caller's, if it has one).

    The unit must be in the live map (or the map given): its subtree says who lives there.
    """
    try:
        kind = BacklogList(list_name)
    except ValueError:
        raise GoalRefused("list", f"{list_name!r} is not a list; use "
                          + " or ".join(k.value for k in BacklogList)) from None
    try:
        check_share(share)
    except ValueError as exc:
        raise GoalRefused("share", str(exc)) from None
    set_on = local_day(now)
    if due < set_on:
        raise GoalRefused("due", f"{due.isoformat()} is before today ({set_on.isoformat()})")
    map_id = map_id if map_id is not None else await live_map_id(conn)
    if map_id is None or not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM map_units WHERE map_id = $1 AND code = $2)", map_id, unit):
        raise GoalRefused("unit", f"{unit!r} is not a unit of the live map")
    if kind is BacklogList.NOT_REGISTERED and baseline is None:
        raise GoalRefused("baseline", "the not registered are not in the registry; give their number "
                          "from the population data")
    if kind is BacklogList.APPROVED_NOT_ACTIVATED and baseline is not None:
        raise GoalRefused("baseline", "this list's baseline is counted from the registry; do not give one")
    if baseline is not None and baseline < 0:
        raise GoalRefused("baseline", "must not be negative")
    async with conn.transaction():
        goal_id = await conn.fetchval(
            "INSERT INTO backlog_goals (unit, list, share, due, baseline, set_on, set_at, set_by, map_id) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            unit, kind.value, share, due, baseline or 0, set_on, now, actor, map_id)
        if kind is BacklogList.APPROVED_NOT_ACTIVATED:
            frozen = await conn.execute(_FREEZE, map_id, unit, goal_id)
            baseline = int(frozen.split()[-1])
            await conn.execute("UPDATE backlog_goals SET baseline = $2 WHERE id = $1", goal_id, baseline)
    assert baseline is not None  # given, or counted just above
    return StoredGoal(goal_id, BacklogGoal(unit, kind, share, due, baseline, set_on), now, actor, map_id)


def _stored(row: asyncpg.Record) -> StoredGoal:
    goal = BacklogGoal(row["unit"], BacklogList(row["list"]), row["share"], row["due"], row["baseline"],
                       row["set_on"])
    return StoredGoal(row["id"], goal, row["set_at"], row["set_by"], row["map_id"])


async def goals(conn: Conn, unit: str | None = None) -> list[StoredGoal]:
    """Goals of one unit (all when None), by due day then id."""
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM backlog_goals WHERE $1::text IS NULL OR unit = $1 "
                            "ORDER BY due, id", unit)
    return [_stored(r) for r in rows]


async def goal_done(conn: Conn, stored: StoredGoal, map_id: int | None = None) -> int:
    """How many citizens the registry now counts towards the goal."""
    if stored.goal.list is BacklogList.APPROVED_NOT_ACTIVATED:
        return int(await conn.fetchval(_MEMBERS_DONE, stored.id))
    map_id = map_id if map_id is not None else await live_map_id(conn)
    return int(await conn.fetchval(_NEWCOMERS_DONE, map_id, stored.goal.unit, stored.goal.set_on))


async def goals_progress(conn: Conn, today: dt.date, unit: str | None = None,
                         map_id: int | None = None) -> list[tuple[StoredGoal, GoalProgress]]:
    """Every goal of a unit (all when None) judged on ``today``."""
    found: Sequence[StoredGoal] = await goals(conn, unit)
    return [(s, progress(s.goal, await goal_done(conn, s, map_id), today)) for s in found]
