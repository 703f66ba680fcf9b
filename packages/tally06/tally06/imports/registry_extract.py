"""A national-registry extract (CSV or XLSX) read into protected rows (docs/registry-extracts.md).

Each row's CCCD becomes ``CitizenProtector.citizen_key`` and its name and phone are sealed bound to
that key, before the row leaves this module: the clear number lives only while its row is
checked, and no error message repeats a cell that could hold it.

A province's extract has millions of rows, so rows stream: ``ParsedExtract.records`` yields them
in batches for the store to copy into the database while the next ones are read, and it keeps
every bad row (row, field, reason) as it goes. The checks are plain regular expressions and
dictionaries of the few distinct values a column holds (statuses, days, levels), not a model per
row: a few microseconds a row, most of it the keyed hash and the encryption.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from hashlib import blake2b
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from tally06.domain.pii import CitizenProtector
from tally06.domain.registry import RegistryStatus
from tally06.imports.exceptions import RegistryExtractError
from tally06.imports.registry_words import (
    COLUMNS,
    LEVELS,
    NOT_REACHED,
    STAGE_DATES,
    STATUS_DATE,
    STATUSES,
    header_columns,
    plain,
)
from tally06.imports.row_errors import RowError

# As contract.events.Citizen checks them (a registry row and a claim are the same citizen).
_CCCD = re.compile(r"[0-9]{12}")
_PHONE = re.compile(r"(?:\+84|0)[0-9]{9}")
_PHONE_SEPARATORS = re.compile(r"[\s.-]")
_NAME_MAX = 200
# Administrative codes are the state's, not our map's (docs/registry-extracts.md): any short code.
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_VN_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_DIGIT_RUN = re.compile(r"[0-9]{9}")
_CACHE_LIMIT = 10_000  # distinct values remembered per column (days, statuses): a bound, not a need
KEPT_ERRORS = 10_000  # bad rows kept for the report; beyond that only counted
STATUS_WORDS = "collected, approved, activated, rejected (or đã thu nhận, đã phê duyệt, đã kích hoạt, từ chối)"


class ExtractRecord(NamedTuple):
    """One citizen of an extract, as stored: in the column order of ``registry_citizens``."""

    citizen_key: str
    status: str
    level: int
    collected_on: dt.date | None
    approved_on: dt.date | None
    activated_on: dt.date | None
    rejected_on: dt.date | None
    commune: str
    village: str | None
    pii_key_id: str | None
    pii_sealed: bytes | None
    pii_digest: str | None  # keyed digest of name and phone: tells a change without opening the seal


RECORD_COLUMNS = ExtractRecord._fields


@dataclass
class ReadTally:
    """What reading found: rows with a citizen (good and bad), and the bad ones by row."""

    good: int = 0
    bad: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.good + self.bad

    def add(self, errors: list[RowError]) -> None:
        self.bad += 1
        if len(self.errors) < KEPT_ERRORS:
            self.errors.extend(errors)


def _shown(value: str) -> str:
    """A cell in an error message, unless it could be personal data (a shifted column puts a
    CCCD or phone where a status or a day should be)."""
    return repr(value) if len(value) <= 24 and not _DIGIT_RUN.search(value) else "the value"


def _day(text: str) -> dt.date | None:
    if m := _ISO_DAY.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _VN_DAY.fullmatch(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


_Stages = tuple[str, int, "dt.date | None", "dt.date | None", "dt.date | None", "dt.date | None"]
_Problems = list[tuple[str, str]]


class _RowChecker:
    """Checks rows one by one. The status, level and days of a row are checked once per distinct
    combination (a province's extract has millions of rows but few thousand such combinations),
    and the codes once per distinct code; it remembers whose rows it saw."""

    def __init__(self, columns: dict[str, int], protector: CitizenProtector, last_day: dt.date | None) -> None:
        # Absent columns read the empty cell appended to every row (index -1).
        self._cells = itemgetter(*(columns.get(c, -1) for c in COLUMNS))
        self._width = max(columns.values()) + 1
        self._protector = protector
        self._last_day = last_day
        self._stages: dict[tuple[str, ...], _Stages | _Problems] = {}
        self._codes: set[str] = set()
        self._seen: dict[str, int] = {}
        # The name-and-phone digest needs no HMAC: keyed BLAKE2 is one pass, a third of the time,
        # under a key derived from the identity key (so it is stable across runs, and secret).
        self._pii_key = bytes.fromhex(protector.content_digest(b"registry-pii-digest-key"))
        self._carries_pii = "full_name" in columns and "phone" in columns

    def check(self, line: int, cells: list[str]) -> ExtractRecord | list[RowError]:
        if len(cells) < self._width:
            cells = cells + [""] * (self._width - len(cells))
        cells.append("")
        cccd, name, phone, status, level, collected, approved, activated, rejected, commune, village = \
            self._cells(cells)
        stage_key = (status, level, collected, approved, activated, rejected)
        stages = self._stages.get(stage_key)
        if stages is None:
            stages = _stages(stage_key, self._last_day)
            if len(self._stages) < _CACHE_LIMIT:
                self._stages[stage_key] = stages
        errors = [RowError(line, f, m) for f, m in stages] if type(stages) is list else []
        cccd = cccd.strip()
        if not _CCCD.fullmatch(cccd):
            reason = "is required" if not cccd else "must be exactly 12 digits"
            if cccd.isdigit() and 9 <= len(cccd) < 12:
                reason += " (a spreadsheet may have dropped its leading zeros: format the column as text)"
            errors.append(RowError(line, "cccd", reason))
        name = name.strip() or None
        if name is not None and len(name) > _NAME_MAX:
            errors.append(RowError(line, "full_name", f"is longer than {_NAME_MAX} characters"))
        phone = phone.strip() or None
        if phone is not None and not _PHONE.fullmatch(phone):
            phone = _PHONE_SEPARATORS.sub("", phone)
            if not _PHONE.fullmatch(phone):
                errors.append(RowError(line, "phone", "must be a Vietnamese mobile number (0 or +84 and 9 digits)"))
        if phone is not None and phone.startswith("+84"):
            phone = "0" + phone[3:]
        commune = commune.strip()
        if commune not in self._codes and not self._code(commune):
            errors.append(RowError(line, "commune", "is required" if not commune else _NOT_A_CODE))
        village = village.strip() or None
        if village is not None and village not in self._codes and not self._code(village):
            errors.append(RowError(line, "village", _NOT_A_CODE))
        if errors:
            return errors
        key = self._protector.citizen_key(cccd)
        first = self._seen.setdefault(key, line)
        if first != line:
            return [RowError(line, "cccd", f"the same citizen is already on row {first}")]
        sealed_id = sealed = digest = None
        if self._carries_pii and (name is not None or phone is not None):
            seal = self._protector.seal({"full_name": name, "phone": phone}, associated=key)
            sealed_id, sealed = seal.key_id, seal.blob
            digest = blake2b(f"{key}\x00{name or ''}\x00{phone or ''}".encode(), key=self._pii_key,
                             digest_size=16).hexdigest()
        return ExtractRecord(key, *stages, commune, village, sealed_id, sealed, digest)  # type: ignore[call-arg]

    def _code(self, code: str) -> bool:
        if not _CODE.fullmatch(code):
            return False
        if len(self._codes) < _CACHE_LIMIT:
            self._codes.add(code)
        return True


_NOT_A_CODE = "is not a code: 1-40 letters, digits, '.', '_' or '-'"


def _stages(texts: tuple[str, ...], last_day: dt.date | None) -> _Stages | _Problems:
    """Status, level and the day of each stage, or what is wrong with them."""
    status_text, level_text, *day_texts = texts
    problems: _Problems = []
    status = STATUSES.get(status_text) or STATUSES.get(plain(status_text))
    if status is None:
        problems.append(("status", f"{_shown(status_text.strip())} is not one of {STATUS_WORDS}"
                         if status_text.strip() else "is required"))
    level = LEVELS.get(level_text) or LEVELS.get(plain(level_text))
    if level is None:
        problems.append(("level", "must be 1 or 2" if level_text.strip() else "is required"))
    days: dict[str, dt.date | None] = {}
    for column, text in zip(STAGE_DATES, day_texts, strict=True):
        day = _day(text.strip()) if text.strip() else None
        if text.strip() and day is None:
            problems.append((column, f"{_shown(text.strip())} is not a day: YYYY-MM-DD or dd/mm/yyyy"))
        elif day is not None and last_day is not None and day > last_day:
            problems.append((column, f"{day} is after the extract's day {last_day}"))
        days[column] = day
    if status is not None:
        problems += _order(status, days)
    if problems or status is None or level is None:
        return problems
    return (status.value, level, *days.values())  # type: ignore[return-value]


def _order(status: RegistryStatus, days: dict[str, dt.date | None]) -> _Problems:
    problems = []
    own = STATUS_DATE[status]
    if days[own] is None:
        problems.append((own, f"is required for status {status.value}"))
    problems += [(column, f"is given but the status is {status.value}")
                 for column in NOT_REACHED[status] if days[column]]
    # Stages follow one another; a rejection follows the collection, whatever else it ends.
    chain = [(c, days[c]) for c in ("collected_on", "approved_on", "activated_on") if days[c]]
    pairs = list(zip(chain, chain[1:]))
    if days["collected_on"] and days["rejected_on"]:
        pairs.append((("collected_on", days["collected_on"]), ("rejected_on", days["rejected_on"])))
    for (before, early), (after, late) in pairs:
        if late < early:  # type: ignore[operator]
            problems.append((after, f"{late} is before {before} {early}"))
    return problems


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
        checker = _RowChecker(self.columns, self.protector, last_day)
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
