"""Appendix I downloaded from the read API equals the independently computed table, and every
download is written to the audit log."""

from __future__ import annotations

import datetime as dt
import random

import httpx

from tally06.imports.reference import PLAN70_START, appendix1_targets
from tally06.store.targets import save_campaign_targets
from tests.integration.tally06.reports.test_appendix1 import expected_sheet, random_events, sheet_rows, store
from tests.support.sessions import signed_in

CUTOFF = dt.datetime(2023, 4, 30, 10, 0, tzinfo=dt.UTC)  # 17:00 in Hà Nội


async def test_appendix1_download_matches_and_is_audited(own_broker, database, db, start_service, tmp_path):
    await save_campaign_targets(db, appendix1_targets(), source="test", valid_from=PLAN70_START)
    rng = random.Random(61)
    events = random_events(rng, 600, CUTOFF - dt.timedelta(days=20), CUTOFF + dt.timedelta(days=5),
                           [f"c{n}" for n in range(300)])
    await store(db, events)
    wallboard = start_service("wallboard", bootstrap=own_broker.bootstrap)
    operator = await signed_in(database, wallboard.url)
    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30, headers=operator) as client:
        response = await client.get("/v1/reports/appendix1", params={"unit": "TH", "cutoff": "2023-04-30T17:00+07:00"})
        assert response.status_code == 200, response.text
        assert "phu-luc-1_TH_20230430T1000Z.xlsx" in response.headers["content-disposition"]
        (tmp_path / "downloaded.xlsx").write_bytes(response.content)
        targets = {t.unit_code: t for t in appendix1_targets()}
        assert sheet_rows(tmp_path / "downloaded.xlsx") == expected_sheet(events, CUTOFF, targets)

        naive = await client.get("/v1/reports/appendix1", params={"cutoff": "2023-04-30T17:00"})
        assert naive.status_code == 422 and naive.json()["detail"][0]["field"] == "cutoff"
        unknown = await client.get("/v1/reports/appendix1", params={"unit": "XX"})
        assert unknown.status_code == 404
        as_csv = await client.get("/v1/reports/appendix1", params={"cutoff": "2023-04-30T17:00+07:00", "format": "csv"})
        assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    audit = await db.fetch("SELECT action, unit, clear_pii FROM audit_log ORDER BY id")
    assert [tuple(r) for r in audit] == [("export.appendix1", "TH", False)] * 2
