"""Campaign phases and deadlines per unit: what each phase must add, and by when.

The province hands down phases (plan 70: three, each with a goal of new activations); a
district may be given its own. A unit without phases follows its nearest ancestor's, so one
set for the province is enough. The end of a unit's last phase is its deadline.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence

import asyncpg

from tally06.org import OrgRegistry
from tally06.pace import Phase
from tally06.targets_import import RowError

CSV_COLUMNS = ("unit_code", "phase", "starts", "ends", "goal")


def parse_phases_csv(text: str, org: OrgRegistry) -> tuple[dict[str, list[Phase]], list[RowError]]:
    """Rows of ``unit_code,phase,starts,ends,goal`` (dates YYYY-MM-DD); bad rows are reported."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        return {}, [RowError(1, "header", f"must be {','.join(CSV_COLUMNS)}")]
    phases: dict[str, list[Phase]] = {}
    errors: list[RowError] = []
    for line, row in enumerate(reader, start=2):
        unit, name, starts, ends, goal = ((row.get(c) or "").strip() for c in CSV_COLUMNS)
        if unit not in org:
            errors.append(RowError(line, "unit_code", f"{unit!r} is not a known unit"))
            continue
        if not name:
            errors.append(RowError(line, "phase", "a phase needs a name"))
            continue
        try:
            start, end = dt.date.fromisoformat(starts), dt.date.fromisoformat(ends)
        except ValueError:
            errors.append(RowError(line, "starts", "starts and ends must be dates, YYYY-MM-DD"))
            continue
        if not goal.replace(".", "").isdigit():
            errors.append(RowError(line, "goal", "must be a whole number of activations, 0 or more"))
            continue
        if end < start:
            errors.append(RowError(line, "ends", "a phase must not end before it starts"))
            continue
        overlapping = next((p for p in phases.get(unit, []) if p.start <= end and start <= p.end), None)
        if overlapping is not None:
            errors.append(RowError(line, "starts", f"overlaps {overlapping.name} of {unit}"))
            continue
        phases.setdefault(unit, []).append(Phase(name, start, end, int(goal.replace(".", ""))))
    return {u: sorted(p, key=lambda x: x.start) for u, p in phases.items()}, errors


async def save_phases(conn: asyncpg.Connection, phases: Mapping[str, Sequence[Phase]], *, source: str,
                      valid_from: dt.datetime) -> int:
    rows = [(unit, p.name, p.start, p.end, p.goal, valid_from, source) for unit, ps in phases.items() for p in ps]
    await conn.executemany(
        "INSERT INTO campaign_phases (unit, name, starts, ends, goal, valid_from, source) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)", rows)
    return len(rows)


async def phases_at(conn: asyncpg.Connection | asyncpg.Pool, at: dt.datetime) -> dict[str, list[Phase]]:
    """Each unit's phases of the newest import in force at ``at`` (an import replaces a unit's set)."""
    rows = await conn.fetch(
        "SELECT p.unit, p.name, p.starts, p.ends, p.goal FROM campaign_phases p "
        "JOIN (SELECT DISTINCT ON (unit) unit, valid_from FROM campaign_phases WHERE valid_from <= $1 "
        "      ORDER BY unit, valid_from DESC, id DESC) v ON v.unit = p.unit AND v.valid_from = p.valid_from "
        "ORDER BY p.unit, p.starts", at)
    found: dict[str, list[Phase]] = {}
    for r in rows:
        found.setdefault(r["unit"], []).append(Phase(r["name"], r["starts"], r["ends"], r["goal"]))
    return found


def phases_for(unit: str, phases: Mapping[str, Sequence[Phase]], org: OrgRegistry) -> Sequence[Phase]:
    """The unit's own phases, else its nearest ancestor's; empty when nobody above has any."""
    for code in org.ancestors(unit):
        if phases.get(code):
            return phases[code]
    return ()


def deadline_for(unit: str, phases: Mapping[str, Sequence[Phase]], org: OrgRegistry) -> dt.date | None:
    found = phases_for(unit, phases, org)
    return max(p.end for p in found) if found else None
