"""Working hours per unit: when a unit's teams work, for pace alerts and expected progress.

Most units keep the campaign's 07:30–22:00; a district or commune that works other hours gets
its own row, and every unit below it inherits those hours unless it has a row of its own.
Rows are versioned by the first local day they apply to, like daily targets, so a change of
hours never rewrites what was expected of the teams on earlier days.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

import asyncpg

from tally06.org import OrgRegistry
from tally06.pace import CAMPAIGN_HOURS, WorkingHours
from tally06.targets_import import RowError

CSV_COLUMNS = ("unit_code", "starts", "ends")
_HH_MM = re.compile(r"(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class UnitHours:
    unit_code: str
    hours: WorkingHours


def _time(text: str) -> dt.time:
    """``HH:MM`` in local time; seconds are refused since nobody schedules a shift by them."""
    match = _HH_MM.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time as HH:MM")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return dt.time(hour, minute)


def parse_working_hours_csv(text: str, org: OrgRegistry) -> tuple[list[UnitHours], list[RowError]]:
    """Rows of ``unit_code,starts,ends`` for any unit; bad rows are reported, never raised."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        return [], [RowError(1, "header", f"must be {','.join(CSV_COLUMNS)}")]
    rows: list[UnitHours] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        unit, starts, ends = ((row.get(column) or "").strip() for column in CSV_COLUMNS)
        if not (unit or starts or ends):
            continue
        if unit not in org:
            errors.append(RowError(line, "unit_code", f"{unit!r} is not a known unit"))
            continue
        times: dict[str, dt.time] = {}
        for field, value in (("starts", starts), ("ends", ends)):
            try:
                times[field] = _time(value)
            except ValueError as exc:
                errors.append(RowError(line, field, str(exc)))
        if len(times) < 2:
            continue
        if not times["starts"] < times["ends"]:
            # A shift across midnight would split one daily target over two campaign days.
            errors.append(RowError(line, "ends", f"{ends} is not after {starts} on the same day"))
            continue
        if unit in seen:
            errors.append(RowError(line, "unit_code", f"{unit} is already given on row {seen[unit]}"))
            continue
        seen[unit] = line
        rows.append(UnitHours(unit, WorkingHours(times["starts"], times["ends"])))
    return rows, errors


async def save_working_hours(
    conn: asyncpg.Connection, rows: list[UnitHours], *, source: str, valid_from: dt.date
) -> int:
    await conn.executemany(
        "INSERT INTO working_hours (unit, starts, ends, valid_from, source) VALUES ($1, $2, $3, $4, $5)",
        [(r.unit_code, r.hours.start, r.hours.end, valid_from, source) for r in rows])
    return len(rows)


async def working_hours_on(conn: asyncpg.Connection | asyncpg.Pool, day: dt.date) -> dict[str, WorkingHours]:
    """The hours units set for themselves in force on a local day (inherited ones not included)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (unit) unit, starts, ends FROM working_hours "
        "WHERE valid_from <= $1 ORDER BY unit, valid_from DESC, id DESC", day)
    return {r["unit"]: WorkingHours(r["starts"], r["ends"]) for r in rows}


def hours_for(unit_code: str, explicit: Mapping[str, WorkingHours], org: OrgRegistry) -> WorkingHours:
    """The hours of a unit: its own, else its nearest ancestor's, else the campaign's."""
    for code in org.ancestors(unit_code):
        if code in explicit:
            return explicit[code]
    return CAMPAIGN_HOURS
