"""What a decided spot check changes on the read side (real wallboard and PostgreSQL): the
"failed spot check" mark on rankings, children tables and Appendix I (CSV and XLSX, as of the
report's cutoff), and the officers of failing outcomes in /v1/flags, within the user's scope.
The checks are written as the spot check store leaves them; which unit is marked and which
officer is listed is set out by hand below, from the checks' construction."""

from __future__ import annotations

import csv
import datetime as dt
import io

import httpx
import openpyxl

from tally06.contract.events import LOCAL_TZ
from tally06.domain.accounts import Role
from tests.support.sessions import bearer, make_user
from tests.support.spot_check_rows import Item, insert_check

C01, C02, C03, C04, OTHER = "TH-03-C01", "TH-03-C02", "TH-03-C03", "TH-03-C04", "TH-01-C01"
NOW = dt.datetime.now(dt.UTC)
EARLIER = NOW - dt.timedelta(days=2)  # a report's cutoff between C03's failure and its pass


def ok(team: str, k: int) -> list[Item]:
    return [Item(team, "CB-OK", "confirmed") for _ in range(k)]


async def test_marks_and_flags_follow_the_decided_checks(database, db, start_service):
    checks = {
        # C01 failed and marks figures: marked. Officers CB-A (2 not activated) and CB-B (1 not guided).
        C01: await insert_check(db, C01, "failed", NOW - dt.timedelta(hours=2), [
            *ok(f"{C01}-T1", 10), Item(f"{C01}-T1", "CB-A", "not_activated"),
            Item(f"{C01}-T1", "CB-A", "not_activated"), Item(f"{C01}-T2", "CB-B", "not_guided"),
            Item(f"{C01}-T2", "CB-B", "unreachable")]),
        # C02 failed but was drawn not to mark figures: no mark; its officer CB-C is still listed.
        C02: await insert_check(db, C02, "failed", NOW - dt.timedelta(hours=3), [
            *ok(f"{C02}-T1", 9), *[Item(f"{C02}-T1", "CB-C", "not_own_account")] * 4], marks_figures=False),
        # C04 passed (one failing outcome, CB-E, within its d).
        C04: await insert_check(db, C04, "passed", NOW - dt.timedelta(hours=1), [
            *ok(f"{C04}-T1", 15), Item(f"{C04}-T1", "CB-E", "not_guided")]),
        # OTHER failed, outside the district TH-03.
        OTHER: await insert_check(db, OTHER, "failed", NOW - dt.timedelta(hours=1), [
            *ok(f"{OTHER}-T1", 10), *[Item(f"{OTHER}-T1", "CB-D", "not_activated")] * 3]),
    }
    # C03 failed three days ago and passed yesterday: marked as of EARLIER, not now.
    c03_failed = await insert_check(db, C03, "failed", NOW - dt.timedelta(days=3), [
        *ok(f"{C03}-T1", 10), *[Item(f"{C03}-T1", "CB-F", "not_activated")] * 3])
    await insert_check(db, C03, "passed", NOW - dt.timedelta(days=1), ok(f"{C03}-T1", 16))
    # A later inconclusive check of C01 lifts nothing; an open one of C01 is nobody's business yet.
    await insert_check(db, C01, "inconclusive", NOW - dt.timedelta(hours=1), [Item(f"{C01}-T3", "CB-G", "unreachable")])
    await insert_check(db, C01, "open", None, [Item(f"{C01}-T3", "CB-OPEN", "not_activated")])
    await db.execute("INSERT INTO activity_flags VALUES ('CB-H', date_trunc('hour', localtimestamp), "
                     "$1, 60, 40, now(), now())", f"{C01}-T1")

    wallboard = start_service("wallboard")
    district = await bearer(wallboard.url, await make_user(database, Role.DISTRICT_FOCAL, "TH-03"))
    province = await bearer(wallboard.url, await make_user(database, Role.PROVINCE_OPERATOR, "TH"))
    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30, headers=district) as client:
        for path, params in (("/v1/units/TH-03/children", {}),
                             ("/v1/leaderboard", {"level": "commune", "parent": "TH-03"})):
            answer = await client.get(path, params=params)
            assert answer.status_code == 200, answer.text
            marks = {e["unit"]["code"]: e["spot_check"] for e in answer.json()["entries"]}
            assert set(marks) == {C01, C02, C03, C04, "TH-03-C05"}
            assert {code for code, mark in marks.items() if mark is not None} == {C01}
            assert marks[C01]["id"] == checks[C01] and marks[C01]["status"] == "failed"
            assert dt.datetime.fromisoformat(marks[C01]["decided_at"]) == NOW - dt.timedelta(hours=2)

        answer = await client.get("/v1/reports/appendix1", params={"unit": "TH-03", "format": "csv"})
        assert answer.status_code == 200, answer.text
        rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
        marked = {r["unit_code"]: (r["spot_check_id"], r["spot_check"]) for r in rows if r["spot_check"]}
        assert marked == {C01: (str(checks[C01]), f"Không đạt (#{checks[C01]})")}

        answer = await client.get("/v1/reports/appendix1", params={"unit": "TH-03", "format": "xlsx",
                                                                   "cutoff": EARLIER.isoformat()})
        assert answer.status_code == 200, answer.text
        sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
        assert sheet.cell(5, 11).value == "Kiểm tra xác suất"
        cells = {sheet.cell(r, 2).value: sheet.cell(r, 11).value for r in range(7, sheet.max_row + 1)}
        assert {name: v for name, v in cells.items() if v} == {_name(rows, C03): f"Không đạt (#{c03_failed})"}

        flags = (await client.get("/v1/flags")).json()
        spot = {(f["officer"], f["team"], f["check_id"], f["outcome"], f["count"]) for f in flags
                if f["kind"] == "spot_check"}
        assert spot == {
            ("CB-A", f"{C01}-T1", checks[C01], "not_activated", 2), ("CB-B", f"{C01}-T2", checks[C01], "not_guided", 1),
            ("CB-C", f"{C02}-T1", checks[C02], "not_own_account", 4),
            ("CB-E", f"{C04}-T1", checks[C04], "not_guided", 1), ("CB-F", f"{C03}-T1", c03_failed, "not_activated", 3)}
        hourly = [f for f in flags if f["kind"] == "hourly_activations"]
        assert [(f["officer"], f["activations"], f["threshold"], f["check_id"]) for f in hourly] == [
            ("CB-H", 60, 40, None)]
        # Since the local day two days ago: C03's failure three days ago drops out.
        since = EARLIER.astimezone(LOCAL_TZ).date()
        recent = (await client.get("/v1/flags", params={"since": since.isoformat()})).json()
        assert "CB-F" not in {f["officer"] for f in recent} and "CB-A" in {f["officer"] for f in recent}
        assert (await client.get("/v1/flags", params={"unit": "TH-01"})).status_code == 403

    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30, headers=province) as client:
        officers = {f["officer"] for f in (await client.get("/v1/flags")).json() if f["kind"] == "spot_check"}
        assert officers == {"CB-A", "CB-B", "CB-C", "CB-D", "CB-E", "CB-F"}
        entries = (await client.get("/v1/units/TH-01/children")).json()["entries"]
        assert {e["unit"]["code"]: e["spot_check"]["id"] for e in entries if e["spot_check"]} == {
            OTHER: checks[OTHER]}


def _name(rows: list[dict[str, str]], code: str) -> str:
    return next(r["unit_name"] for r in rows if r["unit_code"] == code)
