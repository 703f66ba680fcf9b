"""What became of the old map's units, as CSV: ``old_code,new_code,change`` (and an optional
``note`` column for people, not read).

Each row says where an old unit's work went (docs/org-maps.md). This module checks each row on
its own and the rows against each other; whether the codes exist in the old and the new map is
``tally06.domain.org_maps.reorganise``'s job, which names the same row numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from tally06.domain.org_maps import Change, MappingRow
from tally06.imports.row_errors import FirstRows, RowError, csv_rows

CSV_COLUMNS = ("old_code", "new_code", "change")
NOTE_COLUMN = "note"
_CHANGES = ", ".join(c.value for c in Change)


def _columns(text: str) -> tuple[str, ...]:
    header = next(csv.reader(io.StringIO(text.lstrip("\ufeff"))), [])
    return (*CSV_COLUMNS, NOTE_COLUMN) if tuple(header) == (*CSV_COLUMNS, NOTE_COLUMN) else CSV_COLUMNS


def parse_org_mapping_csv(text: str) -> tuple[list[MappingRow], list[RowError]]:
    """The valid rows of a mapping, with their row numbers, and every bad row."""
    lines, errors = csv_rows(text, _columns(text))
    if errors:
        return [], [RowError(1, "header", f"must be {','.join(CSV_COLUMNS)} or {','.join(CSV_COLUMNS)},note")]
    rows: list[MappingRow] = []
    first = FirstRows()
    for line, (old_code, new_code, change_text, *_) in lines:
        if not (old_code or new_code or change_text):
            continue
        before = len(errors)
        if not old_code:
            errors.append(RowError(line, "old_code", "is required"))
        if not new_code:
            errors.append(RowError(line, "new_code", "is required"))
        try:
            change = Change(change_text.lower())
        except ValueError:
            errors.append(RowError(line, "change", f"{change_text!r} is not one of {_CHANGES}"))
        if len(errors) > before:
            continue
        if repeated := first.repeated((old_code, new_code), line, "new_code", f"{old_code} → {new_code}"):
            errors.append(repeated)
            continue
        rows.append(MappingRow(line, old_code, new_code, change))
    return _one_way_unless_split(rows, errors)


def _one_way_unless_split(rows: list[MappingRow], errors: list[RowError]) -> tuple[list[MappingRow], list[RowError]]:
    """Only a split sends one old unit to several new ones; any other change names one new unit,
    or the old unit's teams would be claimed by two."""
    by_old: dict[str, list[MappingRow]] = {}
    for row in rows:
        by_old.setdefault(row.old_code, []).append(row)
    kept = []
    for row in rows:
        siblings = by_old[row.old_code]
        if len(siblings) > 1 and row.change is not Change.SPLIT:
            others = [str(r.row) for r in siblings if r is not row]
            where = f"row{'s' if len(others) > 1 else ''} {', '.join(others)}"
            errors.append(RowError(row.row, "change", (
                f"{row.old_code} is also mapped on {where}: an old unit goes to one new unit by "
                f"{row.change.value}; only 'split' rows may send it to several")))
        else:
            kept.append(row)
    return kept, sorted(errors, key=lambda e: e.row)


def to_org_mapping_csv(rows: Iterable[MappingRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([row.old_code, row.new_code, row.change.value])
    return out.getvalue()
