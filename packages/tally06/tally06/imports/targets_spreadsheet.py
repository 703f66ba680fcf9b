"""Import campaign targets (chỉ tiêu) from the spreadsheets the province hands down.

Targets arrive as Excel sheets laid out like Appendix I of Thanh Hóa plan 70, or as CSV. A sheet
lists the units under one unit, the sheet's unit (by default the map's only province): the
districts of a 2023 province, the communes of a two-tier one. A row names its unit by its STT
(row N is the N-th unit under the sheet's unit in code order, the order in which tally06's own
Appendix I lists them; in the 2023 map that is district ``<province>-NN``) and/or by its exact
name among the units under the sheet's unit; the two must agree. People
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

from tally06.domain.org import OrgRegistry, Unit, UnitKind
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


def sheet_unit(org: OrgRegistry, code: str | None = None) -> Unit | None:
    """The unit whose children a sheet lists: ``code``, else the map's only province, else its
    only root; ``None`` when the map has several (the caller must name one)."""
    if code is not None:
        unit = org.get(code)
        if unit is None or unit.kind is UnitKind.TEAM:
            raise TargetsImportError(f"{code!r} is not a unit with units under it in the map")
        return unit
    provinces = org.units(UnitKind.PROVINCE)
    if len(provinces) == 1:
        return provinces[0]
    roots = [u for u in org.roots() if u.kind is not UnitKind.TEAM]
    return roots[0] if not provinces and len(roots) == 1 else None


class _Collector:
    """Turns raw rows into targets and errors; shared by the CSV and the Excel readers."""

    def __init__(self, org: OrgRegistry, parent: Unit | None, later: Sequence[OrgRegistry] = ()) -> None:
        self.org = org
        self.parent = parent
        self.later = later
        # Row N is the N-th unit under the sheet's unit, in code order. Names are looked up among
        # the same units; a name two of them share is no help, and the row's number must tell.
        under = sorted(org.children(parent.code), key=lambda u: u.code) if parent else []
        self.numbered = [u.code for u in under]
        self.shared_names: dict[str, list[str]] = {}
        for child in under:
            self.shared_names.setdefault(_exact(child.name), []).append(child.code)
        self.targets: list[CampaignTarget] = []
        self.errors: list[RowError] = []
        self.first = FirstRows()
        self.sums = dict.fromkeys(NUMBER_FIELDS, 0)

    def stt_code(self, value: Any) -> str | None:
        """The unit numbered ``value`` (STT) under the sheet's unit, if there is one."""
        try:
            number = _parse_int(value)
        except ValueError:
            return None
        return self.numbered[number - 1] if 1 <= number <= len(self.numbered) else None

    def _unit(self, code: str) -> Unit | None:
        """A unit of the sheet's map, else of a map that takes effect later (targets stay in force)."""
        return next((u for m in (self.org, *self.later) if (u := m.get(code)) is not None), None)

    def known_name(self, name: object) -> bool:
        return _exact(name) in self.shared_names

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

    def _resolve(self, row: int, code: str | None, name: object, number: object = None) -> str | None:
        """A unit from its code (or STT) and/or its exact name among the units under the sheet's unit."""
        text = _exact(name)
        named = self.shared_names.get(text, [])
        unit = self._unit(code or "")
        if unit is not None and (not named or unit.code in named):
            return unit.code
        if unit is None and len(named) == 1:
            return named[0]
        if unit is not None:
            message = f"{unit.code} by number is {unit.name}, but {text!r} is {', '.join(named)}"
        elif named:
            message = f"{text!r} is the name of {', '.join(named)}: give the row's number (STT)"
        elif number not in (None, "") and not text and self.parent is not None:
            message = f"no unit numbered {number} under {self.parent.code} (it has {len(self.numbered)})"
        else:
            message = f"unknown unit {text or code or '(blank)'!r}"
        self.errors.append(RowError(row, "unit_code", message))
        return None

    def add(self, row: int, code: str | None, name: object, raw: Sequence[Any], number: object = None) -> None:
        before = len(self.errors)
        unit_code = self._resolve(row, code, name, number)
        numbers = self._numbers(row, raw)
        if unit_code and (repeated := self.first.repeated(unit_code, row, "unit_code", unit_code)):
            self.errors.append(repeated)
        if numbers and numbers["level1"] + numbers["level2"] != numbers["total"]:
            self.errors.append(RowError(row, "total", (
                f"level 1 ({numbers['level1']:,}) + level 2 ({numbers['level2']:,}) = "
                f"{numbers['level1'] + numbers['level2']:,}, not the total {numbers['total']:,}")))
        if len(self.errors) == before and unit_code and numbers:
            unit = self._unit(unit_code)
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


def _parent_for_numbers(org: OrgRegistry, unit: str | None) -> Unit:
    parent = sheet_unit(org, unit)
    if parent is None:
        raise TargetsImportError("the map has several provinces: say which unit's sheet this is (--unit)")
    return parent


def parse_targets_csv(text: str, org: OrgRegistry, unit: str | None = None,
                      later: Sequence[OrgRegistry] = ()) -> ImportReport:
    """Targets from CSV, in either of two layouts told apart by the header. ``org`` is the map in
    force when the targets take effect; a code may also name a unit of a ``later`` map.

    * ``unit_code,unit_name,target_total,target_level1,target_level2`` — the unit by its code
      (any unit of ``org``, of any level); ``unit_name`` is informative only, the registry's name is kept.
    * the reference layout ``no,unit_name,unit_kind,target_total,target_level1,target_level2,…``
      (``data/thanh_hoa_plan70_appendix1.csv``) — ``no`` N is Appendix I row N, the N-th unit under
      the sheet's unit ``unit`` (default the map's province) in code order; the unit may also be
      found by its exact name when ``no`` is blank.

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
    collector = _Collector(org, _parent_for_numbers(org, unit) if key == "no" else sheet_unit(org, unit), later)
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        code, raw = cells[at[key]].strip(), [cells[at[c]] for c in needed[1:]]
        name = cells[name_at] if name_at is not None else ""
        if _is_totals_label(code) or (not code and _is_totals_label(name)):
            return collector.report(collector.check_totals(reader.line_num, raw))
        if key == "no":
            collector.add(reader.line_num, collector.stt_code(code) if code else None, name, raw, code)
        else:
            collector.add(reader.line_num, code, name if not code else "", raw)
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


def parse_targets_xlsx(source: str | Path | bytes, org: OrgRegistry, unit: str | None = None) -> ImportReport:
    """Targets from an Excel workbook laid out like Appendix I (title rows, two-level header).

    The first sheet with a recognisable header is read. Its rows are units under ``unit``
    (default the map's province), each found by its STT (row N is the N-th of them in code
    order: district ``<province>-NN`` in the 2023 map, the communes of a two-tier province in
    turn) or by its exact name among them; a conflict between the two is an error. Reading
    stops at the "Tổng cộng"/"Tổng" row, which is checked, not trusted.
    Formulas are read as the values Excel last computed and saved (``data_only``).
    """
    import openpyxl  # only needed here; keeps the CSV path free of the dependency

    parent = _parent_for_numbers(org, unit)

    data = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        book = openpyxl.load_workbook(data, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not xlsx
        raise TargetsImportError(f"cannot read the workbook: {exc}") from exc
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(min_row=1, min_col=1, values_only=True))
        found = _find_columns(rows)
        if found is not None:
            return _read_rows(rows, *found, _Collector(org, parent))
    raise TargetsImportError('no sheet has a header with "Đơn vị" and "Tổng số"')


def _read_rows(rows: list[tuple[Any, ...]], first: int, cols: dict[str, int], collector: _Collector) -> ImportReport:
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
        code = collector.stt_code(stt) if stt not in (None, "") else None
        if code is None and not collector.known_name(name) and all(v in (None, "") for v in raw):
            continue  # a group heading or a note under the table, not a unit
        collector.add(index + 1, code, name, raw, stt)
    return collector.report()
