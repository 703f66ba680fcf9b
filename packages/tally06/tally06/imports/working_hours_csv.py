"""Working hours from CSV: ``unit_code,starts,ends`` (HH:MM, local time)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Container

from tally06.domain.calendar import UnitHours, WorkingHours
from tally06.imports.row_errors import FirstRows, RowError, csv_rows

CSV_COLUMNS = ("unit_code", "starts", "ends")


_HH_MM = re.compile(r"(\d{1,2}):(\d{2})")


def _time(text: str) -> dt.time:
    """``HH:MM`` in local time; seconds are refused since nobody schedules a shift by them."""
    match = _HH_MM.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time as HH:MM")
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return dt.time(hour, minute)


def parse_working_hours_csv(text: str, org: Container[str]) -> tuple[list[UnitHours], list[RowError]]:
    """Rows of ``unit_code,starts,ends`` for any unit of ``org`` (a map, or the codes of the maps
    the rows stay in force in); bad rows are reported, never raised."""
    lines, errors = csv_rows(text, CSV_COLUMNS)
    rows: list[UnitHours] = []
    first = FirstRows()
    for line, (unit, starts, ends) in lines:
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
        if repeated := first.repeated(unit, line, "unit_code", unit):
            errors.append(repeated)
            continue
        rows.append(UnitHours(unit, WorkingHours(times["starts"], times["ends"])))
    return rows, errors
