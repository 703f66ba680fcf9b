"""The .xlsx of a spot check: the check sheet says everything needed to draw it again and its
verdict; the items sheet lists the draw in order, with the outcome's Vietnamese words and the
citizen's name and phone masked unless clear is asked for."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from tally06.domain.spot_checks import CheckStatus, Outcome, Population
from tally06.reports.spot_check_writers import write_check_xlsx
from tally06.store.spot_checks import CheckRow, Contact, ItemRow
from tests.support import factories

VN = dt.timezone(dt.timedelta(hours=7))
AT = dt.datetime(2024, 11, 5, 9, 30, tzinfo=VN)


def a_check() -> CheckRow:
    return CheckRow(
        id=7, unit="TH-03-C01", map_version=1, teams=("TH-03-C01-T1",), population=Population.CREDITED,
        period_from=None, period_to=dt.datetime(2024, 10, 31, 17, 0, tzinfo=VN), seed=bytes(range(16)),
        population_digest="ab" * 32, population_size=60, n=16, d=2, upper=0.95, lower=0.70, alpha=0.05, beta=0.10,
        alpha_actual=0.0429, beta_actual=0.0994, rule_given=False, tries=3, marks_figures=True,
        status=CheckStatus.FAILED, successes=5, failures=3, estimate=0.625, ci_low=0.245, ci_high=0.915,
        drawn_by="focal-sam-son", drawn_at=AT - dt.timedelta(days=1), decided_at=AT, drawn=24)


def an_item(rank: int, outcome: Outcome | None, tries: int = 0) -> ItemRow:
    return ItemRow(rank=rank, reserve=rank >= 16, active=rank < 16, seq=100 + rank, team="TH-03-C01-T1",
                   officer="CA-0001", level=2, occurred_at=AT - dt.timedelta(days=10), outcome=outcome, tries=tries,
                   note="gọi lúc 9h" if outcome else None, recorded_by="verifier" if outcome else None,
                   recorded_at=AT if outcome else None)


def sheets(clear: bool, contacts: dict[int, Contact] | None) -> tuple[dict, list[tuple]]:
    out = io.BytesIO()
    write_check_xlsx(a_check(), [an_item(0, Outcome.NOT_GUIDED), an_item(1, None, tries=2),
                                 an_item(16, Outcome.CONFIRMED)], contacts, out, clear=clear, unit_name="Phường A")
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["Kiểm tra", "Mẫu"]
    check = {row[0]: row[1] for row in book["Kiểm tra"].iter_rows(min_row=2, values_only=True)}
    rows = list(book["Mẫu"].iter_rows(min_row=3, values_only=True))
    return check, rows


def test_check_sheet_holds_what_a_replay_needs_and_the_verdict():
    check, _ = sheets(False, None)
    assert check["Hạt giống (hex) / Seed"] == "000102030405060708090a0b0c0d0e0f"
    assert check["Mã băm tổng thể (SHA-256) / Population digest"] == "ab" * 32
    assert check["Số bản ghi tổng thể / Population size"] == 60
    assert check["Quy tắc / Rule"].startswith("kiểm tra n = 16, đạt khi không quá d = 2")
    assert (check["Rủi ro alpha (chính xác) / exact alpha"], check["Rủi ro beta (chính xác) / exact beta"]) == (
        0.0429, 0.0994)
    assert check["Kết quả / Status"] == "Không đạt kiểm tra xác suất (Failed spot check)"
    assert check["Ước lượng tỷ lệ thật / Estimate"] == "62.5% (khoảng tin cậy 95 %: 24.5% – 91.5%)"
    assert check["Thời điểm kết luận / Decided at"] == dt.datetime(2024, 11, 5, 9, 30)
    assert check["Người rút mẫu / Drawn by"] == "focal-sam-son"


def test_items_in_draw_order_masked_or_clear():
    phone = factories.phone()
    contacts = {0: Contact("Lê Thị Hoa", phone), 1: Contact(None, None), 16: Contact("An", phone)}
    _, masked = sheets(False, contacts)
    assert [r[0] for r in masked] == [0, 1, 16]
    first = masked[0]
    assert first[1:7] == ("Mẫu", "có", "TH-03-C01-T1", "CA-0001", 2, dt.datetime(2024, 10, 26, 9, 30))
    assert first[7] == "L. T. Hoa" and first[8] == phone[:3] + "****" + phone[-3:]
    assert first[9] == "Cán bộ được ghi không hướng dẫn" and first[11:13] == ("gọi lúc 9h", "verifier")
    assert masked[1][7:11] == (None, None, None, 2)  # nobody reached yet: two tries
    assert masked[2][1:3] == ("Dự phòng", "không") and masked[2][9] == "Xác nhận đúng"
    _, clear = sheets(True, contacts)
    assert clear[0][7:9] == ("Lê Thị Hoa", phone)
    _, without = sheets(True, None)
    assert without[0][7:9] == (None, None)
