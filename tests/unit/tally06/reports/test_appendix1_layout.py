"""Appendix I arithmetic and layout, without a database."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from tally06.domain.org import UnitKind
from tally06.domain.org_maps import BEGINNING
from tally06.imports.reference import PROVINCE_CODE, PROVINCE_NAME, appendix1, appendix1_targets, demo_org
from tally06.imports.targets_spreadsheet import parse_targets_csv, parse_targets_xlsx
from tally06.reports import assemble_appendix1, write_appendix1
from tally06.reports.appendix1 import Correction
from tally06.reports.appendix1_writers import CSV_COLUMNS, HEAD_SUB, HEAD_TOP, HEADER_ROW, corrections_path
from tally06.reports.scope import MapRef

CUTOFF = dt.datetime(2023, 3, 24, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def reference_report():
    rows = appendix1()
    activated = {}
    for d in rows:
        activated[(d.code, "activated_l1")] = d.activated_level1
        activated[(d.code, "activated_l2")] = d.activated_level2
    report = assemble_appendix1(PROVINCE_CODE, PROVINCE_NAME, [(d.code, d.name, UnitKind.DISTRICT) for d in rows],
                                {t.unit_code: t for t in appendix1_targets()}, activated, CUTOFF)
    report.map, report.unit_kind = MapRef(1, BEGINNING), UnitKind.PROVINCE
    return report


def test_reference_rows_reproduce_appendix1():
    report = reference_report()
    for row, ref in zip(report.rows, appendix1(), strict=True):
        assert (row.no, row.unit_name) == (ref.no, ref.name)
        assert (row.target_total, row.target_level1, row.target_level2) == (
            ref.target_total, ref.target_level1, ref.target_level2)
        assert (row.activated_level1, row.activated_level2, row.activated_total) == (
            ref.activated_level1, ref.activated_level2, ref.activated_total)
        assert row.completion_pct == Decimal(ref.completion_pct)
        assert row.remaining == ref.remaining


def test_totals_row_is_the_sum_of_rows_not_the_misprint():
    t = reference_report().total
    assert (t.target_total, t.target_level1, t.target_level2) == (3_243_976, 2_842_865, 401_111)
    assert t.activated_total == 137_881
    assert t.completion_pct == Decimal("4.25")
    assert t.remaining == 3_106_095


def test_units_without_target_and_overachievers():
    from tally06.domain.targets import CampaignTarget

    report = assemble_appendix1(
        "TH-01", "X", [("A", "a"), ("B", "b")], {"A": CampaignTarget("A", "a", 10, 6, 4)},
        {("A", "activated_l1"): 9, ("A", "activated_l2"): 3, ("B", "activated_l2"): 2}, CUTOFF)
    a, b = report.rows
    assert (a.activated_total, a.completion_pct, a.remaining) == (12, Decimal("120.00"), 0)
    assert (b.target_total, b.activated_total, b.completion_pct, b.remaining) == (0, 2, Decimal("100.00"), 0)
    assert report.total.remaining == 0 and report.total.activated_total == 14
    assert report.total.completion_pct == Decimal("140.00")


def test_xlsx_layout_every_cell_and_reads_back_as_targets(tmp_path):
    report = reference_report()
    path = tmp_path / "a1.xlsx"
    write_appendix1(report, path)
    sheet = openpyxl.load_workbook(path).active
    assert [sheet.cell(HEADER_ROW, c).value for c in range(1, 11)] == list(HEAD_TOP)
    assert [sheet.cell(HEADER_ROW + 1, c).value for c in range(1, 11)] == list(HEAD_SUB)
    assert "17:00" not in sheet.cell(3, 1).value and "00:00 ngày 24/03/2023" in sheet.cell(3, 1).value
    assert sheet.cell(4, 1).value == "Cấp huyện — bản đồ hành chính số 1, áp dụng từ đầu"
    first = HEADER_ROW + 2
    for i, ref in enumerate(appendix1()):
        got = [sheet.cell(first + i, c).value for c in range(1, 11)]
        assert got == [ref.no, ref.name, ref.target_total, ref.target_level1, ref.target_level2,
                       ref.activated_level1, ref.activated_level2, ref.activated_total,
                       float(ref.completion_pct), ref.remaining]
        assert sheet.cell(first + i, 3).number_format == "#,##0"
        assert sheet.cell(first + i, 9).number_format == "0.00"
    total = [sheet.cell(first + 27, c).value for c in range(1, 11)]
    l1 = sum(r.activated_level1 for r in appendix1())
    l2 = sum(r.activated_level2 for r in appendix1())
    assert l1 + l2 == 137_881
    assert total == [None, "Tổng cộng", 3_243_976, 2_842_865, 401_111, l1, l2, 137_881, 4.25, 3_106_095]
    assert sheet.max_row == first + 27
    # the importer of targets reads our own output back, totals row agreeing
    parsed = parse_targets_xlsx(path, demo_org())
    assert parsed.errors == [] and parsed.totals_row is not None and parsed.totals_row.agrees
    assert parsed.targets == appendix1_targets()


def test_csv_every_field_and_corrections_file(tmp_path):
    report = reference_report()
    report.since = CUTOFF - dt.timedelta(days=7)
    report.corrections = [Correction("TH-02", "Thị xã Bỉm Sơn", 3, 1)]
    path = tmp_path / "a1.csv"
    files = write_appendix1(report, path)
    assert files == [path, corrections_path(path)]
    with path.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(CSV_COLUMNS)
    for ref, got in zip(appendix1(), rows[1:28], strict=True):
        assert got == [str(ref.no), ref.code, ref.name, str(ref.target_total), str(ref.target_level1),
                       str(ref.target_level2), str(ref.activated_level1), str(ref.activated_level2),
                       str(ref.activated_total), ref.completion_pct, str(ref.remaining),
                       "district", "1", "2000-01-01", "claimed", "", ""]
    assert rows[28][:4] == ["", "", "Tổng cộng", "3243976"]
    assert rows[28][-8:] == ["4.25", "3106095", "", "1", "2000-01-01", "claimed", "", ""]
    with corrections_path(path).open(encoding="utf-8-sig") as f:
        assert list(csv.reader(f))[1] == ["TH-02", "Thị xã Bỉm Sơn", "3", "1", "4"]
    parsed = parse_targets_csv(path.read_text(encoding="utf-8-sig"), demo_org())
    assert parsed.errors == [] and parsed.totals_row.agrees and len(parsed.targets) == 27


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError):
        write_appendix1(reference_report(), tmp_path / "a1.pdf")
