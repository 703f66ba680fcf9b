"""Appendix I on the confirmed basis (real PostgreSQL, read API and CLI): of the activations the
claimed table counts for a cutoff, those the national registry confirmed; the title, the CSV
and the audit entry say which basis. The reconciler's verdicts are written into claim_states
by the test; the expected rows are counted by hand from the events below."""

from __future__ import annotations

import csv
import datetime as dt
import io

import httpx
import openpyxl

from tests.integration.tally06.reports.test_appendix1 import store
from tests.support.cli import tally06
from tests.support.sessions import signed_in

VN = dt.timezone(dt.timedelta(hours=7))
CUTOFF = dt.datetime(2023, 4, 30, 17, 0, tzinfo=VN)


def activation(citizen: str, team: str, level: int, days_before: float, late: bool = False) -> dict:
    occurred = CUTOFF - dt.timedelta(days=days_before)
    received = CUTOFF + dt.timedelta(hours=2) if late else occurred + dt.timedelta(minutes=5)
    return {"citizen": citizen, "metric": f"activated_l{level}", "team": team, "officer": "CA-T",
            "occurred_at": occurred, "received_at": received}


# citizen → (team, level, registry state or None when not reconciled yet, arrived after the cutoff)
CLAIMS = {
    **{f"a{n}": ("TH-03-C01-T1", 2, "confirmed", False) for n in range(6)},
    "a6": ("TH-03-C01-T1", 2, "unconfirmed", False), "a7": ("TH-03-C01-T1", 2, "unconfirmed", False),
    "a8": ("TH-03-C01-T1", 2, "pending", False), "a9": ("TH-03-C01-T1", 2, None, False),
    "b0": ("TH-03-C02-T1", 1, "confirmed", False), "b1": ("TH-03-C02-T1", 1, "confirmed", False),
    "b2": ("TH-03-C02-T1", 1, "already_active", False), "b3": ("TH-03-C02-T1", 1, "level_differs", False),
    **{f"c{n}": ("TH-01-C01-T1", 2, "confirmed", False) for n in range(3)},
    "c3": ("TH-01-C01-T1", 2, "confirmed", True),  # confirmed, but reached the store after the cutoff
}
# By hand: TH-03 claims 4 at level 1 and 10 at level 2, of which 2 and 6 confirmed; TH-01
# claims 3 (the fourth arrived late), all confirmed.
CLAIMED = {"TH-03": (4, 10), "TH-01": (0, 3)}
CONFIRMED = {"TH-03": (2, 6), "TH-01": (0, 3)}


async def write_states(db) -> None:
    seqs = {r["citizen_key"]: r["seq"] for r in await db.fetch("SELECT seq, citizen_key FROM events WHERE credited")}
    rows = [(seqs[citizen], citizen, team, "CA-T", CUTOFF.date(), level, state, CUTOFF.date() + dt.timedelta(days=7))
            for citizen, (team, level, state, _) in CLAIMS.items() if state is not None]
    await db.executemany("INSERT INTO claim_states (seq, citizen_key, team, officer, day, level, state, window_end) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", rows)


def csv_rows(text: str) -> dict[str, dict[str, str]]:
    return {r["unit_code"]: r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))) if r["unit_code"]}


def levels(row: dict[str, str]) -> tuple[int, int]:
    return int(row["activated_level1"]), int(row["activated_level2"])


async def test_appendix1_on_the_confirmed_basis(own_broker, database, db, start_service, tmp_path):
    await store(db, [activation(c, team, level, 3, late) for c, (team, level, _, late) in CLAIMS.items()])
    await write_states(db)
    wallboard = start_service("wallboard", bootstrap=own_broker.bootstrap)
    operator = await signed_in(database, wallboard.url)
    params = {"unit": "TH", "cutoff": CUTOFF.isoformat(), "format": "csv"}
    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30, headers=operator) as client:
        claimed = await client.get("/v1/reports/appendix1", params=params)
        confirmed = await client.get("/v1/reports/appendix1", params={**params, "basis": "confirmed"})
        sheet = await client.get("/v1/reports/appendix1", params={**params, "basis": "confirmed", "format": "xlsx"})
        refused = await client.get("/v1/reports/appendix1", params={**params, "basis": "reported"})
    assert claimed.status_code == confirmed.status_code == sheet.status_code == 200, confirmed.text
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "query.basis"
    assert "phu-luc-1-confirmed_TH_" in confirmed.headers["content-disposition"]
    for answer, expected, basis in ((claimed, CLAIMED, "claimed"), (confirmed, CONFIRMED, "confirmed")):
        rows = csv_rows(answer.text)
        assert {code: levels(rows[code]) for code in expected} == expected
        assert all(levels(row) == (0, 0) for code, row in rows.items() if code not in expected)
        assert {row["basis"] for row in rows.values()} == {basis}

    (tmp_path / "confirmed.xlsx").write_bytes(sheet.content)
    cells = openpyxl.load_workbook(tmp_path / "confirmed.xlsx").worksheets[0]
    assert cells.cell(3, 1).value.endswith("kích hoạt đã được hệ thống định danh quốc gia xác nhận")
    assert cells.cell(5, 6).value == "Số lượng tài khoản kích hoạt đã được xác nhận"
    total = [cells.cell(r, c).value for r in range(7, cells.max_row + 1) for c in (2, 6, 7, 8)
             if cells.cell(r, 2).value == "Tổng cộng"]
    assert total == ["Tổng cộng", 2, 9, 11]

    code, out, err = await tally06(database, "report", "appendix1", "--unit", "TH", "--cutoff", CUTOFF.isoformat(),
                                   "--out", str(tmp_path / "cli.csv"), "--basis", "confirmed")
    assert code == 0, err
    assert "basis: confirmed" in out
    assert {c: levels(r) for c, r in csv_rows((tmp_path / "cli.csv").read_text(encoding="utf-8-sig")).items()
            if c in CONFIRMED} == CONFIRMED

    audit = await db.fetch("SELECT action, detail->>'basis' AS basis FROM audit_log ORDER BY id")
    assert [(r["action"], r["basis"]) for r in audit] == [
        ("export.appendix1", "claimed"), ("export.appendix1", "confirmed"), ("export.appendix1", "confirmed"),
        ("export.appendix1", "confirmed")]
