"""Appendix I as an Excel workbook in the layout of plan 70, or as CSV.

The workbook mirrors the printed table (and what ``targets_import.parse_targets_xlsx`` reads):
title rows (the unit and cutoff, then the level of the rows and the map they are units of), a
two-row header "STT | Đơn vị | Chỉ tiêu giao kích hoạt (Tổng số, Mức 1, Mức 2) |
Số lượng tài khoản đã kích hoạt (Mức 1, Mức 2, Tổng số) | Tỷ lệ hoàn thành (%) | Tổng số còn
lại phải hướng dẫn kích hoạt và thu nhận", one row per unit, then "Tổng cộng". Counts are
numbers shown with thousand separators (``#,##0``), the rate a number with 2 decimals
(``0.00``), exactly as computed (half-up). With a previous cutoff a second sheet "Điều chỉnh"
lists the late arrivals. A last column "Kiểm tra xác suất" says "Không đạt (#12)" for a unit
whose figures carry the failed-spot-check mark at the cutoff (``store.spot_check_marks``).

The basis is said where a reader looks: the title row names it ("kích hoạt theo báo cáo của các
tổ công tác" or "kích hoạt đã được hệ thống định danh quốc gia xác nhận"), and on the confirmed
basis the activation columns are headed "… đã được xác nhận"; the CSV has a ``basis`` column.

CSV is the machine-readable twin: the column names of ``data/thanh_hoa_plan70_appendix1.csv``
plus ``unit_code``, then the row's unit kind and the map (id, first day in force); corrections
go to ``<name>.corrections.csv`` next to it. ``spot_check_id`` and ``spot_check`` are the mark.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from tally06.contract.events import LOCAL_TZ
from tally06.reports.appendix1 import Appendix1Report, Appendix1Row
from tally06.reports.scope import level_vi
from tally06.store.spot_check_marks import COLUMN_VI, mark_vi

TITLE = "PHỤ LỤC I"
SUBTITLE = "CHỈ TIÊU HƯỚNG DẪN KÍCH HOẠT VÀ THU NHẬN HỒ SƠ ĐỊNH DANH ĐIỆN TỬ"
HEAD_TOP = ("STT", "Đơn vị", "Chỉ tiêu giao kích hoạt", None, None,
            "Số lượng tài khoản đã kích hoạt", None, None, "Tỷ lệ hoàn thành (%)",
            "Tổng số còn lại phải hướng dẫn kích hoạt và thu nhận")
HEAD_SUB = (None, None, "Tổng số", "Mức 1", "Mức 2", "Mức 1", "Mức 2", "Tổng số", None, None)
MARK_COLUMN = 11  # after the plan's ten columns, so the table still reads as the plan prints it
HEADER_ROW = 5  # first header row; data start at HEADER_ROW + 2
INT_FORMAT = "#,##0"
PCT_FORMAT = "0.00"
CSV_COLUMNS = ("no", "unit_code", "unit_name", "target_total", "target_level1", "target_level2",
               "activated_level1", "activated_level2", "activated_total", "completion_pct",
               "remaining", "unit_kind", "map_id", "map_effective_from", "basis", "spot_check_id", "spot_check")
# How the title row names the basis, and the activation columns' heading on each basis.
BASIS_VI = {"claimed": "kích hoạt theo báo cáo của các tổ công tác",
            "confirmed": "kích hoạt đã được hệ thống định danh quốc gia xác nhận"}
ACTIVATED_HEAD = {"claimed": "Số lượng tài khoản đã kích hoạt",
                  "confirmed": "Số lượng tài khoản kích hoạt đã được xác nhận"}
CORRECTION_COLUMNS = ("unit_code", "unit_name", "activated_level1", "activated_level2",
                      "activated_total")
TOTALS_LABEL = "Tổng cộng"

Progress = Callable[[int, int], None]


def local_label(moment) -> str:  # noqa: ANN001 - datetime
    """The moment in Vietnam time, as the documents write it: "17:00 ngày 30/04/2023"."""
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M ngày %d/%m/%Y")


def map_line(report: Appendix1Report) -> str:
    """The level of the rows and the map they are units of, as row 4 prints it:
    "Cấp xã — bản đồ hành chính số 2, áp dụng từ ngày 01/07/2025"."""
    parts = [level_vi(report.levels)] if report.levels else []
    if report.map is not None:
        parts.append(report.map.label_vi())
    text = " — ".join(parts)
    return text[:1].upper() + text[1:]


def title_line(report: Appendix1Report) -> str:
    """Row 3: the unit, the cutoff and the basis."""
    return f"{report.unit_name} — số liệu tính đến {local_label(report.cutoff)} — {BASIS_VI[report.basis]}"


def row_values(row: Appendix1Row) -> list:
    """The ten cells of a table row, as written to the workbook."""
    return [row.no, row.unit_name if row.no is not None else TOTALS_LABEL,
            row.target_total, row.target_level1, row.target_level2,
            row.activated_level1, row.activated_level2, row.activated_total,
            row.completion_pct, row.remaining]


def write_appendix1_xlsx(report: Appendix1Report, path: Path, progress: Progress | None = None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    sheet = book.active
    sheet.title = "Phụ lục I"
    bold, center = Font(bold=True), Alignment(horizontal="center", vertical="center", wrap_text=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for r, text in ((1, TITLE), (2, SUBTITLE),
                    (3, title_line(report)),
                    (4, map_line(report))):
        sheet.cell(r, 1, text).font = bold
        sheet.cell(r, 1).alignment = center
        sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=10)
    h = HEADER_ROW
    head_top = tuple(ACTIVATED_HEAD[report.basis] if c == 6 else top for c, top in enumerate(HEAD_TOP, start=1))
    for c, (top, sub) in enumerate(zip(head_top, HEAD_SUB, strict=True), start=1):
        for r, heading in ((h, top), (h + 1, sub)):
            cell = sheet.cell(r, c, heading)
            cell.font, cell.alignment, cell.border = bold, center, box
    mark_head = sheet.cell(h, MARK_COLUMN, COLUMN_VI)
    mark_head.font, mark_head.alignment, mark_head.border = bold, center, box
    sheet.cell(h + 1, MARK_COLUMN).border = box
    for c in (1, 2, 9, 10, MARK_COLUMN):
        sheet.merge_cells(start_row=h, start_column=c, end_row=h + 1, end_column=c)
    sheet.merge_cells(start_row=h, start_column=3, end_row=h, end_column=5)
    sheet.merge_cells(start_row=h, start_column=6, end_row=h, end_column=8)
    rows = [*report.rows, report.total]
    for i, row in enumerate(rows):
        r = h + 2 + i
        for c, value in enumerate(row_values(row), start=1):
            cell = sheet.cell(r, c, value)
            cell.border = box
            if c >= 3:
                cell.number_format = PCT_FORMAT if c == 9 else INT_FORMAT
            if row.no is None:
                cell.font = bold
        sheet.cell(r, MARK_COLUMN, mark_vi(row.spot_check) if row.spot_check else None).border = box
        if progress:
            progress(i + 1, len(rows))
    for col, width in zip("ABCDEFGHIJK", (6, 28, 12, 12, 12, 12, 12, 12, 12, 22, 18), strict=True):
        sheet.column_dimensions[col].width = width
    if report.since is not None:
        fix = book.create_sheet("Điều chỉnh")
        fix.cell(1, 1, "Số liệu bổ sung đến muộn").font = bold
        fix.cell(2, 1, f"Kích hoạt xảy ra đến {local_label(report.since)}, nhận được sau thời điểm đó "
                       f"và đến {local_label(report.cutoff)}")
        fix.cell(3, 1, map_line(report))
        for c, text in enumerate(("STT", "Đơn vị", "Mức 1", "Mức 2", "Tổng số"), start=1):
            fix.cell(4, c, text).font = bold
        for i, corr in enumerate(report.corrections, start=1):
            for c, value in enumerate((i, corr.unit_name, corr.activated_level1,
                                       corr.activated_level2, corr.activated_total), start=1):
                cell = fix.cell(4 + i, c, value)
                if c >= 3:
                    cell.number_format = INT_FORMAT
        end = 5 + len(report.corrections)
        fix.cell(end, 2, TOTALS_LABEL).font = bold
        for c, attr in ((3, "activated_level1"), (4, "activated_level2"), (5, "activated_total")):
            fix.cell(end, c, sum(getattr(x, attr) for x in report.corrections)).number_format = INT_FORMAT
    book.save(path)


def corrections_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.corrections.csv")


def write_appendix1_csv(report: Appendix1Report, path: Path, progress: Progress | None = None) -> list[Path]:
    """Write the table (and, with a previous cutoff, the corrections); returns the files."""
    rows = [*report.rows, report.total]
    in_map = [report.map.id, report.map.effective_from.isoformat()] if report.map else ["", ""]
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for i, row in enumerate(rows):
            totals = row.no is None
            writer.writerow([
                "" if totals else row.no, "" if totals else row.unit_code,
                TOTALS_LABEL if totals else row.unit_name, row.target_total, row.target_level1,
                row.target_level2, row.activated_level1, row.activated_level2,
                row.activated_total, f"{row.completion_pct:.2f}", row.remaining,
                row.unit_kind.value if row.unit_kind else "", *in_map, report.basis,
                *([row.spot_check.id, mark_vi(row.spot_check)] if row.spot_check else ["", ""])])
            if progress:
                progress(i + 1, len(rows))
    written = [path]
    if report.since is not None:
        extra = corrections_path(path)
        with extra.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(CORRECTION_COLUMNS)
            for corr in report.corrections:
                writer.writerow([corr.unit_code, corr.unit_name, corr.activated_level1,
                                 corr.activated_level2, corr.activated_total])
        written.append(extra)
    return written


def write_appendix1(report: Appendix1Report, path: Path, progress: Progress | None = None) -> list[Path]:
    """By the file's suffix: ``.xlsx`` or ``.csv``."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        write_appendix1_xlsx(report, path, progress)
        return [path]
    if suffix == ".csv":
        return write_appendix1_csv(report, path, progress)
    raise ValueError(f"unknown report format {path.suffix!r}: use .xlsx or .csv")
