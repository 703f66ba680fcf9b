"""A spot check as .xlsx for the file: one sheet with the check (unit, period, population, rule,
risks, seed and the frozen population's digest, so anyone can draw it again, and the verdict),
one with the drawn claims in draw order and what the verifiers found.

Names and phones are written only when the caller passes ``contacts`` (it opened them and wrote
the audit entry), masked unless ``clear``. Times are local (Excel has no time zones); the phone
is text, so its leading zero stays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Font

from tally06.contract.events import LOCAL_TZ
from tally06.domain.pii import mask_phone
from tally06.domain.spot_checks import OUTCOME_TEXTS, STATUS_TEXTS, Population
from tally06.reports.appendix2 import mask_name
from tally06.store.spot_checks import CheckRow, Contact, ItemRow

POPULATION_WORDS = {Population.CREDITED: "Các kích hoạt đã ghi nhận (credited activations)",
                    Population.UNCONFIRMED: "Các kích hoạt chưa được CSDL xác nhận (unconfirmed activations)"}
ITEM_HEAD = ("Thứ tự rút", "Loại", "Đang tính", "Tổ công tác", "Cán bộ", "Mức", "Thời điểm", "Họ và tên",
             "Số điện thoại", "Kết quả", "Số lần không liên lạc được", "Ghi chú", "Người ghi", "Thời điểm ghi")
ITEM_WIDTHS = (10, 10, 10, 16, 18, 6, 18, 26, 14, 34, 12, 30, 16, 18)
PHONE_COLUMN = 9


def local(moment: dt.datetime | None) -> dt.datetime | None:
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None) if moment is not None else None


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def check_lines(check: CheckRow, unit_name: str | None = None) -> list[tuple[str, object]]:
    """The check sheet's rows: a Vietnamese label (English beside it) and its value."""
    status_vi, status_en = STATUS_TEXTS[check.status]
    estimate = "" if check.estimate is None else (
        f"{check.estimate:.1%} (khoảng tin cậy 95 %: {_percent(check.ci_low)} – {_percent(check.ci_high)})")
    return [
        ("Mã kiểm tra / Check id", check.id),
        ("Đơn vị / Unit", check.unit + (f" — {unit_name}" if unit_name else "")),
        ("Từ (không tính) / From (exclusive)", local(check.period_from) or "từ đầu / from the beginning"),
        ("Đến / To", local(check.period_to)),
        ("Tổng thể / Population", POPULATION_WORDS[check.population]),
        ("Quy tắc / Rule", f"kiểm tra n = {check.n}, đạt khi không quá d = {check.d} sai"
                           + (" (nhập trực tiếp / given)" if check.rule_given else "")),
        ("Ngưỡng trên / Upper threshold", check.upper),
        ("Ngưỡng dưới / Lower threshold", check.lower),
        ("Rủi ro alpha (yêu cầu) / alpha asked", check.alpha),
        ("Rủi ro beta (yêu cầu) / beta asked", check.beta),
        ("Rủi ro alpha (chính xác) / exact alpha", check.alpha_actual),
        ("Rủi ro beta (chính xác) / exact beta", check.beta_actual),
        ("Hạt giống (hex) / Seed", check.seed_hex),
        ("Mã băm tổng thể (SHA-256) / Population digest", check.population_digest),
        ("Số bản ghi tổng thể / Population size", check.population_size),
        ("Số bản ghi đã rút / Drawn", check.drawn),
        ("Số lần thử trước khi coi là không liên lạc được / Tries", check.tries),
        ("Đánh dấu số liệu khi không đạt / Marks figures", "có" if check.marks_figures else "không"),
        ("Kết quả / Status", f"{status_vi} ({status_en})"),
        ("Đúng / Confirmed", check.successes),
        ("Sai / Failures", check.failures),
        ("Ước lượng tỷ lệ thật / Estimate", estimate),
        ("Người rút mẫu / Drawn by", check.drawn_by),
        ("Thời điểm rút / Drawn at", local(check.drawn_at)),
        ("Thời điểm kết luận / Decided at", local(check.decided_at) or ""),
    ]


def _contact(contact: Contact | None, clear: bool) -> tuple[str, str]:
    if contact is None:
        return "", ""
    name, phone = contact.full_name or "", contact.phone or ""
    if clear:
        return name, phone
    return (mask_name(name) if name else ""), (mask_phone(phone) if phone else "")


def write_check_xlsx(check: CheckRow, items: Sequence[ItemRow], contacts: Mapping[int, Contact] | None,
                     out: Path | str | IO[bytes], *, clear: bool = False, unit_name: str | None = None) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Kiểm tra"
    bold = Font(bold=True)
    sheet.append(["KIỂM TRA XÁC SUẤT (SPOT CHECK)"])
    sheet["A1"].font = bold
    for label, value in check_lines(check, unit_name):
        sheet.append([label, value])
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        for cell in row:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"
    sheet.column_dimensions["A"].width = 52
    sheet.column_dimensions["B"].width = 70

    listed = book.create_sheet("Mẫu")
    masked = "" if clear or contacts is None else " (dữ liệu cá nhân đã che)"
    listed.append([f"Các bản ghi đã rút theo thứ tự — kiểm tra {check.id}, {check.unit}{masked}"])
    listed["A1"].font = bold
    listed.append(list(ITEM_HEAD))
    for cell in listed[2]:
        cell.font = bold
    for n, width in enumerate(ITEM_WIDTHS):
        listed.column_dimensions[chr(ord("A") + n)].width = width
    for item in items:
        name, phone = _contact(contacts.get(item.rank) if contacts is not None else None, clear)
        listed.append([
            item.rank, "Dự phòng" if item.reserve else "Mẫu", "có" if item.active else "không", item.team,
            item.officer, item.level, local(item.occurred_at), name, phone,
            OUTCOME_TEXTS[item.outcome][0] if item.outcome is not None else "", item.tries, item.note or "",
            item.recorded_by or "", local(item.recorded_at)])
        row = listed.max_row
        listed.cell(row, PHONE_COLUMN).number_format = "@"
        for column in (7, 14):
            listed.cell(row, column).number_format = "dd/mm/yyyy hh:mm"
    book.save(out)
