"""Masking, roles and the ten-citizen rule of Appendix II and the officer report."""

from __future__ import annotations

import datetime as dt

import openpyxl

from tally06.reports.appendix2 import (
    MIN_CITIZENS_PER_OFFICIAL,
    Appendix2Report,
    Appendix2Row,
    OfficerRow,
    mask_name,
    may_see_clear,
)
from tally06.reports.appendix2_writers import A2_HEAD, write_appendix2


def test_mask_name_keeps_the_given_name_only():
    assert mask_name("Lê Thị Hoa") == "L. T. Hoa"
    assert mask_name("Phạm Thị Thu Hà") == "P. T. T. Hà"
    assert mask_name("Hoa") == "H."
    assert mask_name("") == ""


def test_only_police_may_see_clear_data():
    assert may_see_clear("police")
    assert not may_see_clear("staff") and not may_see_clear("Police ")


def test_ten_citizen_rule_boundary():
    assert MIN_CITIZENS_PER_OFFICIAL == 10
    assert OfficerRow("T", "O", 5, 5, 10).meets_minimum
    assert not OfficerRow("T", "O", 9, 0, 9).meets_minimum


def test_cccd_with_leading_zero_stays_text(tmp_path):
    when = dt.datetime(2023, 4, 30, 10, 0, tzinfo=dt.UTC)
    report = Appendix2Report("TH-03", "Thành phố Sầm Sơn", None, when, True,
                             [Appendix2Row(1, "Lê Thị Hoa", "001095001234", "0912345678", 2, "CA-1",
                                           "TH-03-C01-T1", when, 1)])
    path = tmp_path / "a2.xlsx"
    write_appendix2(report, path)
    sheet = openpyxl.load_workbook(path).active
    assert [sheet.cell(5, c).value for c in range(1, 10)] == list(A2_HEAD)
    assert [sheet.cell(6, c).value for c in range(1, 10)] == [
        1, "Lê Thị Hoa", "001095001234", "0912345678", 2, "CA-1", "TH-03-C01-T1", "30/04/2023 17:00", 1]


def test_long_lists_continue_on_further_sheets(tmp_path):
    when = dt.datetime(2023, 4, 30, 10, 0, tzinfo=dt.UTC)
    rows = [Appendix2Row(i, "L. T. Hoa", "001******234", "091****678", 1, "CA-1", "TH-03-C01-T1", when, i)
            for i in range(1, 8)]
    path = tmp_path / "a2.xlsx"
    seen = []
    write_appendix2(Appendix2Report("TH-03", "X", None, when, False, rows), path,
                    progress=lambda done, total: seen.append((done, total)), rows_per_sheet=3)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Phụ lục II", "Phụ lục II (2)", "Phụ lục II (3)"]
    running = [s.cell(r, 9).value for s in book.worksheets for r in range(6, s.max_row + 1)]
    assert running == list(range(1, 8))
    assert all([s.cell(5, c).value for c in range(1, 10)] == list(A2_HEAD) for s in book.worksheets)
    assert seen[-1] == (7, 7)


def test_empty_list_still_has_its_header(tmp_path):
    when = dt.datetime(2023, 4, 30, 10, 0, tzinfo=dt.UTC)
    path = tmp_path / "a2.xlsx"
    write_appendix2(Appendix2Report("TH-03", "X", None, when, False, []), path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet.max_row == 5 and sheet.cell(1, 1).value == "PHỤ LỤC II"
