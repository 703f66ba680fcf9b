"""A work list as .xlsx, with Vietnamese headings, for a team to print or a commune to share out.

The phone is written as text (``@``): a number cell would drop its leading zero.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from tally06.contract.events import LOCAL_TZ
from tally06.domain.work_lists import LIST_WORDS, REASON_WORDS, Reason, WorkList

HEAD = ("STT", "Mã tham chiếu", "Xã/phường", "Thôn/tổ dân phố", "Tổ công tác", "Họ và tên", "Số điện thoại",
        "Mức", "Từ ngày", "Số ngày chờ", "Kết quả liên hệ", "Thời điểm ghi")
WIDTHS = (6, 34, 14, 16, 16, 26, 14, 6, 12, 10, 30, 18)
PHONE_COLUMN = 7


@dataclass(frozen=True)
class SheetRow:
    ref: str
    commune: str
    village: str | None
    team: str | None
    full_name: str | None
    phone: str | None
    level: int
    since: dt.date | None
    days_waiting: int | None
    reason: Reason | None
    outcome_at: dt.datetime | None


def work_list_xlsx(unit: str, work_list: WorkList, rows: Sequence[SheetRow], *, clear: bool,
                   as_of: dt.datetime) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Danh sách")
    for n, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + n)].width = width
    bold = Font(bold=True)
    masked = "" if clear else " (dữ liệu cá nhân đã che)"
    for text in (f"DANH SÁCH CÔNG DÂN {LIST_WORDS[work_list].vi.upper()}",
                 f"{unit} — đến {as_of.astimezone(LOCAL_TZ):%d/%m/%Y %H:%M}{masked}"):
        cell = WriteOnlyCell(sheet, text)
        cell.font = bold
        sheet.append([cell])
    header = []
    for text in HEAD:
        cell = WriteOnlyCell(sheet, text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for no, row in enumerate(rows, start=1):
        values = (no, row.ref, row.commune, row.village, row.team, row.full_name, row.phone, row.level, row.since,
                  row.days_waiting, REASON_WORDS[row.reason].vi if row.reason else None,
                  row.outcome_at.astimezone(LOCAL_TZ).replace(tzinfo=None) if row.outcome_at else None)
        cells = []
        for column, value in enumerate(values, start=1):
            cell = WriteOnlyCell(sheet, value)
            if column == PHONE_COLUMN:
                cell.number_format = "@"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
