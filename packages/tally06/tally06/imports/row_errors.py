"""What every importer shares: the one error type for bad rows (by row, field and reason), the
header check of a CSV, and the check that a row does not repeat an earlier one.

People type these files by hand, so a bad row must not sink the whole file: importers collect
every problem and keep the good rows; the caller decides whether any bad row saves nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """``row`` is 1-based as shown by Excel or a text editor (header rows counted)."""

    row: int
    field: str
    message: str


def csv_rows(text: str, columns: Sequence[str]) -> tuple[list[tuple[int, tuple[str, ...]]], list[RowError]]:
    """The rows of a CSV whose header is exactly ``columns``: each row's line number and its
    values, stripped, in that order. A wrong header is one error and no rows. A byte-order mark
    (Excel's "CSV UTF-8") is ignored."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != tuple(columns):
        return [], [RowError(1, "header", f"must be {','.join(columns)}")]
    rows = [(_first_line(reader.line_num, row), tuple((row.get(c) or "").strip() for c in columns))
            for row in reader]
    return rows, []


def _first_line(last_line: int, row: dict) -> int:
    """The line a record starts on: the reader skips blank lines, and a quoted value may span
    lines, so counting records would name the wrong row after either."""
    values: list[str] = []
    for value in row.values():  # a list holds the values beyond the header's columns
        values.extend(value if isinstance(value, list) else [value or ""])
    return last_line - sum(v.count("\n") for v in values)


class FirstRows:
    """Which row first gave each key, so a row that repeats one is reported with the row it repeats."""

    def __init__(self) -> None:
        self._rows: dict[Hashable, int] = {}

    def repeated(self, key: Hashable, line: int, field: str, what: str) -> RowError | None:
        """An error if ``key`` was given before; else remember ``line`` as its row."""
        first = self._rows.setdefault(key, line)
        return None if first == line else RowError(line, field, f"{what} is already given on row {first}")
