"""Campaign phases from CSV: ``unit_code,phase,starts,ends,goal``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Container

from tally06.domain.calendar import Phase
from tally06.imports.row_errors import RowError, csv_rows

CSV_COLUMNS = ("unit_code", "phase", "starts", "ends", "goal")


def parse_phases_csv(text: str, org: Container[str]) -> tuple[dict[str, list[Phase]], list[RowError]]:
    """Rows of ``unit_code,phase,starts,ends,goal`` (dates YYYY-MM-DD) naming units of ``org`` (a
    map, or the codes of the maps the rows stay in force in); bad rows are reported."""
    rows, errors = csv_rows(text, CSV_COLUMNS)
    phases: dict[str, list[Phase]] = {}
    for line, (unit, name, starts, ends, goal) in rows:
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
