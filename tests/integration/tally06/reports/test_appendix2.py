"""Appendix II, the per-officer report and the audit log, on events posted through the real
ingest service (so personal data is sealed exactly as in production)."""

from __future__ import annotations

import csv
import datetime as dt

import asyncpg
import httpx
import openpyxl
import pytest

from tally06.contract.events import LOCAL_TZ
from tally06.domain.accounts import Role
from tests.support import factories
from tests.support.cli import tally06
from tests.support.sessions import signed_in

TEAM, OTHER_TEAM, ELSEWHERE = "TH-03-C01-T1", "TH-03-C02-T1", "TH-04-C01-T1"
NAMES = ["Lê Thị Hoa", "Nguyễn Văn An", "Trần Minh", "Phạm Thị Thu Hà"]


async def post(service, token: str, events: list[dict]) -> list[str]:
    async with httpx.AsyncClient(base_url=service.url, timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}) as client:
        response = await client.post("/v1/events", json={"events": events})
    assert response.status_code == 200, response.text
    return [r["status"] for r in response.json()["results"]]


def masked_name(name: str) -> str:
    *first, last = name.split()
    return " ".join([*(p[0] + "." for p in first), last])


@pytest.fixture
async def posted(start_service, make_token):
    """12 activations by officer A, 3 by B (TH-03-C01-T1); noise that must not be listed."""
    service = start_service("ingest")
    token, other, elsewhere = await make_token(TEAM), await make_token(OTHER_TEAM), await make_token(ELSEWHERE)
    base = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    listed = []
    for i in range(15):
        body = factories.citizen(full_name=NAMES[i % len(NAMES)])
        officer = "CA-TH03-000A" if i < 12 else "CA-TH03-000B"
        # posted in shuffled order: the list follows occurred_at, not arrival
        listed.append(factories.event(team=TEAM, officer=officer, level=1 + i % 2, citizen_body=body,
                                      occurred_at=base + dt.timedelta(minutes=(i * 7) % 15 * 3)))
    assert await post(service, token, listed) == ["accepted"] * 15
    noise_other_team = factories.event(team=OTHER_TEAM, officer="CA-TH03-000C", level=listed[0]["level"],
                                       citizen_body=listed[0]["citizen"])  # duplicate claim
    noise_installed = factories.event(team=TEAM, type="app_installed", level=None)
    noise_elsewhere = factories.event(team=ELSEWHERE, officer="CA-TH04-0001")
    assert await post(service, other, [noise_other_team]) == ["accepted"]
    assert await post(service, token, [noise_installed]) == ["accepted"]
    assert await post(service, elsewhere, [noise_elsewhere]) == ["accepted"]
    cutoff = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    listed.sort(key=lambda e: e["occurred_at"])
    return listed, cutoff


def expected_rows(listed: list[dict], clear: bool) -> list[list]:
    rows = []
    for i, e in enumerate(listed, start=1):
        c = e["citizen"]
        name, cccd, phone = c["full_name"], c["id_number"], c["phone"]
        if not clear:
            name, cccd, phone = masked_name(name), cccd[:3] + "******" + cccd[-3:], phone[:3] + "****" + phone[-3:]
        when = dt.datetime.fromisoformat(e["occurred_at"]).astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")
        rows.append([i, name, cccd, phone, e["level"], e["officer"], e["team"], when, i])
    return rows


def sheet_rows(path) -> list[list]:
    sheet = openpyxl.load_workbook(path).active
    return [[sheet.cell(r, c).value for c in range(1, 10)] for r in range(6, sheet.max_row + 1)]


async def test_appendix2_masked_clear_refused_and_audited(posted, database, db, tmp_path):
    listed, cutoff = posted
    masked = tmp_path / "a2.xlsx"
    code, out, err = await tally06(database, "report", "appendix2", "--unit", "TH-03", "--to",
                                   cutoff.isoformat(), "--out", str(masked), "--actor", "clerk")
    assert code == 0, out + err
    assert sheet_rows(masked) == expected_rows(listed, clear=False)
    for row in sheet_rows(masked):  # nothing clear in a masked export
        assert all(e["citizen"]["id_number"] not in row for e in listed)

    clear = tmp_path / "a2-clear.xlsx"
    code, out, err = await tally06(database, "report", "appendix2", "--unit", "TH-03-C01", "--to",
                                   cutoff.isoformat(), "--out", str(clear), "--clear", "--role", "police",
                                   "--actor", "inspector")
    assert code == 0, out + err
    assert sheet_rows(clear) == expected_rows(listed, clear=True)
    assert openpyxl.load_workbook(clear).active.cell(6, 3).number_format == "@"  # CCCD as text

    refused = tmp_path / "a2-refused.xlsx"
    code, out, err = await tally06(database, "report", "appendix2", "--unit", "TH-03", "--to",
                                   cutoff.isoformat(), "--out", str(refused), "--clear", "--actor", "clerk")
    assert code == 3 and "may not export clear" in err and not refused.exists()

    # a later period: only the later activations, running total from 1 again
    middle = dt.datetime.fromisoformat(listed[7]["occurred_at"])
    part = tmp_path / "a2.csv"
    code, out, err = await tally06(database, "report", "appendix2", "--unit", "TH-03", "--from",
                                   middle.isoformat(), "--to", cutoff.isoformat(), "--out", str(part))
    assert code == 0, out + err
    with part.open(encoding="utf-8-sig") as f:
        table = list(csv.reader(f))[1:]
    assert [r[0] for r in table] == [r[-1] for r in table] == [str(i) for i in range(1, 8)]
    assert [r[2] for r in table] == [e["citizen"]["id_number"][:3] + "******" + e["citizen"]["id_number"][-3:]
                                     for e in listed[8:]]
    # a cutoff before the events arrived lists none of them, even though they occurred before it
    early = tmp_path / "a2-early.csv"
    code, out, err = await tally06(database, "report", "appendix2", "--unit", "TH-03", "--to",
                                   middle.isoformat(), "--out", str(early))
    assert code == 0, out + err
    with early.open(encoding="utf-8-sig") as f:
        assert len(list(csv.reader(f))) == 1

    audit = await db.fetch("SELECT actor, role, action, unit, clear_pii, row_count, target FROM audit_log ORDER BY id")
    assert [(r["actor"], r["action"], r["unit"], r["clear_pii"], r["row_count"]) for r in audit] == [
        ("clerk", "export.appendix2", "TH-03", False, 15),
        ("inspector", "export.appendix2", "TH-03-C01", True, 15),
        ("clerk", "export.appendix2.refused", "TH-03", True, 0),
        (audit[3]["actor"], "export.appendix2", "TH-03", False, 7),
        (audit[3]["actor"], "export.appendix2", "TH-03", False, 0),
    ]
    assert audit[1]["role"] == "police" and audit[1]["target"] == str(clear.resolve())
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("UPDATE audit_log SET actor = 'nobody'")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("DELETE FROM audit_log")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("TRUNCATE audit_log")


async def test_officer_report_applies_the_ten_citizen_rule(posted, database, db, tmp_path):
    _, cutoff = posted
    path = tmp_path / "officers.xlsx"
    code, out, err = await tally06(database, "report", "officers", "--unit", "TH-03", "--to",
                                   cutoff.isoformat(), "--out", str(path))
    assert code == 0, out + err
    book = openpyxl.load_workbook(path)
    officers = book["Theo cán bộ"]
    rows = [[officers.cell(r, c).value for c in range(1, 8)] for r in range(4, officers.max_row + 1)]
    # A: 12 citizens, 6 each level; B: 3 (levels of i = 12, 13, 14 -> 1, 2, 1); the duplicate
    # claim of C is not credited, so C does not appear at all
    assert rows == [[1, TEAM, "CA-TH03-000A", 6, 6, 12, "Đạt"],
                    [2, TEAM, "CA-TH03-000B", 2, 1, 3, "Chưa đạt"]]
    teams = book["Theo tổ"]
    team_rows = {teams.cell(r, 2).value: [teams.cell(r, c).value for c in range(4, 9)]
                 for r in range(4, teams.max_row + 1)}
    assert team_rows[TEAM] == [2, 1, 8, 7, 15]
    assert team_rows[OTHER_TEAM] == [0, 0, 0, 0, 0]
    assert all(code.startswith("TH-03-") for code in team_rows)
    assert "1 below 10" in " ".join(out.split())
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'export.officers'") == 1

    csv_path = tmp_path / "officers.csv"
    code, out, err = await tally06(database, "report", "officers", "--unit", "TH-03-C01-T1", "--to",
                                   cutoff.isoformat(), "--out", str(csv_path))
    assert code == 0, out + err
    with csv_path.open(encoding="utf-8-sig") as f:
        assert list(csv.reader(f))[1:] == [[TEAM, "CA-TH03-000A", "6", "6", "12", "yes"],
                                           [TEAM, "CA-TH03-000B", "2", "1", "3", "no"]]


async def test_appendix1_counts_what_ingest_stored(posted, database, tmp_path):
    """The same rule on events written by the real ingest (not by a test's SQL): 15 credited
    activations in TH-03 (8 level 1, 7 level 2), the other team's duplicate claim not counted,
    1 in TH-04; nothing before the events arrived."""
    _, cutoff = posted
    for at, th03, th04 in ((cutoff, [8, 7, 15], [1, 0, 1]),
                           (cutoff - dt.timedelta(hours=3), [0, 0, 0], [0, 0, 0])):
        path = tmp_path / f"a1-{at:%H%M%S}.xlsx"
        code, out, err = await tally06(database, "report", "appendix1", "--unit", "TH", "--cutoff",
                                       at.isoformat(), "--out", str(path))
        assert code == 0, out + err
        sheet = openpyxl.load_workbook(path).active
        rows = {sheet.cell(r, 1).value: [sheet.cell(r, c).value for c in (6, 7, 8)] for r in range(7, 35)}
        assert rows[3] == th03 and rows[4] == th04
        assert rows[None] == [th03[i] + th04[i] for i in range(3)]
        assert sum(v[2] for k, v in rows.items() if k not in (None, 3, 4)) == 0


async def test_appendix2_and_officers_over_the_api_follow_the_signed_in_role(posted, own_broker, database, db,
                                                                             start_service, tmp_path):
    listed, cutoff = posted
    wallboard = start_service("wallboard", bootstrap=own_broker.bootstrap)
    district = await signed_in(database, wallboard.url, Role.DISTRICT_FOCAL, "TH-03")
    commune = await signed_in(database, wallboard.url, Role.COMMUNE_FOCAL, "TH-03-C01")
    query = {"cutoff": cutoff.isoformat()}
    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30) as client:
        async def download(headers: dict[str, str], name: str, path: str = "/v1/reports/appendix2", **params):
            response = await client.get(path, params={**query, **params}, headers=headers)
            if response.status_code == 200:
                (tmp_path / name).write_bytes(response.content)
            return response

        # The district police may read citizens in clear; the commune sees them masked.
        assert (await download(district, "clear.xlsx", clear="true")).status_code == 200
        assert sheet_rows(tmp_path / "clear.xlsx") == expected_rows(listed, clear=True)
        assert (await download(commune, "masked.xlsx")).status_code == 200  # its own commune by default
        assert sheet_rows(tmp_path / "masked.xlsx") == expected_rows(listed, clear=False)
        refused = await download(commune, "refused.xlsx", clear="true")
        assert refused.status_code == 403 and refused.json()["detail"][0]["field"] == "clear"
        assert (await download(commune, "other.xlsx", unit="TH-03-C02")).status_code == 403
        assert (await download(district, "th04.xlsx", unit="TH-04")).status_code == 403
        officers = await download(district, "officers.csv", "/v1/reports/officers", format="csv")
        assert officers.status_code == 200 and "CA-TH03-000A" in officers.text
        assert all(e["citizen"]["id_number"] not in officers.text for e in listed)
    audit = await db.fetch("SELECT actor, role, action, unit, clear_pii, row_count FROM audit_log ORDER BY id")
    assert [(r["role"], r["action"], r["unit"], r["clear_pii"], r["row_count"]) for r in audit] == [
        ("district_focal", "export.appendix2", "TH-03", True, 15),
        ("commune_focal", "export.appendix2", "TH-03-C01", False, 15),
        ("commune_focal", "export.appendix2.refused", "TH-03-C01", True, 0),
        ("district_focal", "export.officers", "TH-03", False, 2),
    ]
