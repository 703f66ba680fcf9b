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


async def test_files_name_the_units_of_the_map_in_force_when_they_take_effect(database, db, tmp_path):
    """After a two-tier map (communes directly under the province from 1 July 2025), plan 70's
    targets of 2023 still name the 2023 districts, and a sheet for after the change numbers the
    province's communes; daily targets and hours may be given to the province itself."""
    from tally06.domain.org import OrgRegistry, Unit, UnitKind
    from tally06.domain.org_maps import Change, MappingRow
    from tally06.domain.targets import rollup_campaign_targets
    from tally06.store.org import load_org, save_map
    from tally06.store.targets import daily_targets_on
    from tally06.store.working_hours import working_hours_on

    old = await load_org(db)
    units = [Unit("TH", "Tỉnh Thanh Hóa", UnitKind.PROVINCE, None)]
    units += [Unit(c.code, c.name, UnitKind.COMMUNE, "TH") for c in old.units(UnitKind.COMMUNE)]
    units += [u for u in old.units(UnitKind.TEAM)]
    mapping = [MappingRow(n, d.code, "TH", Change.DISSOLVE) for n, d in enumerate(old.units(UnitKind.DISTRICT), start=2)]
    async with db.transaction():
        await save_map(db, OrgRegistry(units), effective_from=dt.date(2025, 7, 1), mapping=mapping, backdate=True)

    code, out, err = await tally06(database, "targets", "import", str(REFERENCE), "--valid-from", "2023-03-24T00:00+07:00")
    assert code == 0 and "saved 27" in out, out + err

    communes = sorted(c.code for c in old.units(UnitKind.COMMUNE))
    sheet = tmp_path / "communes.csv"
    sheet.write_text("no,unit_name,target_total,target_level1,target_level2\n"
                     f"1,,1000,800,200\n2,,600,500,100\n,{old.get(communes[4]).name},300,200,100\n", encoding="utf-8")
    code, out, err = await tally06(database, "targets", "import", str(sheet), "--valid-from", "2025-07-01T00:00+07:00")
    assert code == 0 and "saved 3" in out, out + err
    # the same sheet in force before the change would name districts: row 1 is TH-01, but the
    # third row's commune name is not a district's
    code, out, err = await tally06(database, "targets", "import", str(sheet), "--valid-from", "2025-06-30T00:00+07:00")
    assert code == 1 and "1 bad rows" in out, out + err

    after = await campaign_targets_at(db, dt.datetime(2025, 7, 2, tzinfo=dt.UTC))
    assert {code: after[code].total for code in communes[:2] + [communes[4]]} == {
        communes[0]: 1000, communes[1]: 600, communes[4]: 300}
    assert rollup_campaign_targets(await load_org(db, dt.date(2025, 7, 2)), after)["TH"].total == 1900
    before = await campaign_targets_at(db, dt.datetime(2023, 4, 1, tzinfo=dt.UTC))
    assert rollup_campaign_targets(await load_org(db, dt.date(2023, 4, 1)), before)["TH"].total == 3_243_976

    daily = tmp_path / "daily.csv"
    daily.write_text(f"unit_code,metric,target\nTH,activated,5000\n{communes[0]},activated,40\n")
    code, out, err = await tally06(database, "targets", "daily", str(daily), "--from", "2025-07-01")
    assert code == 0 and "saved 2" in out, out + err
    assert (await daily_targets_on(db, dt.date(2025, 7, 1)))[("TH", "activated")] == 5000
    # Rows stay in force until replaced: from June they may name a district (June's map) or a
    # unit of the map that follows; from August, the districts are gone.
    district = tmp_path / "district.csv"
    district.write_text("unit_code,metric,target\nTH-01,activated,700\n")
    code, out, err = await tally06(database, "targets", "daily", str(district), "--from", "2025-06-01")
    assert code == 0 and "saved 1" in out, out + err
    code, out, err = await tally06(database, "targets", "daily", str(district), "--from", "2025-08-01")
    assert code == 1 and "'TH-01' is not a known unit" in err, out + err
    hours = tmp_path / "hours.csv"
    hours.write_text("unit_code,starts,ends\nTH,07:00,21:00\n")
    code, out, err = await tally06(database, "targets", "hours", str(hours), "--from", "2025-07-01")
    assert code == 0, out + err
    assert (await working_hours_on(db, dt.date(2025, 7, 1)))["TH"].start == dt.time(7, 0)
