"""`tally06 registry import` and `extracts` as an operator runs them: CSV and XLSX, exit codes,
bad rows listed (capped) without personal data, one audit entry per applied extract."""

from __future__ import annotations

import datetime as dt

import openpyxl

from tally06.domain.registry import RegistryStatus as S
from tally06.simulator.registry_extracts import ExtractRow, write_extract
from tests.support import factories
from tests.support.cli import tally06

AS_OF = "2024-11-20T17:00+07:00"


def row(status: S = S.APPROVED, **changes: object) -> ExtractRow:
    fields = {"cccd": factories.cccd(), "status": status, "level": 1, "commune": "TH-03-C01",
              "full_name": "Đỗ Văn Minh", "phone": factories.phone(), "collected_on": dt.date(2024, 11, 1),
              "approved_on": dt.date(2024, 11, 2), **changes}
    return ExtractRow(**fields)  # type: ignore[arg-type]


async def test_import_twice_older_and_the_list(database, db, tmp_path):
    rows = [row() for _ in range(4)]
    path = tmp_path / "extract-1120.csv"
    write_extract(path, rows)
    code, out, err = await tally06(database, "registry", "import", str(path), "--as-of", AS_OF, "--actor", "dana")
    assert code == 0, err
    assert "4 rows, 4 citizens added, 0 changed" in out

    code, out, err = await tally06(database, "registry", "import", str(path), "--as-of", AS_OF)
    assert code == 0, err
    assert "was loaded before" in out and "nothing changed" in out

    older = tmp_path / "extract-1118.csv"
    write_extract(older, [row()])
    code, out, err = await tally06(database, "registry", "import", str(older), "--as-of", "2024-11-18T17:00+07:00")
    assert code == 2 and "older than the newest" in err
    code, out, err = await tally06(database, "registry", "import", str(older), "--as-of", "2024-11-18T17:00+07:00",
                                   "--force", "--actor", "dana")
    assert code == 0, err

    code, out, err = await tally06(database, "registry", "extracts")
    assert code == 0, err
    assert "extract-1120.csv" in out and "extract-1118.csv" in out and "yes" in out
    entries = await db.fetch("SELECT actor, action, target, row_count FROM audit_log ORDER BY id")
    assert [tuple(e) for e in entries] == [("dana", "registry.import", "extract-1120.csv", 4),
                                           ("dana", "registry.import", "extract-1118.csv", 1)]
    for r in rows:
        assert r.cccd not in out + err and r.phone not in out + err


async def test_too_many_bad_rows_change_nothing_and_the_list_is_capped(database, db, tmp_path):
    good = [row() for _ in range(5)]
    bad = [row(S.ACTIVATED) for _ in range(12)]  # activated without an activated_on
    path = tmp_path / "bad.csv"
    write_extract(path, good + bad)
    code, out, err = await tally06(database, "registry", "import", str(path), "--as-of", AS_OF, "--show", "10")
    assert code == 2
    assert "12 of 17 rows are bad" in err and "nothing changed" in err and "2 more bad rows" in err
    assert "activated_on" in err and "is required for status activated" in err
    assert await db.fetchval("SELECT count(*) FROM registry_citizens") == 0
    assert await db.fetchval("SELECT count(*) FROM audit_log") == 0
    for r in good + bad:
        assert r.cccd not in out + err and r.phone not in out + err

    # With a share that allows them, the good rows go in and the bad ones are listed.
    code, out, err = await tally06(database, "registry", "import", str(path), "--as-of", AS_OF,
                                   "--max-bad-share", "0.8")
    assert code == 0, err
    assert "12 bad rows left out" in out
    assert await db.fetchval("SELECT count(*) FROM registry_citizens") == 5


async def test_xlsx_extract(database, db, tmp_path):
    cccds = [factories.cccd() for _ in range(3)]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Số CCCD", "Họ và tên", "Số điện thoại", "Trạng thái", "Mức", "Ngày thu nhận", "Ngày phê duyệt",
                  "Ngày kích hoạt", "Mã xã", "Mã thôn"])
    for cccd in cccds:
        sheet.append([cccd, "Bùi Thị Lan", factories.phone(), "Đã kích hoạt", 2, dt.datetime(2024, 11, 1),
                      "02/11/2024", "2024-11-04", "TH-03-C01", "TH-03-C01-V1"])
    path = tmp_path / "extract.xlsx"
    book.save(path)
    code, out, err = await tally06(database, "registry", "import", str(path), "--as-of", AS_OF)
    assert code == 0, err
    stored = await db.fetch("SELECT status, level, activated_on, village FROM registry_citizens")
    assert [tuple(r) for r in stored] == [("activated", 2, dt.date(2024, 11, 4), "TH-03-C01-V1")] * 3
