"""Reading registry extracts: protected rows, every bad row by row/field/reason, no clear CCCD kept."""

from __future__ import annotations

import datetime as dt
import hmac
from pathlib import Path

import openpyxl
import pytest

from tally06.domain.pii import CitizenProtector, SealedPii, new_key
from tally06.domain.registry import RegistryStatus
from tally06.imports.exceptions import RegistryExtractError
from tally06.imports.registry_extract import read_extract
from tally06.simulator.registry_extracts import ExtractRow, write_extract
from tests.support import factories

HMAC_KEY = new_key()
PROTECTOR = CitizenProtector(HMAC_KEY, f"u1:{new_key()}")
HEADER = "cccd,full_name,phone,status,level,collected_on,approved_on,activated_on,rejected_on,commune,village\n"
LAST_DAY = dt.date(2024, 11, 20)


def key_of(cccd: str) -> str:
    """Computed here, not by the code under test: HMAC-SHA256 of the CCCD under the identity key."""
    import base64

    raw = base64.urlsafe_b64decode(HMAC_KEY + "=" * (-len(HMAC_KEY) % 4))
    return hmac.new(raw, cccd.encode(), "sha256").hexdigest()


def write(tmp_path: Path, text: str, name: str = "extract.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_become_keys_and_sealed_values(tmp_path):
    a, b, pa = factories.cccd(), factories.cccd(), factories.phone()
    path = write(tmp_path, HEADER + f"{a},Nguyễn Văn An,{pa},activated,2,2024-10-01,2024-10-03,05/10/2024,,"
                                    "TH-03-C01,TH-03-C01-V1\n"
                                    f"{b},,,approved,1,2024-10-02,2024-10-04,,,TH-03-C02,\n")
    records = read_extract(path, PROTECTOR).all_records(last_day=LAST_DAY)
    first, second = records
    assert first.citizen_key == key_of(a) and second.citizen_key == key_of(b)
    assert (first.status, first.level, first.activated_on, first.village) == (
        "activated", 2, dt.date(2024, 10, 5), "TH-03-C01-V1")
    assert PROTECTOR.open(SealedPii(first.pii_key_id, first.pii_sealed), associated=key_of(a)) == {
        "full_name": "Nguyễn Văn An", "phone": pa}
    assert second.pii_sealed is None and second.village is None and second.approved_on == dt.date(2024, 10, 4)
    assert a not in repr(records) and pa not in repr(records)


def test_vietnamese_headers_and_words_semicolons(tmp_path):
    cccd, phone = factories.cccd(), factories.phone()
    text = ("Số CCCD;Họ và tên;Số điện thoại;Trạng thái;Mức;Ngày thu nhận;Ngày phê duyệt;Ngày kích hoạt;Mã xã;"
            "Ngày sinh\n"
            f"{cccd};Lê Thị Hoa;+84{phone[1:]};Đã kích hoạt;Mức 2;01/10/2024;02/10/2024;03/10/2024;TH-03-C01;1990\n")
    parsed = read_extract(write(tmp_path, text), PROTECTOR)
    (record,) = parsed.all_records(last_day=LAST_DAY)
    assert parsed.ignored_columns == ["Ngày sinh"]
    assert (record.status, record.level, record.collected_on) == ("activated", 2, dt.date(2024, 10, 1))
    assert PROTECTOR.open(SealedPii(record.pii_key_id, record.pii_sealed), associated=key_of(cccd))["phone"] == phone


def test_bad_rows_by_row_field_and_reason_without_the_value(tmp_path):
    good, short, dup = factories.cccd(), factories.cccd(), factories.cccd()
    phone = factories.phone()
    rows = [
        f"{good},,,activated,1,2024-10-01,2024-10-02,2024-10-03,,TH-03-C01,",  # 2: good
        f"{short[1:]},,,collected,1,2024-10-01,,,,TH-03-C01,",  # 3: leading zero lost
        f"{dup},,{phone}9,approved,3,2024-10-05,2024-10-01,,,TH-03-C01,",  # 4: phone, level, order
        f"{good},,,activated,1,2024-10-01,2024-10-02,2024-10-03,,TH-03-C01,",  # 5: repeats row 2
        f"{dup},,,activated,1,2024-10-01,2024-10-02,,,,",  # 6: no activated_on, no commune
        f"{dup},,,approved,1,2024-10-01,2024-11-30,,,TH-03-C01,",  # 7: after the extract's day
        f"{dup},,,{phone},1,31/02/2024,,,,TH 03,",  # 8: status holds a phone; no such day; bad code
        f"{dup},,,collected,1,2024-10-01,,2024-10-09,,TH-03-C01,",  # 9: a stage beyond the status
    ]
    parsed = read_extract(write(tmp_path, HEADER + "\n".join(rows) + "\n"), PROTECTOR)
    assert len(parsed.all_records(last_day=LAST_DAY)) == 1
    found = {(e.row, e.field) for e in parsed.tally.errors}
    assert found == {(3, "cccd"), (4, "phone"), (4, "level"), (4, "approved_on"), (5, "cccd"), (6, "activated_on"),
                     (6, "commune"), (7, "approved_on"), (8, "status"), (8, "collected_on"), (8, "commune"),
                     (9, "activated_on")}
    assert parsed.tally.bad == 7 and parsed.tally.good == 1
    messages = " ".join(e.message for e in parsed.tally.errors)
    assert "leading zeros" in messages and "already on row 2" in messages
    for value in (good, short, short[1:], dup, phone):
        assert value not in messages


def test_header_without_required_columns(tmp_path):
    parsed = read_extract(write(tmp_path, "name,phone\nAn,0912345678\n"), PROTECTOR)
    assert [(e.row, e.field) for e in parsed.header_errors] == [(1, "header")]
    assert "cccd" in parsed.header_errors[0].message and parsed.all_records() == []


def test_same_bytes_same_digest_other_bytes_other(tmp_path):
    cccd = factories.cccd()
    text = HEADER + f"{cccd},,,collected,1,2024-10-01,,,,TH-03-C01,\n"
    one, two = write(tmp_path, text, "a.csv"), write(tmp_path, text, "b.csv")
    three = write(tmp_path, text.replace("2024-10-01", "2024-10-02"), "c.csv")
    assert read_extract(one, PROTECTOR).digest == read_extract(two, PROTECTOR).digest
    assert read_extract(one, PROTECTOR).digest != read_extract(three, PROTECTOR).digest
    assert cccd not in read_extract(one, PROTECTOR).digest


def test_not_an_extract(tmp_path):
    with pytest.raises(RegistryExtractError, match="csv or .xlsx"):
        read_extract(write(tmp_path, "x", "extract.pdf"), PROTECTOR)


def test_xlsx_puts_back_leading_zeros_excel_dropped(tmp_path):
    cccd, phone = "0" + factories.cccd()[1:], factories.phone()
    factories.ISSUED_CCCDS.add(cccd)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["CCCD", "Họ tên", "SĐT", "Trạng thái", "Mức", "Ngày thu nhận", "Mã xã"])
    sheet.append([int(cccd), "Trần Văn Bình", int(phone), "đã thu nhận", 1, dt.datetime(2024, 10, 1), "TH-03-C01"])
    path = tmp_path / "extract.xlsx"
    book.save(path)
    (record,) = read_extract(path, PROTECTOR).all_records(last_day=LAST_DAY)
    assert record.citizen_key == key_of(cccd) and record.collected_on == dt.date(2024, 10, 1)
    assert PROTECTOR.open(SealedPii(record.pii_key_id, record.pii_sealed), associated=key_of(cccd))["phone"] == phone


def test_the_simulators_extract_reads_back(tmp_path):
    rows = [ExtractRow(factories.cccd(), RegistryStatus.ACTIVATED, 2, "TH-03-C01", "Phạm Thị Dung", factories.phone(),
                       "TH-03-C01-V2", dt.date(2024, 10, 1), dt.date(2024, 10, 2), dt.date(2024, 10, 4)),
            ExtractRow(factories.cccd(), RegistryStatus.REJECTED, 1, "TH-03-C02", collected_on=dt.date(2024, 10, 3),
                       rejected_on=dt.date(2024, 10, 6)),
            ExtractRow(factories.cccd(), RegistryStatus.APPROVED, 1, "TH-03-C02", phone=factories.phone(),
                       collected_on=dt.date(2024, 10, 3), approved_on=dt.date(2024, 10, 3))]
    path = tmp_path / "sim.csv"
    assert write_extract(path, rows) == 3
    parsed = read_extract(path, PROTECTOR)
    records = parsed.all_records(last_day=LAST_DAY)
    assert parsed.tally.bad == 0
    for row, record in zip(rows, records, strict=True):
        assert record.citizen_key == key_of(row.cccd)
        assert (record.status, record.level, record.commune, record.village) == (
            row.status.value, row.level, row.commune, row.village)
        assert (record.collected_on, record.approved_on, record.activated_on, record.rejected_on) == (
            row.collected_on, row.approved_on, row.activated_on, row.rejected_on)
        opened = (PROTECTOR.open(SealedPii(record.pii_key_id, record.pii_sealed), associated=record.citizen_key)
                  if record.pii_sealed else {"full_name": None, "phone": None})
        assert opened == {"full_name": row.full_name, "phone": row.phone}
