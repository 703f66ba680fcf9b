"""A national-registry extract (CSV or XLSX) read into protected rows (docs/registry-extracts.md).

A province's extract has millions of rows, so rows stream: ``ParsedExtract.records`` yields them
in batches for the store to copy into the database while the next ones are read, and it keeps
every bad row (row, field, reason) as it goes. Each row is checked and protected by
``registry_rows.RowChecker``: the clear number lives only while its row is checked.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tally06.domain.pii import CitizenProtector
from tally06.imports.exceptions import RegistryExtractError
from tally06.imports.registry_rows import RECORD_COLUMNS, ExtractRecord, ReadTally, RowChecker
from tally06.imports.registry_words import header_columns
from tally06.imports.row_errors import RowError

__all__ = ["RECORD_COLUMNS", "ExtractRecord", "ParsedExtract", "read_extract"]


@dataclass
class ParsedExtract:
    """A readable extract: its keyed digest (the same file is recognised when loaded again) and
    its rows, read on demand; ``tally`` is what the last reading found."""

    path: Path
    digest: str
    columns: dict[str, int]
    ignored_columns: list[str]
    header_errors: list[RowError]
    protector: CitizenProtector
    tally: ReadTally = field(default_factory=ReadTally)

    @property
    def carries_pii(self) -> bool:
        """Only an extract with both columns says what a citizen's name and phone are now; one
        without them leaves the stored ones as they are."""
        return "full_name" in self.columns and "phone" in self.columns

    @property
    def source(self) -> str:
        return self.path.name

    def records(self, *, last_day: dt.date | None = None, batch: int = 20_000) -> Iterator[list[ExtractRecord]]:
        """The good rows in batches; bad rows go to ``tally`` (complete once this is exhausted).
        ``last_day``: the extract's day; a stage on a later day is a bad row."""
        tally = self.tally = ReadTally()
        if self.header_errors:
            tally.errors.extend(self.header_errors)
            return
        checker = RowChecker(self.columns, self.protector, last_day)
        check, chunk = checker.check, []
        for line, cells in _rows(self.path, self.columns):
            found = check(line, cells)
            if type(found) is ExtractRecord:
                chunk.append(found)
                if len(chunk) >= batch:
                    tally.good += len(chunk)
                    yield chunk
                    chunk = []
            else:
                tally.add(found)  # type: ignore[arg-type]
        if chunk:
            tally.good += len(chunk)
            yield chunk

    def all_records(self, *, last_day: dt.date | None = None) -> list[ExtractRecord]:
        return [r for chunk in self.records(last_day=last_day) for r in chunk]


def read_extract(path: Path, protector: CitizenProtector) -> ParsedExtract:
    """Open an extract: its digest and header; raises RegistryExtractError when it is no extract."""
    path = Path(path)
    kind = _kind(path)
    try:
        with path.open("rb") as raw:
            content = hashlib.file_digest(raw, "sha256").digest()
        header = _csv_header(path) if kind == "csv" else _xlsx_header(path)
    except OSError as exc:
        raise RegistryExtractError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    columns, ignored, problems = header_columns(header)
    # Keyed: a small file's bytes could be guessed from a plain hash (a CCCD has 12 digits).
    digest = protector.content_digest(b"registry-extract:" + content)
    return ParsedExtract(path, digest, columns, ignored, [RowError(1, "header", p) for p in problems], protector)


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    raise RegistryExtractError(f"{path.name}: an extract is a .csv or .xlsx file")


def _delimiter(first_line: str) -> str:
    """Excel in a Vietnamese locale saves "CSV" with semicolons."""
    return ";" if ";" in first_line and "," not in first_line else ","


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            first = f.readline()
    except UnicodeDecodeError:
        raise RegistryExtractError(f"{path.name}: is not UTF-8 text (save it as 'CSV UTF-8')") from None
    return next(csv.reader([first], delimiter=_delimiter(first)), [])


def _rows(path: Path, columns: dict[str, int]) -> Iterator[tuple[int, list[str]]]:
    if _kind(path) == "xlsx":
        yield from _xlsx_rows(path, columns)
        return
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=_delimiter(f.readline()))
            end = 1  # a record starts on the line after the previous one ends (a quoted value may span lines)
            for cells in reader:
                line, end = end + 1, reader.line_num + 1
                if any(cells):
                    yield line, cells
    except UnicodeDecodeError:
        raise RegistryExtractError(f"{path.name}: is not UTF-8 text (save it as 'CSV UTF-8')") from None
    except csv.Error as exc:
        raise RegistryExtractError(f"{path.name}: not a readable CSV near line {end}: {exc}") from None


def _xlsx_sheet(path: Path) -> tuple[Any, Any]:
    from openpyxl import load_workbook  # only XLSX extracts need it

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file  # noqa: BLE001
        raise RegistryExtractError(f"{path.name}: not a readable XLSX workbook ({type(exc).__name__})") from None
    return book, book.worksheets[0]


def _xlsx_header(path: Path) -> list[str]:
    book, sheet = _xlsx_sheet(path)
    try:
        first = next(sheet.iter_rows(max_row=1, values_only=True), ())
        return ["" if v is None else str(v) for v in first]
    finally:
        book.close()


def _xlsx_cell(value: object, column: str | None) -> str:
    """A cell as the CSV would hold it. Excel keeps numbers typed into a text column as numbers,
    losing a CCCD's or phone's leading zeros: they are put back (a CCCD has 12 digits, a mobile
    number 10 with its 0)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if column == "cccd" and 0 <= value < 10**12:
            return f"{value:012d}"
        if column == "phone" and 10**8 <= value < 10**9:
            return f"0{value}"
    return str(value)


def _xlsx_rows(path: Path, columns: dict[str, int]) -> Iterator[tuple[int, list[str]]]:
    names = {index: column for column, index in columns.items()}
    book, sheet = _xlsx_sheet(path)
    try:
        for line, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            cells = [_xlsx_cell(v, names.get(i)) for i, v in enumerate(values)]
            if any(cells):
                yield line, cells
    finally:
        book.close()
