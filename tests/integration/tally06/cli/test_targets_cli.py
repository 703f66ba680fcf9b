"""`tally06 targets import` against a real database: per-row report, versioning."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tally06.imports.reference import appendix1
from tally06.store.targets import campaign_targets_at
from tests.support.cli import tally06

REFERENCE = Path(__file__).resolve().parents[4] / "packages/tally06/tally06/data/thanh_hoa_plan70_appendix1.csv"




async def test_import_then_change_keeps_history(database, db, tmp_path):
    code, out, _ = await tally06(database, "targets", "import", str(REFERENCE), "--valid-from", "2023-03-24T00:00:00+07:00")
    assert code == 0, out
    assert "27 valid rows, 0 bad rows; saved 27" in out

    changed = tmp_path / "revised.csv"
    changed.write_text("unit_code,unit_name,target_total,target_level1,target_level2\n"
                       "TH-03,Thành phố Sầm Sơn,100000,85000,15000\n", encoding="utf-8")
    code, out, _ = await tally06(database, "targets", "import", str(changed), "--valid-from", "2023-05-01T00:00:00+07:00")
    assert code == 0, out

    before = await campaign_targets_at(db, dt.datetime(2023, 4, 30, tzinfo=dt.UTC))
    after = await campaign_targets_at(db, dt.datetime(2023, 5, 2, tzinfo=dt.UTC))
    assert before["TH-03"].total == appendix1()[2].target_total == 95_999
    assert after["TH-03"].total == 100_000
    assert after["TH-01"].total == before["TH-01"].total
    assert sum(t.total for t in before.values()) == 3_243_976


async def test_bad_rows_are_reported_and_nothing_is_saved(database, db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_code,unit_name,target_total,target_level1,target_level2\n"
                   "TH-01,Thành phố Thanh Hóa,316749,270257,46492\n"
                   "TH-99,Nowhere,10,5,5\n"
                   "TH-02,Thị xã Bỉm Sơn,abc,44499,7653\n", encoding="utf-8")
    code, out, err = await tally06(database, "targets", "import", str(bad))
    assert code == 1
    assert "1 valid rows, 2 bad rows; saved 0" in out
    assert "unit_code" in err and "total" in err
    assert await db.fetchval("SELECT count(*) FROM campaign_targets") == 0

    code, out, _ = await tally06(database, "targets", "import", str(bad), "--partial")
    assert code == 0
    assert await db.fetchval("SELECT count(*) FROM campaign_targets") == 1


async def test_daily_targets_versioned_by_day(database, db, tmp_path):
    from tally06.store.targets import daily_targets_on

    first = tmp_path / "daily.csv"
    first.write_text("unit_code,metric,target\nTH-03-C01-T1,activated,40\nTH-03-C01-T2,activated,35\n")
    code, out, _ = await tally06(database, "targets", "daily", str(first), "--from", "2024-10-20")
    assert code == 0 and "saved 2" in out, out
    second = tmp_path / "raise.csv"
    second.write_text("unit_code,metric,target\nTH-03-C01-T1,activated,60\n")
    code, out, _ = await tally06(database, "targets", "daily", str(second), "--from", "2024-10-25")
    assert code == 0, out
    assert (await daily_targets_on(db, dt.date(2024, 10, 24)))[("TH-03-C01-T1", "activated")] == 40
    on_25 = await daily_targets_on(db, dt.date(2024, 10, 25))
    assert on_25[("TH-03-C01-T1", "activated")] == 60 and on_25[("TH-03-C01-T2", "activated")] == 35
    assert await daily_targets_on(db, dt.date(2024, 10, 19)) == {}
