"""The "Kiểm tra xác suất" column of Appendix I: "Không đạt (#id)" on a marked row only."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import replace

import openpyxl

from tally06.domain.spot_checks import STATUS_TEXTS, CheckStatus
from tally06.domain.targets import CampaignTarget
from tally06.reports.appendix1 import assemble_appendix1
from tally06.reports.appendix1_writers import HEADER_ROW, MARK_COLUMN, write_appendix1
from tally06.store.spot_check_marks import Mark, mark_vi

CUTOFF = dt.datetime(2024, 11, 30, 10, 0, tzinfo=dt.UTC)
MARK = Mark(12, CheckStatus.FAILED, CUTOFF - dt.timedelta(days=1))


def report():
    found = assemble_appendix1("TH-03", "Huyện 3", [("A", "Xã A"), ("B", "Xã B")],
                               {"A": CampaignTarget("A", "Xã A", 10, 6, 4)}, {("A", "activated_l1"): 3}, CUTOFF)
    found.rows = [replace(found.rows[0], spot_check=MARK), found.rows[1]]
    return found


def test_the_words_are_the_failed_status_without_the_column_name():
    assert STATUS_TEXTS[CheckStatus.FAILED][0] == "Không đạt kiểm tra xác suất"
    assert mark_vi(MARK) == "Không đạt (#12)"


def test_xlsx_and_csv_show_the_mark_on_the_marked_row_only(tmp_path):
    write_appendix1(report(), tmp_path / "a.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "a.xlsx").active
    assert sheet.cell(HEADER_ROW, MARK_COLUMN).value == "Kiểm tra xác suất"
    first = HEADER_ROW + 2
    assert [sheet.cell(first + i, MARK_COLUMN).value for i in range(3)] == ["Không đạt (#12)", None, None]
    write_appendix1(report(), tmp_path / "a.csv")
    with (tmp_path / "a.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert [(r["spot_check_id"], r["spot_check"]) for r in rows] == [("12", "Không đạt (#12)"), ("", ""), ("", "")]
