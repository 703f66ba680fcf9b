"""Appendix II and the per-officer report as .xlsx (Vietnamese headings) or .csv.

The CCCD is written as text (``@``): it has 12 digits with leading zeros that a number cell
would drop.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from tally06.domain.org import KIND_WORDS, UnitKind
from tally06.reports.appendix2 import (
    MIN_CITIZENS_PER_OFFICIAL,
    Appendix2Report,
    OfficerReport,
    local_time,
)
from tally06.reports.scope import MapRef

TEAM_WORD = KIND_WORDS[UnitKind.TEAM].vi  # "Tổ công tác"

A2_TITLE = "PHỤ LỤC II"
A2_SUBTITLE = "DANH SÁCH CÔNG DÂN ĐƯỢC HƯỚNG DẪN KÍCH HOẠT TÀI KHOẢN ĐỊNH DANH ĐIỆN TỬ"
A2_HEAD = ("STT", "Họ và tên công dân", "Số CCCD", "Số điện thoại", "Mức tài khoản",
           "Cán bộ hướng dẫn", TEAM_WORD, "Thời gian kích hoạt", "Lũy kế")
A2_CSV = ("no", "full_name", "id_number", "phone", "level", "officer", "team", "occurred_at",
          "running_total")
A2_HEADER_ROW = 5
ROWS_PER_SHEET = 1_048_576 - A2_HEADER_ROW  # Excel's row limit less the title and header
TEAM_HEAD = ("STT", TEAM_WORD, f"Tên {TEAM_WORD.lower()}", "Số cán bộ",
             f"Cán bộ chưa đạt {MIN_CITIZENS_PER_OFFICIAL} công dân", "Mức 1", "Mức 2", "Số công dân")
OFFICER_HEAD = ("STT", TEAM_WORD, "Cán bộ", "Mức 1", "Mức 2", "Số công dân được hướng dẫn",
                f"Đạt tối thiểu {MIN_CITIZENS_PER_OFFICIAL}")
OFFICER_CSV = ("team", "officer", "activated_level1", "activated_level2", "citizens", "meets_minimum")

Progress = Callable[[int, int], None]


def period_label(period_from, period_to) -> str:  # noqa: ANN001
    start = f"từ {local_time(period_from)} " if period_from else ""
    return f"{start}đến {local_time(period_to)}"


def map_note(unit_kind: UnitKind | None, in_map: MapRef | None) -> str:
    """The kind of the report's unit and the map the report is in, as row 4 prints it:
    "Xã/phường — bản đồ hành chính số 2, áp dụng từ ngày 01/07/2025"."""
    parts = [KIND_WORDS[unit_kind].vi] if unit_kind is not None else []
    if in_map is not None:
        parts.append(in_map.label_vi())
    text = " — ".join(parts)
    return text[:1].upper() + text[1:]


def a2_values(row) -> list:  # noqa: ANN001
    return [row.no, row.full_name, row.id_number, row.phone, row.level, row.officer, row.team,
            local_time(row.occurred_at), row.running_total]


def write_appendix2(report: Appendix2Report, path: Path, progress: Progress | None = None,
                    rows_per_sheet: int = ROWS_PER_SHEET) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(A2_CSV)
            for row in report.rows:
                writer.writerow([row.no, row.full_name, row.id_number, row.phone, row.level,
                                 row.officer, row.team, row.occurred_at.isoformat(), row.running_total])
        return
    if suffix != ".xlsx":
        raise ValueError(f"unknown report format {path.suffix!r}: use .xlsx or .csv")
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    # Write-only: a province's list can run to millions of rows. A sheet holds at most
    # 1,048,576 rows, so a longer list continues on "Phụ lục II (2)", ... with the same header.
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    masked = "" if report.clear else " (dữ liệu cá nhân đã che)"
    heading = f"{report.unit_name} — {period_label(report.period_from, report.period_to)}{masked}"
    total, written, part = len(report.rows), 0, 0
    while written < total or part == 0:
        part += 1
        sheet = book.create_sheet("Phụ lục II" if part == 1 else f"Phụ lục II ({part})")
        for col, width in zip("ABCDEFGHI", (6, 26, 15, 14, 8, 16, 16, 18, 10), strict=True):
            sheet.column_dimensions[col].width = width
        for text in (A2_TITLE, A2_SUBTITLE, heading):
            cell = WriteOnlyCell(sheet, text)
            cell.font = bold
            sheet.append([cell])
        sheet.append([map_note(report.unit_kind, report.map)])
        header = []
        for text in A2_HEAD:
            cell = WriteOnlyCell(sheet, text)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in report.rows[written:written + rows_per_sheet]:
            cells = []
            for c, value in enumerate(a2_values(row), start=1):
                cell = WriteOnlyCell(sheet, value)
                if c in (3, 4):
                    cell.number_format = "@"
                elif c == 9:
                    cell.number_format = "#,##0"
                cells.append(cell)
            sheet.append(cells)
            written += 1
            if progress and (written % 500 == 0 or written == total):
                progress(written, total)
    book.save(path)


def officer_title(report: OfficerReport) -> str:
    return (f"Kết quả theo {TEAM_WORD.lower()} và cán bộ — {report.unit_name} ({report.unit_code}) — "
            f"{period_label(report.period_from, report.period_to)}")


def write_officer_report(report: OfficerReport, path: Path) -> list[Path]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(OFFICER_CSV)
            for o in report.officers:
                writer.writerow([o.team, o.officer, o.activated_level1, o.activated_level2,
                                 o.citizens, "yes" if o.meets_minimum else "no"])
        return [path]
    if suffix != ".xlsx":
        raise ValueError(f"unknown report format {path.suffix!r}: use .xlsx or .csv")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    bold = Font(bold=True)
    sheet = book.active
    sheet.title = "Theo tổ"
    title, note = officer_title(report), map_note(None, report.map)
    sheet.cell(1, 1, title).font = bold
    sheet.cell(2, 1, note)
    for c, text in enumerate(TEAM_HEAD, start=1):
        sheet.cell(3, c, text).font = bold
    for i, t in enumerate(report.teams, start=1):
        for c, value in enumerate((i, t.team, t.team_name, t.officers, t.officers_below_minimum,
                                   t.activated_level1, t.activated_level2, t.citizens), start=1):
            sheet.cell(3 + i, c, value)
    sheet2 = book.create_sheet("Theo cán bộ")
    sheet2.cell(1, 1, title).font = bold
    sheet2.cell(2, 1, note)
    for c, text in enumerate(OFFICER_HEAD, start=1):
        sheet2.cell(3, c, text).font = bold
    for i, o in enumerate(report.officers, start=1):
        for c, value in enumerate((i, o.team, o.officer, o.activated_level1, o.activated_level2,
                                   o.citizens, "Đạt" if o.meets_minimum else "Chưa đạt"), start=1):
            sheet2.cell(3 + i, c, value)
    book.save(path)
    return [path]
