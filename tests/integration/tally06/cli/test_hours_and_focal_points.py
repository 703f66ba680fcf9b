"""Working hours and focal points against a real database, through the module API and the CLI."""

from __future__ import annotations

import datetime as dt

from tally06.domain.calendar import CAMPAIGN_HOURS, UnitHours, WorkingHours, hours_for
from tally06.domain.focal_points import FocalPointRow, LoadResult
from tally06.imports.reference import demo_org
from tally06.stack.demo_data import demo_focal_points
from tally06.store.focal_points import load_focal_points, recipients_by_unit
from tally06.store.working_hours import save_working_hours, working_hours_on
from tests.support.cli import tally06


def hours(start: str, end: str) -> WorkingHours:
    return WorkingHours(dt.time.fromisoformat(start), dt.time.fromisoformat(end))


async def test_working_hours_versioned_by_day_and_latest_row_wins(db):
    await save_working_hours(db, [UnitHours("TH-03", hours("06:30", "21:00"))], source="a", valid_from=dt.date(2024, 10, 20))
    await save_working_hours(db, [UnitHours("TH-03", hours("07:00", "20:00")),
                                  UnitHours("TH-03-C01", hours("08:00", "17:00"))],
                             source="b", valid_from=dt.date(2024, 10, 25))
    # Same day again: the later file corrects the earlier one.
    await save_working_hours(db, [UnitHours("TH-03-C01", hours("08:00", "18:00"))], source="c", valid_from=dt.date(2024, 10, 25))

    assert await working_hours_on(db, dt.date(2024, 10, 19)) == {}
    assert await working_hours_on(db, dt.date(2024, 10, 24)) == {"TH-03": hours("06:30", "21:00")}
    on_25 = await working_hours_on(db, dt.date(2024, 10, 25))
    assert on_25 == {"TH-03": hours("07:00", "20:00"), "TH-03-C01": hours("08:00", "18:00")}
    org = demo_org()
    assert hours_for("TH-03-C01-T1", on_25, org) == hours("08:00", "18:00")
    assert hours_for("TH-03-C02-T1", on_25, org) == hours("07:00", "20:00")
    assert hours_for("TH-04-C01-T1", on_25, org) == CAMPAIGN_HOURS


async def test_load_with_replace_retires_and_keeps_ids(db):
    an = FocalPointRow("TH-03-C01", "Nguyễn Văn An", "email", "an@example.vn")
    an_console = FocalPointRow("TH-03-C01", "Nguyễn Văn An", "console", "TH-03-C01")
    hoa = FocalPointRow("TH-03", "Lê Thị Hoa", "email", "hoa@example.vn")
    assert await load_focal_points(db, [an, an_console, hoa], replace=False) == LoadResult(3, 0, 0)
    before = {r.address: r.id for rs in (await recipients_by_unit(db)).values() for r in rs}

    binh = FocalPointRow("TH-03-C01", "Trần Văn Bình", "email", "binh@example.vn")
    assert await load_focal_points(db, [an, binh], replace=True) == LoadResult(added=1, retired=1, kept=1)
    now = await recipients_by_unit(db)
    assert [(r.name, r.address) for r in now["TH-03-C01"]] == [("Nguyễn Văn An", "an@example.vn"), ("Trần Văn Bình", "binh@example.vn")]
    assert now["TH-03-C01"][0].id == before["an@example.vn"]
    assert [r.id for r in now["TH-03"]] == [before["hoa@example.vn"]]  # a unit not in the file is untouched
    retired = await db.fetchrow("SELECT active, retired_at FROM focal_points WHERE id = $1", before["TH-03-C01"])
    assert retired["active"] is False and retired["retired_at"] is not None

    # A new name for the same address is a new recipient: old notifications keep the old name.
    renamed = FocalPointRow("TH-03-C01", "Nguyễn Văn Ân", "email", "an@example.vn")
    assert await load_focal_points(db, [renamed], replace=False) == LoadResult(added=1, retired=1, kept=0)
    names = [r.name for r in (await recipients_by_unit(db))["TH-03-C01"]]
    assert names == ["Trần Văn Bình", "Nguyễn Văn Ân"]


async def test_demo_focal_points_load_once(db):
    rows = demo_focal_points(demo_org())
    assert (await load_focal_points(db, rows, replace=False)).added == len(rows)
    assert await load_focal_points(db, rows, replace=True) == LoadResult(0, 0, len(rows))
    assert sum(len(v) for v in (await recipients_by_unit(db)).values()) == len(rows)


async def test_cli_hours(database, db, tmp_path):
    good = tmp_path / "hours.csv"
    good.write_text("unit_code,starts,ends\nTH-03,06:30,21:00\nTH-03-C01,08:00,17:00\n")
    code, out, _ = await tally06(database, "targets", "hours", str(good), "--from", "2024-10-20")
    assert code == 0 and "saved 2 working hours from 2024-10-20" in out, out
    assert (await working_hours_on(db, dt.date(2024, 10, 20)))["TH-03"] == hours("06:30", "21:00")

    bad = tmp_path / "bad.csv"
    bad.write_text("unit_code,starts,ends\nTH-04,07:00,20:00\nTH-05,22:00,06:00\n")
    code, out, err = await tally06(database, "targets", "hours", str(bad), "--from", "2024-10-21")
    assert code == 1 and "1 valid rows, 1 bad rows; saved 0" in out, out
    assert "ends" in err
    code, out, _ = await tally06(database, "targets", "hours", str(bad), "--from", "2024-10-21", "--partial")
    assert code == 0 and "saved 1" in out, out
    assert set(await working_hours_on(db, dt.date(2024, 10, 21))) == {"TH-03", "TH-03-C01", "TH-04"}


async def test_cli_focal_points(database, db, tmp_path):
    first = tmp_path / "focal.csv"
    first.write_text("unit_code,name,channel,address\n"
                     "TH-03-C01,Nguyễn Văn An,email,an@example.vn\n"
                     "TH-03-C01,Nguyễn Văn An,console,TH-03-C01\n"
                     "TH-03,Lê Thị Hoa,webhook,https://chat.example.vn/hooks/th03\n", encoding="utf-8")
    code, out, _ = await tally06(database, "focal-points", "load", str(first))
    assert code == 0 and "3 added, 0 kept, 0 retired" in out, out

    second = tmp_path / "commune.csv"
    second.write_text("unit_code,name,channel,address\nTH-03-C01,Nguyễn Văn An,email,an@example.vn\n", encoding="utf-8")
    code, out, _ = await tally06(database, "focal-points", "load", str(second), "--replace")
    assert code == 0 and "0 added, 1 kept, 1 retired" in out, out

    code, out, _ = await tally06(database, "focal-points", "list", "--unit", "TH-03-C01")
    assert code == 0 and "an@example.vn" in out and "TH-03-C01" in out and "chat.example.vn" not in out, out
    code, out, _ = await tally06(database, "focal-points", "list")
    assert code == 0 and "an@example.vn" in out and "chat.example.vn" in out, out

    bad = tmp_path / "bad.csv"
    bad.write_text("unit_code,name,channel,address\n"
                   "TH-03-C02,Trần Văn Bình,email,binh@example.vn\n"
                   "TH-03-C01-T1,Tổ trưởng,email,t1@example.vn\n", encoding="utf-8")
    code, out, err = await tally06(database, "focal-points", "load", str(bad), "--replace")
    assert code == 1 and "1 valid rows, 1 bad rows; nothing saved" in out, out
    assert "unit_code" in err
    assert "TH-03-C02" not in await recipients_by_unit(db)
