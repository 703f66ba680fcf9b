"""Import campaign targets (chỉ tiêu) from the spreadsheets the province hands down.

Targets arrive as Excel sheets laid out like Appendix I of Thanh Hóa plan 70, or as CSV. People
type these by hand, so a bad row must not sink the whole file: every problem is collected as a
``RowError`` carrying the row number the user sees in Excel, and the good rows are kept. The
printed totals row is checked against the rows instead of being trusted, because the real
Appendix I prints level-1/level-2 totals that differ from its own rows by 2.

Pure parsing and validation: nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tally06.domain.org import OrgRegistry, UnitKind
from tally06.domain.targets import CampaignTarget
from tally06.imports.exceptions import TargetsImportError
from tally06.imports.row_errors import FirstRows, RowError

NUMBER_FIELDS = ("total", "level1", "level2")


_INT_TEXT = re.compile(r"-?(\d{1,3}(\.\d{3})+|\d{1,3}(,\d{3})+|\d+)")


@dataclass
class TotalsCheck:
    """The printed totals row against the sum of the rows above it.

    Sums cover every number that could be read, including rows rejected for another reason:
    the printed row is a claim about the sheet, not about what we accepted. A printed value
    that is blank or cannot be read is ``None`` and not compared.
    """

    printed_total: int | None
    printed_level1: int | None
    printed_level2: int | None
    sum_total: int
    sum_level1: int
    sum_level2: int
    agrees: bool
    disagreements: list[str]  # one per field that differs: "level1: printed …, rows sum to …"


@dataclass
class ImportReport:
    targets: list[CampaignTarget]
    errors: list[RowError]
    totals_row: TotalsCheck | None = None


def _fold(text: object) -> str:
    """Case- and diacritics-insensitive form of a heading: "Đơn vị" -> "don vi"."""
    decomposed = unicodedata.normalize("NFD", str(text or "").replace("đ", "d").replace("Đ", "d"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


def _exact(text: object) -> str:
    """Unit names match exactly, but NFC/NFD ("dựng sẵn"/"tổ hợp") and spacing do not count."""
    return " ".join(unicodedata.normalize("NFC", str(text or "")).split())


def _is_totals_label(text: object) -> bool:
    return _fold(text) in {"tong", "tong cong", "cong", "tong so"}


def _parse_int(value: Any) -> int:
    """An integer cell; text may use "." or "," as thousand separator ("316.749", "316,749").

    A real fraction is refused, not rounded: "316.749" typed into an English-locale Excel
    becomes the number 316.749, and guessing which was meant would corrupt a target.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = "".join(str(value if value is not None else "").split())
    if not text:
        raise ValueError("missing")
    if isinstance(value, bool | float) or not _INT_TEXT.fullmatch(text):
        raise ValueError(f"{str(value).strip()!r} is not a whole number")
    return int(re.sub("[.,]", "", text))


class _Collector:
    """Turns raw rows into targets and errors; shared by the CSV and the Excel readers."""

    def __init__(self, org: OrgRegistry) -> None:
        self.org = org
        self.by_name = {_exact(u.name): u.code for u in org.units(UnitKind.DISTRICT)}
        self.targets: list[CampaignTarget] = []
        self.errors: list[RowError] = []
        self.first = FirstRows()
        self.sums = dict.fromkeys(NUMBER_FIELDS, 0)

    def _numbers(self, row: int, raw: Sequence[Any]) -> dict[str, int] | None:
        numbers: dict[str, int] = {}
        for name, value in zip(NUMBER_FIELDS, raw, strict=True):
            try:
                numbers[name] = _parse_int(value)
            except ValueError as exc:
                self.errors.append(RowError(row, name, str(exc)))
                continue
            self.sums[name] += numbers[name]
            if numbers[name] < 0:
                self.errors.append(RowError(row, name, f"{numbers[name]} is negative"))
        return numbers if len(numbers) == len(NUMBER_FIELDS) else None

    def _resolve(self, row: int, code: str | None, by_stt: bool, name: object) -> str | None:
        """A unit from its code (or STT mapped to <province>-NN) and/or its exact district name."""
        named = self.by_name.get(_exact(name))
        unit = self.org.get(code or "")
        if unit and by_stt and unit.kind is not UnitKind.DISTRICT:
            unit = None
        if named and unit and named != unit.code:
            message = f"{unit.code} by number is {unit.name}, but {_exact(name)!r} is {named}"
        elif named or unit:
            return named or unit.code  # type: ignore[union-attr]
        else:
            message = f"unknown unit {_exact(name) or code or '(blank)'!r}"
        self.errors.append(RowError(row, "unit_code", message))
        return None

    def add(self, row: int, code: str | None, by_stt: bool, name: object,
            raw: Sequence[Any]) -> None:
        before = len(self.errors)
        unit_code = self._resolve(row, code, by_stt, name)
        numbers = self._numbers(row, raw)
        if unit_code and (repeated := self.first.repeated(unit_code, row, "unit_code", unit_code)):
            self.errors.append(repeated)
        if numbers and numbers["level1"] + numbers["level2"] != numbers["total"]:
            self.errors.append(RowError(row, "total", (
                f"level 1 ({numbers['level1']:,}) + level 2 ({numbers['level2']:,}) = "
                f"{numbers['level1'] + numbers['level2']:,}, not the total {numbers['total']:,}")))
        if len(self.errors) == before and unit_code and numbers:
            unit = self.org.get(unit_code)
            self.targets.append(CampaignTarget(unit_code, unit.name if unit else "", **numbers))

    def check_totals(self, row: int, raw: Sequence[Any]) -> TotalsCheck:
        printed: dict[str, int | None] = {}
        for name, value in zip(NUMBER_FIELDS, raw, strict=True):
            try:
                printed[name] = _parse_int(value)
            except ValueError as exc:
                printed[name] = None  # blank: nothing printed to check; unreadable: an error
                if str(value or "").strip():
                    self.errors.append(RowError(row, name, f"totals row: {exc}"))
        disagreements = [
            f"{name}: printed {printed[name]:,}, rows sum to {self.sums[name]:,}"
            for name in NUMBER_FIELDS
            if printed[name] is not None and printed[name] != self.sums[name]
        ]
        return TotalsCheck(
            printed["total"], printed["level1"], printed["level2"], self.sums["total"],
            self.sums["level1"], self.sums["level2"], not disagreements, disagreements)

    def report(self, totals: TotalsCheck | None = None) -> ImportReport:
        return ImportReport(self.targets, self.errors, totals)


def _stt_code(value: Any, org: OrgRegistry) -> str | None:
    """The district numbered ``value`` (STT) in the sheet's province: ``<province>-NN``."""
    province = next(iter(org.units(UnitKind.PROVINCE)), None)
    if province is None:
        return None
    try:
        return f"{province.code}-{_parse_int(value):02d}"
    except ValueError:
        return None


def parse_targets_csv(text: str, org: OrgRegistry) -> ImportReport:
    """Targets from CSV, in either of two layouts told apart by the header.

    * ``unit_code,unit_name,target_total,target_level1,target_level2`` — the unit by its code
      (any unit of ``org``); ``unit_name`` is informative only, the registry's name is kept.
    * the reference layout ``no,unit_name,unit_kind,target_total,target_level1,target_level2,…``
      (``data/thanh_hoa_plan70_appendix1.csv``) — ``no`` N is Appendix I row N, i.e. district
      ``<province>-NN`` of the org's province; the district may also be found by its exact name when ``no`` is blank.

    Extra columns are ignored. A row whose unit column says "Tổng cộng" is the totals row:
    it is checked against the rows above it and reading stops there.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [_fold(h) for h in next(reader, [])]
    key = "unit_code" if "unit_code" in header else "no"
    needed = [key, "target_total", "target_level1", "target_level2"]
    missing = [c for c in needed if c not in header]
    if missing:
        raise TargetsImportError(f"CSV header lacks {', '.join(missing)}; got {header}")
    at = {name: header.index(name) for name in needed}
    name_at = header.index("unit_name") if "unit_name" in header else None
    collector = _Collector(org)
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        code, raw = cells[at[key]].strip(), [cells[at[c]] for c in needed[1:]]
        name = cells[name_at] if name_at is not None else ""
        if _is_totals_label(code) or (not code and _is_totals_label(name)):
            return collector.report(collector.check_totals(reader.line_num, raw))
        if key == "no":
            collector.add(reader.line_num, _stt_code(code, org) if code else None, True, name, raw)
        else:
            collector.add(reader.line_num, code, False, name if not code else "", raw)
    return collector.report()


def _find_columns(rows: list[tuple[Any, ...]]) -> tuple[int, dict[str, int]] | None:
    """(first data row index, column of each field) of an Appendix-I-style header, if any.

    The target group's "Tổng số, Mức 1, Mức 2" are taken at or after the "Chỉ tiêu" heading,
    since the activated group repeats "Mức 1, Mức 2" and "Tổng số còn lại" also says "Tổng số".
    """
    for i, row in enumerate(rows[:30]):
        heads = [_fold(v) for v in row]
        if "don vi" not in heads:
            continue
        sub = [_fold(v) for v in rows[i + 1]] if i + 1 < len(rows) else []
        two_level = "tong so" in sub
        labels = sub if two_level else heads
        if "tong so" not in labels:
            continue
        start = next((c for c, h in enumerate(heads) if h.startswith("chi tieu")), 0)
        stt = next((heads.index(h) for h in ("stt", "tt") if h in heads), -1)
        cols = {"name": heads.index("don vi"), "stt": stt}
        for key, label in zip(NUMBER_FIELDS, ("tong so", "muc 1", "muc 2"), strict=True):
            cols[key] = next((c for c, h in enumerate(labels) if h == label and c >= start), -1)
        if min(cols[k] for k in NUMBER_FIELDS) >= 0:
            return i + (2 if two_level else 1), cols
    return None


def parse_targets_xlsx(source: str | Path | bytes, org: OrgRegistry) -> ImportReport:
    """Targets from an Excel workbook laid out like Appendix I (title rows, two-level header).

    The first sheet with a recognisable header is read. A district is found by its STT (row N
    of Appendix I is ``<province>-NN`` in the org's province) or by its exact name in ``org``;
    a conflict between the two is an error. Reading stops at the "Tổng cộng"/"Tổng" row, which is checked, not trusted.
    Formulas are read as the values Excel last computed and saved (``data_only``).
    """
    import openpyxl  # only needed here; keeps the CSV path free of the dependency

    data = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        book = openpyxl.load_workbook(data, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not xlsx
        raise TargetsImportError(f"cannot read the workbook: {exc}") from exc
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(min_row=1, min_col=1, values_only=True))
        found = _find_columns(rows)
        if found is not None:
            return _read_rows(rows, *found, org)
    raise TargetsImportError('no sheet has a header with "Đơn vị" and "Tổng số"')


def _read_rows(rows: list[tuple[Any, ...]], first: int, cols: dict[str, int],
               org: OrgRegistry) -> ImportReport:
    collector = _Collector(org)
    for index in range(first, len(rows)):
        cells = list(rows[index]) + [None] * (max(cols.values()) + 1)
        name, stt = cells[cols["name"]], cells[cols["stt"]] if cols["stt"] >= 0 else None
        raw = [cells[cols[k]] for k in NUMBER_FIELDS]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
            continue
        if _is_totals_label(name) or _is_totals_label(stt):
            return collector.report(collector.check_totals(index + 1, raw))
        if index == first and re.fullmatch(r"\(?\w\)?", _fold(name)):
            continue  # a row of column numbers, "(1) (2) (3)…" or "A B 1 2…", under the header
        code = _stt_code(stt, org) if stt not in (None, "") else None
        known = _exact(name) in collector.by_name
        if code is None and not known and all(v in (None, "") for v in raw):
            continue  # a group heading or a note under the table, not a unit
        collector.add(index + 1, code, True, name, raw)
    return collector.report()
