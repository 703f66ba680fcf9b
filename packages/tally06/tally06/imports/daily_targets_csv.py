"""Daily targets from CSV: ``unit_code,metric,target`` per team or commune."""

from __future__ import annotations

import csv
import io

from tally06.contract.events import Metric
from tally06.domain.metrics import FAMILIES
from tally06.domain.org import OrgRegistry, UnitKind
from tally06.domain.targets import DailyTarget
from tally06.imports.row_errors import RowError

CSV_COLUMNS = ("unit_code", "metric", "target")


def parse_daily_targets_csv(text: str, org: OrgRegistry) -> tuple[list[DailyTarget], list[RowError]]:
    """Rows of ``unit_code,metric,target``; bad rows are reported, never raised."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        return [], [RowError(1, "header", f"must be {','.join(CSV_COLUMNS)}")]
    known = {m.value for m in Metric} | set(FAMILIES)
    targets: list[DailyTarget] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(reader, start=2):
        unit, metric, value = ((row.get(column) or "").strip() for column in CSV_COLUMNS)
        found = org.get(unit)
        if found is None or found.kind not in (UnitKind.TEAM, UnitKind.COMMUNE):
            errors.append(RowError(line, "unit_code", f"{unit!r} is not a known team or commune"))
            continue
        if metric not in known:
            errors.append(RowError(line, "metric", f"{metric!r} is not a metric or family ({', '.join(sorted(FAMILIES))})"))
            continue
        if not value.isdigit():
            errors.append(RowError(line, "target", "must be a whole number of citizens, 0 or more"))
            continue
        if (unit, metric) in seen:
            errors.append(RowError(line, "unit_code", f"{unit} {metric} is already given on row {seen[(unit, metric)]}"))
            continue
        seen[(unit, metric)] = line
        targets.append(DailyTarget(unit, metric, int(value)))
    return targets, errors
