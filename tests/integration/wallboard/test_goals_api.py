"""GET /v1/units/{code}/goals and /funnel on a running wallboard: figures worked out by hand, and
the same scope as the other unit routes (a user outside the unit gets 403, an unknown unit 404)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx

from tally06.contract.events import LOCAL_TZ, Metric
from tally06.domain.accounts import Role
from tally06.domain.registry import RegistryRecord, RegistryStatus
from tally06.kit.clock import FileClock
from tally06.store.backlog_goals import set_goal
from tests.support.registry_citizen_rows import new_keys, write_extract
from tests.support.sessions import signed_in

D = dt.date


def record(key: str, status: RegistryStatus, commune: str, collected: int, approved: int | None = None,
           activated: int | None = None) -> RegistryRecord:
    """A citizen whose stages fell on the given days of October 2024."""
    def day(n: int | None) -> dt.date | None:
        return D(2024, 10, n) if n is not None else None
    return RegistryRecord(key, status, 2, commune, None, day(collected), day(approved), day(activated))


async def test_goals_and_funnel_endpoints(own_broker, database, db, start_service, tmp_path):
    a, b, c, d, e, f = new_keys(6)
    # TH-03-C01: one collected, two approved (gaps 2 and 4 days), one activated (gaps 3 and 1).
    # TH-01-C01: one approved and one activated, outside Sầm Sơn.
    await write_extract(db, dt.datetime(2024, 10, 24, 23, tzinfo=LOCAL_TZ), [
        record(a, RegistryStatus.COLLECTED, "TH-03-C01", 1),
        record(b, RegistryStatus.APPROVED, "TH-03-C01", 1, 3),
        record(c, RegistryStatus.APPROVED, "TH-03-C02", 1, 5),
        record(d, RegistryStatus.ACTIVATED, "TH-03-C01", 1, 4, 5),
        record(e, RegistryStatus.APPROVED, "TH-01-C01", 2, 9),
        record(f, RegistryStatus.ACTIVATED, "TH-01-C01", 2, 12, 20),
    ])
    await db.execute("INSERT INTO unit_total (unit, metric, credited) VALUES ('TH-03', $1, 9)", Metric.INSTALLED.value)
    goal = await set_goal(db, unit="TH-03", list_name="approved_not_activated", share=Decimal(100),
                          due=D(2024, 11, 30), now=dt.datetime(2024, 10, 25, 8, tzinfo=LOCAL_TZ))
    # The registry then shows b activated on 10-28.
    await write_extract(db, dt.datetime(2024, 10, 30, 23, tzinfo=LOCAL_TZ),
                        [record(b, RegistryStatus.ACTIVATED, "TH-03-C01", 1, 3, 28)])

    clock = FileClock(tmp_path / "clock")
    clock.set(dt.datetime(2024, 10, 31, 10, tzinfo=LOCAL_TZ))
    wallboard = start_service("wallboard", bootstrap=own_broker.bootstrap, TALLY06_CLOCK=f"file:{clock.path}")
    district = await signed_in(database, wallboard.url, Role.DISTRICT_FOCAL, "TH-03")
    other_district = await signed_in(database, wallboard.url, Role.DISTRICT_FOCAL, "TH-01")
    commune = await signed_in(database, wallboard.url, Role.COMMUNE_FOCAL, "TH-03-C01")
    province = await signed_in(database, wallboard.url, Role.PROVINCE_OPERATOR, "TH")

    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30) as client:
        goals = await client.get("/v1/units/TH-03/goals", headers=district)
        assert goals.status_code == 200, goals.text
        # Baseline: b and c (approved, not activated, in Sầm Sơn on 10-25). On 10-31: b done, 1
        # left over 10-31..11-30 = 31 days → 1 a day; pace 1 over 6 days (10-25..10-30) = 1/6 a
        # day → 6 days counting 10-31 → 11-05, on track.
        assert goals.json() == {"unit": "TH-03", "goals": [{
            "id": goal.id, "list": "approved_not_activated", "share": 100.0, "due": "2024-11-30", "baseline": 2,
            "target": 2, "done": 1, "remaining": 1, "required_per_day": 1, "forecast_day": "2024-11-05",
            "on_track": True}]}
        assert (await client.get("/v1/units/TH-01/goals", headers=province)).json() == {"unit": "TH-01", "goals": []}

        funnel = await client.get("/v1/units/TH-03/funnel", headers=district)
        assert funnel.status_code == 200, funnel.text
        # Sầm Sơn: a, b, c, d collected; b, c, d approved; b, d activated. Collected → approved:
        # b 2, c 4, d 3 days → median 3; approved → activated: d 1, b 25 days → median 13.
        assert funnel.json() == {"unit": "TH-03", "stages": [
            {"stage": "installed", "count": 9}, {"stage": "collected", "count": 4},
            {"stage": "approved", "count": 3}, {"stage": "activated", "count": 2}],
            "median_days": [{"from": "collected", "to": "approved", "days": 3.0},
                            {"from": "approved", "to": "activated", "days": 13.0}]}
        # The commune TH-03-C01 as its own focal point sees it: a, b, d.
        own = (await client.get("/v1/units/TH-03-C01/funnel", headers=commune)).json()
        assert [s["count"] for s in own["stages"]] == [0, 3, 2, 2]
        # TH-01 to the province: e, f; collected → approved 7 and 10 days → 8.5; f 8 days.
        whole = (await client.get("/v1/units/TH-01/funnel", headers=province)).json()
        assert [s["count"] for s in whole["stages"]] == [0, 2, 2, 1]
        assert [g["days"] for g in whole["median_days"]] == [8.5, 8.0]

        # Scope: like the other unit routes.
        for path in ("/v1/units/TH-03/goals", "/v1/units/TH-03/funnel"):
            for outsider in (other_district, commune):
                refused = await client.get(path, headers=outsider)
                assert refused.status_code == 403, (path, refused.text)
                assert refused.json()["detail"][0]["field"] == "code"
            assert (await client.get(path)).status_code == 401
        for path in ("/v1/units/TH-99/goals", "/v1/units/TH-99/funnel"):
            missing = await client.get(path, headers=province)
            assert missing.status_code == 404 and missing.json()["detail"][0]["field"] == "code"
        too_long = await client.get(f"/v1/units/{'X' * 41}/funnel", headers=province)
        assert too_long.status_code == 422
