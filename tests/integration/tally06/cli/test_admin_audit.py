"""Admin changes through the CLI leave one audit entry each, without secrets or personal data,
and `tally06 audit list` reads them back."""

from __future__ import annotations

import datetime as dt
import re

from tally06.imports.org_csv import to_org_csv
from tally06.imports.reference import demo_org
from tests.support.cli import tally06

TEAM = "TH-03-C01-T1"


async def entries(db) -> list[tuple]:
    return [(r["actor"], r["role"], r["action"], r["unit"], r["target"], r["row_count"])
            for r in await db.fetch("SELECT * FROM audit_log ORDER BY id")]


async def whole_log(db) -> str:
    return "\n".join(r["row"] for r in await db.fetch("SELECT t::text AS row FROM audit_log t"))


async def test_token_issue_and_revoke_are_audited_without_the_token(database, db):
    code, out, err = await tally06(database, "token", "issue", "--team", TEAM, "--label", "Lê Thị Hoa, tổ 1",
                                   "--actor", "alice")
    assert code == 0, err
    token = out.strip()
    token_id = re.search(r"token id (\w+)", err)[1]
    code, _, err = await tally06(database, "token", "revoke", token_id, "--actor", "bob")
    assert code == 0, err

    assert await entries(db) == [("alice", "admin", "token.issue", TEAM, f"token {token_id}", 1),
                                 ("bob", "admin", "token.revoke", TEAM, f"token {token_id}", 1)]
    log = await whole_log(db)
    assert token not in log and token.split("_")[-1] not in log  # never the secret
    assert "Lê Thị Hoa" not in log  # the label may name the holder

    # Refused changes change nothing and leave no entry.
    code, _, _ = await tally06(database, "token", "issue", "--team", "TH-99-C01-T1", "--actor", "alice")
    assert code == 2
    code, _, _ = await tally06(database, "token", "revoke", token_id, "--actor", "bob")
    assert code == 1
    assert len(await entries(db)) == 2

    # Without --actor: the OS user.
    code, _, err = await tally06(database, "token", "issue", "--team", TEAM, USER="operator7")
    assert code == 0, err
    assert (await entries(db))[-1][:3] == ("operator7", "admin", "token.issue")


async def test_imports_are_audited_and_listed(database, db, tmp_path):
    org = tmp_path / "org.csv"
    org.write_text(to_org_csv(demo_org().units()) + "TH-03-C01-T9,Tổ 9,team,TH-03-C01\n", encoding="utf-8")
    daily = tmp_path / "daily.csv"
    daily.write_text("unit_code,metric,target\nTH-03-C01-T9,activated,40\nTH-03-C01-T1,activated,35\n")
    bad_daily = tmp_path / "bad_daily.csv"
    bad_daily.write_text("unit_code,metric,target\nTH-99,activated,40\n")
    phases = tmp_path / "phases.csv"
    phases.write_text("unit_code,phase,starts,ends,goal\nTH,Đợt 1,2025-01-01,2025-03-31,100000\n", encoding="utf-8")
    focal = tmp_path / "focal.csv"
    focal.write_text("unit_code,name,channel,address\nTH-03-C01,Trần Thị Bình,email,binh@example.vn\n"
                     "TH-03,Phạm Văn Cường,console,cuong\n", encoding="utf-8")

    for args in (["org", "load", str(org)], ["targets", "daily", str(daily), "--from", "2025-01-06"],
                 ["targets", "daily", str(bad_daily)], ["targets", "phases", str(phases), "--valid-from",
                                                        "2025-01-01T00:00+07:00"],
                 ["focal-points", "load", str(focal)]):
        code, out, err = await tally06(database, *args, "--actor", "carol")
        assert code == (1 if args[-1] == str(bad_daily) else 0), out + err

    units = len(demo_org().units()) + 1
    assert await entries(db) == [
        ("carol", "admin", "org.load", None, "org.csv", units),
        ("carol", "admin", "targets.daily", None, "daily.csv", 2),
        ("carol", "admin", "targets.phases", None, "phases.csv", 1),
        ("carol", "admin", "focal-points.load", None, "focal.csv", 2),
    ]
    daily_entry = await db.fetchrow("SELECT period_from, detail::jsonb->>'summary' AS summary FROM audit_log "
                                    "WHERE action = 'targets.daily'")
    assert daily_entry["period_from"] == dt.datetime(2025, 1, 5, 17, 0, tzinfo=dt.UTC)  # 2025-01-06 local
    assert daily_entry["summary"] == "2 daily targets from daily.csv from 2025-01-06"
    log = await whole_log(db)
    for personal in ("Trần Thị Bình", "binh@example.vn", "Phạm Văn Cường"):
        assert personal not in log

    code, out, err = await tally06(database, "audit", "list", "--action", "targets")
    assert code == 0, err
    assert "targets.daily" in out and "targets.phases" in out and "org.load" not in out
    assert "2 entries" in err
    code, out, err = await tally06(database, "audit", "list", "--since", dt.date.today().isoformat())
    assert code == 0, err
    for action in ("org.load", "targets.daily", "targets.phases", "focal-points.load"):
        assert action in out
    assert f"{units} units from org.csv" in out and "1 added, 0 kept, 0 retired" not in out
    assert "2 added, 0 kept, 0 retired" in out
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    code, out, err = await tally06(database, "audit", "list", "--since", tomorrow)
    assert code == 0 and "0 entries" in err, out + err
