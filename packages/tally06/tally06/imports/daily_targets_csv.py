"""Daily targets from CSV: ``unit_code,metric,target`` for units of any level.

A unit's own target wins over the sum of those below it (``domain.targets.rollup_daily_targets``),
so a commune, a village, a district or a province may set one figure of its own.
"""

from __future__ import annotations

from collections.abc import Container

from tally06.contract.events import Metric
from tally06.domain.metrics import FAMILIES
from tally06.domain.targets import DailyTarget
from tally06.imports.row_errors import FirstRows, RowError, csv_rows

CSV_COLUMNS = ("unit_code", "metric", "target")


def parse_daily_targets_csv(text: str, org: Container[str]) -> tuple[list[DailyTarget], list[RowError]]:
    """Rows of ``unit_code,metric,target`` naming units of ``org`` (a map, or the codes of the maps
    the rows stay in force in); bad rows are reported, never raised."""
    rows, errors = csv_rows(text, CSV_COLUMNS)
    known = {m.value for m in Metric} | set(FAMILIES)
    targets: list[DailyTarget] = []
    first = FirstRows()
    for line, (unit, metric, value) in rows:
        if unit not in org:
            errors.append(RowError(line, "unit_code", f"{unit!r} is not a known unit"))
            continue
        if metric not in known:
            families = ", ".join(sorted(FAMILIES))
            errors.append(RowError(line, "metric", f"{metric!r} is not a metric or family ({families})"))
            continue
        if not value.isdigit():
            errors.append(RowError(line, "target", "must be a whole number of citizens, 0 or more"))
            continue
        if repeated := first.repeated((unit, metric), line, "unit_code", f"{unit} {metric}"):
            errors.append(repeated)
            continue
        targets.append(DailyTarget(unit, metric, int(value)))
    return targets, errors
