"""`tally06 goals set` and `goals list` as a user runs them, on the configured clock."""

from __future__ import annotations

import datetime as dt

from tally06.contract.events import LOCAL_TZ
from tally06.domain.registry import RegistryRecord, RegistryStatus
from tally06.kit.clock import FileClock
from tests.support.cli import tally06
from tests.support.registry_citizen_rows import new_keys, write_extract


async def test_set_then_list_with_the_rate_needed_and_the_forecast(database, db, tmp_path):
    keys = new_keys(40)
    await write_extract(db, dt.datetime(2024, 10, 24, 23, tzinfo=LOCAL_TZ), [
        RegistryRecord(k, RegistryStatus.APPROVED, 2, "TH-03-C04", approved_on=dt.date(2024, 10, 20)) for k in keys])
    clock = FileClock(tmp_path / "clock")
    clock.set(dt.datetime(2024, 10, 25, 9, tzinfo=LOCAL_TZ))
    env = {"TALLY06_CLOCK": f"file:{clock.path}"}

    code, out, err = await tally06(database, "goals", "set", "--unit", "TH-03", "--list", "approved_not_activated",
                                   "--share", "100", "--by", "2024-11-30", "--actor", "focal-th03", **env)
    assert code == 0, out + err
    assert "100 % of 40 approved, not activated in TH-03 = 40 by 2024-11-30" in out
    code, out, err = await tally06(database, "goals", "set", "--unit", "TH-03", "--list", "not_registered",
                                   "--share", "80", "--by", "2024-12-20", "--baseline", "20058", **env)
    assert code == 0, out + err
    assert "= 16047 by 2024-12-20" in out  # 80 % of 20,058 = 16,046.4, rounded up
    entry = await db.fetchrow("SELECT actor, unit, detail->>'summary' AS summary FROM audit_log "
                              "WHERE action = 'goals.set' ORDER BY id LIMIT 1")
    assert (entry["actor"], entry["unit"]) == ("focal-th03", "TH-03") and "40" in entry["summary"]

    # 10 of the 40 activated by 11-04; listed on 11-05: 30 left over 11-05..11-30 = 26 days →
    # 2 a day (26 × 1 < 30 ≤ 26 × 2); pace 10 over 11 days (10-25..11-04) → 30 / 0.909 = 33 days
    # counting 11-05 → 2024-12-07.
    await write_extract(db, dt.datetime(2024, 11, 4, 23, tzinfo=LOCAL_TZ), [
        RegistryRecord(k, RegistryStatus.ACTIVATED, 2, "TH-03-C04", approved_on=dt.date(2024, 10, 20),
                       activated_on=dt.date(2024, 11, 1)) for k in keys[:10]])
    clock.set(dt.datetime(2024, 11, 5, 9, tzinfo=LOCAL_TZ))
    code, out, err = await tally06(database, "goals", "list", "--unit", "TH-03", **env)
    assert code == 0, out + err
    rows = [line.split("│") for line in out.splitlines() if "TH-03" in line]
    cells = [[c.strip() for c in row if c.strip()] for row in rows]
    assert cells[0][5:] == ["40", "40", "10", "30", "2", "2024-12-07", "no"], out
    assert cells[1][6:9] == ["16,047", "0", "16,047"], out
    assert "no pace yet" in out

    code, out, err = await tally06(database, "goals", "set", "--unit", "TH-03", "--list", "not_registered",
                                   "--by", "2024-12-20", **env)
    assert code == 2 and "--baseline" in err
    code, out, err = await tally06(database, "goals", "set", "--unit", "TH-03", "--list", "approved_not_activated",
                                   "--share", "abc", "--by", "2024-12-20", **env)
    assert code == 2 and "--share" in err
