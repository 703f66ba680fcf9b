"""Targets import from CSV and from an Appendix-I-style workbook generated here with openpyxl."""

from __future__ import annotations

import io
from importlib import resources

import openpyxl
import pytest

from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.targets import CampaignTarget
from tally06.imports.exceptions import TargetsImportError
from tally06.imports.reference import appendix1, demo_org
from tally06.imports.row_errors import RowError
from tally06.imports.targets_spreadsheet import parse_targets_csv, parse_targets_xlsx

# What the published Appendix I prints in its "Tổng cộng" row (levels are off by 2 each way).
PRINTED_TOTALS = (3_243_976, 2_842_863, 401_113)

EXPECTED = [
    CampaignTarget(d.code, d.name, d.target_total, d.target_level1, d.target_level2)
    for d in appendix1()
]


def reference_csv() -> str:
    return resources.files("tally06.data").joinpath("thanh_hoa_plan70_appendix1.csv").read_text(
        encoding="utf-8"
    )


def appendix_workbook(rows: list[list[object]], totals: tuple[object, ...] | None) -> bytes:
    """A sheet laid out like Appendix I: two title rows, a two-level header, rows, totals."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["PHỤ LỤC I"])
    sheet.append(["CHỈ TIÊU HƯỚNG DẪN KÍCH HOẠT VÀ THU NHẬN HỒ SƠ ĐỊNH DANH ĐIỆN TỬ"])
    sheet.append(["STT", "Đơn vị", "Chỉ tiêu giao kích hoạt", None, None,
                  "Số lượng tài khoản đã kích hoạt", None, None, "Tỷ lệ hoàn thành (%)",
                  "Tổng số còn lại phải hướng dẫn kích hoạt và thu nhận"])
    sheet.append([None, None, "Tổng số", "Mức 1", "Mức 2", "Mức 1", "Mức 2", "Tổng"])
    for cells in ("A3:A4", "B3:B4", "C3:E3", "F3:H3", "I3:I4", "J3:J4"):
        sheet.merge_cells(cells)
    for row in rows:
        sheet.append(row)
    if totals is not None:
        sheet.append([None, "Tổng cộng", *totals])
    sheet.append([None, "Người lập biểu"])  # signatures below the table are not data
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def real_rows() -> list[list[object]]:
    return [
        [d.no, d.name, d.target_total, d.target_level1, d.target_level2, d.activated_level1,
         d.activated_level2, d.activated_total, float(d.completion_pct), d.remaining]
        for d in appendix1()
    ]


def test_reference_csv_layout_imports_cleanly():
    report = parse_targets_csv(reference_csv(), demo_org())
    assert report.errors == []
    assert report.targets == EXPECTED
    assert report.totals_row is None


def test_unit_code_csv_layout_imports_cleanly():
    lines = ["unit_code,unit_name,target_total,target_level1,target_level2"]
    lines += [f"{t.unit_code},{t.unit_name},{t.total},{t.level1},{t.level2}" for t in EXPECTED]
    report = parse_targets_csv("\ufeff" + "\n".join(lines) + "\n", demo_org())
    assert report.errors == []
    assert report.targets == EXPECTED


def test_csv_row_errors_carry_line_numbers_and_fields():
    text = (
        "unit_code,unit_name,target_total,target_level1,target_level2\n"
        "TH-01,x,316749,270257,46492\n"
        "TH-99,x,10,5,5\n"
        "TH-02,x,abc,44499,7653\n"
        "TH-03,x,95999,81917,-1\n"
        "TH-01,x,316749,270257,46492\n"
        "Tổng cộng,,316749,270257,46492\n"
    )
    report = parse_targets_csv(text, demo_org())
    assert [t.unit_code for t in report.targets] == ["TH-01"]
    assert [(e.row, e.field) for e in report.errors] == [
        (3, "unit_code"), (4, "total"), (5, "level2"), (5, "total"), (6, "unit_code"),
    ]
    assert "already given on row 2" in report.errors[-1].message
    # The printed totals describe what the sheet says, rejected rows included.
    assert report.totals_row is not None and report.totals_row.sum_total == 316749 * 2 + 10 + 95999
    assert not report.totals_row.agrees


def test_csv_without_the_needed_columns_is_refused():
    with pytest.raises(TargetsImportError, match="target_level2"):
        parse_targets_csv("unit_code,target_total,target_level1\n", demo_org())


def test_real_appendix_imports_and_its_printed_totals_row_is_flagged():
    report = parse_targets_xlsx(appendix_workbook(real_rows(), PRINTED_TOTALS), demo_org())
    assert report.errors == []
    assert report.targets == EXPECTED
    check = report.totals_row
    assert check is not None and not check.agrees
    assert (check.sum_total, check.sum_level1, check.sum_level2) == (3_243_976, 2_842_865, 401_111)
    assert (check.printed_total, check.printed_level1, check.printed_level2) == PRINTED_TOTALS
    assert [d.split(":")[0] for d in check.disagreements] == ["level1", "level2"]
    assert "2,842,863" in check.disagreements[0] and "2,842,865" in check.disagreements[0]


def test_a_correct_totals_row_agrees_and_the_workbook_may_come_from_a_path(tmp_path):
    path = tmp_path / "appendix1.xlsx"
    path.write_bytes(appendix_workbook(real_rows(), ("3.243.976", "2.842.865", "401.111")))
    report = parse_targets_xlsx(path, demo_org())
    assert report.errors == [] and len(report.targets) == 27
    assert report.totals_row is not None and report.totals_row.agrees
    assert report.totals_row.disagreements == []


def test_numbers_as_text_with_thousand_separators():
    rows = [
        [1, "Thành phố Thanh Hóa", "316.749", "270.257", "46.492"],
        [2, "Thị xã Bỉm Sơn", "52,152", "44,499", " 7 653 "],
        [3, "Thành phố Sầm Sơn", 95999.0, "81917", 14082],
    ]
    report = parse_targets_xlsx(appendix_workbook(rows, None), demo_org())
    assert report.errors == []
    assert report.targets == EXPECTED[:3]
    assert report.totals_row is None


def test_districts_are_found_by_stt_or_by_exact_name():
    rows = [
        [None, "Huyện Mường Lát", 29504, 26059, 3445],  # no STT: by name
        [5, "H. Quan Hóa", 38557, 34034, 4523],  # name not exact: by STT
        [6, "Huyện Quan Hóa", 89996, 79423, 10573],  # STT 6 is Bá Thước: conflict
    ]
    report = parse_targets_xlsx(appendix_workbook(rows, None), demo_org())
    assert [t.unit_code for t in report.targets] == ["TH-04", "TH-05"]
    assert report.targets[1].unit_name == "Huyện Quan Hóa"
    assert [(e.row, e.field) for e in report.errors] == [(7, "unit_code")]


def test_bad_rows_are_reported_with_sheet_row_numbers_and_fields():
    rows = real_rows()[:4]  # sheet rows 5..8
    rows.insert(1, [28, "Huyện Không Có", 1000, 600, 400])  # row 6: unknown district
    rows[2][3] = "abc"  # row 7 (Bỉm Sơn): level 1 is not a number
    rows[3][4] = 14000  # row 8 (Sầm Sơn): level 1 + level 2 != total
    rows.append(list(real_rows()[0]))  # row 10: Thành phố Thanh Hóa again
    report = parse_targets_xlsx(appendix_workbook(rows, None), demo_org())
    assert [t.unit_code for t in report.targets] == ["TH-01", "TH-04"]
    assert report.errors == [
        RowError(6, "unit_code", "unknown unit 'Huyện Không Có'"),
        RowError(7, "level1", "'abc' is not a whole number"),
        RowError(8, "total", "level 1 (81,917) + level 2 (14,000) = 95,917, not the total 95,999"),
        RowError(10, "unit_code", "TH-01 is already given on row 5"),
    ]


def test_a_bad_row_does_not_hide_the_totals_check():
    rows = real_rows()
    rows[0][2] = "n/a"
    report = parse_targets_xlsx(appendix_workbook(rows, PRINTED_TOTALS), demo_org())
    assert len(report.targets) == 26
    assert [(e.row, e.field) for e in report.errors] == [(5, "total")]
    assert report.totals_row is not None and report.totals_row.sum_level1 == 2_842_865


def test_a_workbook_without_the_header_is_refused():
    book = openpyxl.Workbook()
    book.active.append(["Tên", "Số"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(TargetsImportError, match="Đơn vị"):
        parse_targets_xlsx(out.getvalue(), demo_org())
    with pytest.raises(TargetsImportError, match="cannot read"):
        parse_targets_xlsx(b"not a workbook", demo_org())


def test_row_numbers_name_the_districts_of_the_org_s_own_province():
    """Appendix I numbers districts (STT); the code is read in the org's province, not the demo's."""
    org = OrgRegistry([Unit("HN", "Thành phố Hà Nội", UnitKind.PROVINCE, None),
                       Unit("HN-01", "Quận Ba Đình", UnitKind.DISTRICT, "HN"),
                       Unit("HN-02", "Quận Hoàn Kiếm", UnitKind.DISTRICT, "HN")])
    text = "no,unit_name,target_total,target_level1,target_level2\n1,,100,60,40\n2,,50,20,30\n"
    report = parse_targets_csv(text, org)
    assert report.errors == []
    assert [(t.unit_code, t.unit_name, t.total) for t in report.targets] == [
        ("HN-01", "Quận Ba Đình", 100), ("HN-02", "Quận Hoàn Kiếm", 50)]


TWO_TIER = OrgRegistry([
    Unit("TH", "Tỉnh Thanh Hóa", UnitKind.PROVINCE, None),
    # listed out of code order: row numbers follow the codes, as Appendix I lists them
    Unit("TH-X003", "Xã Quảng Phú", UnitKind.COMMUNE, "TH"),
    Unit("TH-X001", "Phường Hạc Thành", UnitKind.COMMUNE, "TH"),
    Unit("TH-X002", "Phường Hàm Rồng", UnitKind.COMMUNE, "TH"),
    Unit("TH-X004", "Xã Tân Phúc", UnitKind.COMMUNE, "TH"),
    Unit("TH-X005", "Xã Tân Phúc", UnitKind.COMMUNE, "TH"),  # a name two communes share
    Unit("TH-X001-T1", "Tổ công tác 1", UnitKind.TEAM, "TH-X001"),
])


def test_a_two_tier_province_s_sheet_names_its_communes_in_row_order():
    rows = [[1, "Phường Hạc Thành", 1000, 800, 200],
            [2, None, 500, 400, 100],                     # by number only: the 2nd commune by code
            [None, "Xã Quảng Phú", 300, 200, 100],        # by name only
            [5, "Xã Tân Phúc", 90, 80, 10]]               # a shared name: the number tells which
    report = parse_targets_xlsx(appendix_workbook(rows, (1890, 1480, 410)), TWO_TIER)
    assert report.errors == [] and report.totals_row is not None and report.totals_row.agrees
    assert [(t.unit_code, t.unit_name, t.total) for t in report.targets] == [
        ("TH-X001", "Phường Hạc Thành", 1000), ("TH-X002", "Phường Hàm Rồng", 500),
        ("TH-X003", "Xã Quảng Phú", 300), ("TH-X005", "Xã Tân Phúc", 90)]


def test_a_two_tier_sheet_s_conflicts_and_unknown_numbers_are_row_errors():
    rows = [[2, "Xã Quảng Phú", 10, 5, 5],           # 2 is Hàm Rồng
            [None, "Xã Tân Phúc", 10, 5, 5],         # two communes have that name
            [9, None, 10, 5, 5]]                     # there are 5 communes
    report = parse_targets_xlsx(appendix_workbook(rows, None), TWO_TIER)
    assert report.targets == []
    assert report.errors == [
        RowError(5, "unit_code", "TH-X002 by number is Phường Hàm Rồng, but 'Xã Quảng Phú' is TH-X003"),
        RowError(6, "unit_code", "'Xã Tân Phúc' is the name of TH-X004, TH-X005: give the row's number (STT)"),
        RowError(7, "unit_code", "no unit numbered 9 under TH (it has 5)"),
    ]


NATIONAL = OrgRegistry([
    Unit("VN", "Việt Nam", UnitKind.COUNTRY, None),
    Unit("TH", "Tỉnh Thanh Hóa", UnitKind.PROVINCE, "VN"),
    Unit("TH-01", "Thành phố Thanh Hóa", UnitKind.DISTRICT, "TH"),
    Unit("TH-02", "Thị xã Bỉm Sơn", UnitKind.DISTRICT, "TH"),
    Unit("CT", "Thành phố Cần Thơ", UnitKind.PROVINCE, "VN"),
    Unit("CT-X1", "Phường Ninh Kiều", UnitKind.COMMUNE, "CT"),
    Unit("CT-X2", "Phường Sóc Trăng", UnitKind.COMMUNE, "CT"),
])


def test_with_several_provinces_a_sheet_says_whose_it_is():
    text = "no,unit_name,target_total,target_level1,target_level2\n1,,100,60,40\n2,Phường Sóc Trăng,50,20,30\n"
    with pytest.raises(TargetsImportError, match="several provinces"):
        parse_targets_csv(text, NATIONAL)
    report = parse_targets_csv(text, NATIONAL, unit="CT")
    assert report.errors == []
    assert [(t.unit_code, t.total) for t in report.targets] == [("CT-X1", 100), ("CT-X2", 50)]
    assert [t.unit_code for t in parse_targets_csv(text.replace("Phường Sóc Trăng", ""), NATIONAL, "TH").targets] == [
        "TH-01", "TH-02"]
    # the country's own sheet numbers its provinces; codes work at any level without a sheet unit
    assert [t.unit_code for t in parse_targets_csv(text.replace("Phường Sóc Trăng", ""), NATIONAL, "VN").targets] == [
        "CT", "TH"]
    by_code = "unit_code,target_total,target_level1,target_level2\nVN,10,5,5\nTH-01,4,2,2\nCT-X2,3,2,1\n"
    assert [t.unit_code for t in parse_targets_csv(by_code, NATIONAL).targets] == ["VN", "TH-01", "CT-X2"]
    with pytest.raises(TargetsImportError, match="not a unit with units under it"):
        parse_targets_csv(text, NATIONAL, unit="XX")
