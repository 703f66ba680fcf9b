"""A map of the organisation as CSV: ``code,name,kind,parent_code``, read and written.

People write these files by hand (docs/org-maps.md), so reading one reports every bad row with
its row number and the problem, not just the first: a unit with an unknown parent, a unit under
one of the same or a lower level, a unit under a team, a team at the root, a repeated code.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tally06.domain.exceptions import OrgError
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.imports.row_errors import FirstRows, RowError, csv_rows

CSV_COLUMNS = ("code", "name", "kind", "parent_code")

# The contract's UnitCode (tally06.contract.events): events name teams by these codes, and the
# board, the read API and the broker's keys use the others.
UNIT_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,39}")
_KINDS = ", ".join(k.value for k in UnitKind)
# What the registry's own messages start with ("unit TH-03: ..."), to find their row.
_NAMED_UNIT = re.compile(r"unit (\S+?):")


@dataclass(frozen=True)
class _Row:
    line: int
    unit: Unit


def _read_row(line: int, values: tuple[str, ...], first: FirstRows) -> tuple[_Row | None, list[RowError]]:
    """One row on its own: its unit, or None when the row is too broken to place in the tree."""
    code, name, kind_text, parent = values
    errors = []
    if not code:
        errors.append(RowError(line, "code", "is required"))
    elif not UNIT_CODE.fullmatch(code):
        errors.append(RowError(line, "code", f"{code!r} is not a unit code: capital letters, digits and '-', "
                                             "starting with a letter or digit, at most 40 characters"))
    elif repeated := first.repeated(code, line, "code", f"unit {code}"):
        errors.append(repeated)
    if not name:
        errors.append(RowError(line, "name", "is required"))
    try:
        kind: UnitKind | None = UnitKind(kind_text.lower())
    except ValueError:
        kind = None
        errors.append(RowError(line, "kind", f"{kind_text!r} is not one of {_KINDS}"))
    if kind is None or not code or any(e.field == "code" for e in errors):
        return None, errors
    return _Row(line, Unit(code, name, kind, parent or None)), errors


def _parent_problem(row: _Row, rows: dict[str, _Row], codes: set[str]) -> RowError | None:
    """Where the unit of a row sits: under a known unit of a higher level, or at the root."""
    unit, line = row.unit, row.line
    if unit.parent_code is None:
        if unit.kind is UnitKind.TEAM:
            return RowError(line, "parent_code", f"team {unit.code} must sit under a unit, not at the root")
        return None
    if unit.parent_code == unit.code:
        return RowError(line, "parent_code", f"unit {unit.code} cannot be its own parent")
    parent = rows.get(unit.parent_code)
    if parent is None:
        if unit.parent_code in codes:  # its own row is bad and says why
            return None
        return RowError(line, "parent_code", f"parent {unit.parent_code!r} of {unit.code} is not a unit of "
                                             "this file")
    if parent.unit.kind is UnitKind.TEAM:
        return RowError(line, "parent_code", f"{unit.code} cannot sit under {parent.unit.code} (row {parent.line}): "
                                             "a team has no units under it")
    if parent.unit.kind.rank >= unit.kind.rank:
        return RowError(line, "parent_code", (
            f"a {unit.kind.value} cannot sit under a {parent.unit.kind.value} ({parent.unit.code}, row "
            f"{parent.line}); a parent is of a higher level than its children"))
    return None


def read_org_csv(text: str) -> tuple[OrgRegistry | None, list[RowError]]:
    """Rows of ``code,name,kind,parent_code`` (parents may come after children): the map, or
    None and every bad row. A map with any bad row is no map: its tree would be a guess."""
    lines, errors = csv_rows(text, CSV_COLUMNS)
    if errors:
        return None, errors
    first = FirstRows()
    rows: dict[str, _Row] = {}
    codes: set[str] = set()
    for line, values in lines:
        if not any(values):
            continue
        codes.add(values[0])
        row, problems = _read_row(line, values, first)
        errors.extend(problems)
        if row is not None:
            rows[row.unit.code] = row
    for row in rows.values():
        if problem := _parent_problem(row, rows, codes):
            errors.append(problem)
    if not codes:
        errors.append(RowError(2, "code", "the file has no units"))
    if errors:
        return None, sorted(errors, key=lambda e: e.row)
    try:
        return OrgRegistry(r.unit for r in rows.values()), []
    except OrgError as exc:  # the checks above should have caught it; still name the row
        named = _NAMED_UNIT.match(str(exc))
        found = rows.get(named.group(1)) if named else None
        return None, [RowError(found.line if found else 1, "code", str(exc))]


def parse_org_csv(text: str) -> OrgRegistry:
    """The map of a CSV, or ``OrgError`` listing every bad row (see ``read_org_csv``)."""
    registry, errors = read_org_csv(text)
    if registry is None:
        raise OrgError("; ".join(f"row {e.row} ({e.field}): {e.message}" for e in errors))
    return registry


def to_org_csv(units: Iterable[Unit]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for u in units:
        writer.writerow([u.code, u.name, u.kind.value, u.parent_code or ""])
    return out.getvalue()
