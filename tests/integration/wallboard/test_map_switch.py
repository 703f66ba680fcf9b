"""The read API and open boards follow a map switch: province HB of the national deployment
loses its districts (two communes merged, one moved up), the aggregator re-sums the read model in
the new map, and within seconds the wallboard answers in it, tells open streams, and keeps
nothing of the dissolved units (their focal points read nothing; their level is not ranked)."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io

import httpx
import pytest

from tally06.domain.accounts import Role
from tally06.store.org import save_map
from tests.integration.wallboard.expected import Truth, shown
from tests.integration.wallboard.test_national_map import (
    DAYS_LEFT,
    MAP,
    ROWS,
    SHARE,
    codes,
    daily_of,
    goal_of,
    posted_stack,
)
from tests.integration.wallboard.test_read_api import wait_for
from tests.support import factories
from tests.support.national_map import Map, count, hb_two_tier, national_database, registry
from tests.support.sessions import bearer, make_user
from tests.support.sse import sse_events

# HB becomes two-tier: its districts are dissolved, X1 and X2 of HB-D1 merge into HB-X12 (their
# teams keep their codes), HB-D2's only commune now sits directly under the province.
ROWS2, MAPPING = hb_two_tier(ROWS)
MAP2 = Map(ROWS2)


@pytest.fixture
async def database(postgres_server: str) -> str:
    return await national_database(postgres_server, ROWS)


async def listen(url: str, headers: dict[str, str], started: asyncio.Event, heard: list[tuple[str, dict]]) -> None:
    async with (httpx.AsyncClient(base_url=url, headers=headers, timeout=httpx.Timeout(5, read=None)) as client,
                client.stream("GET", "/v1/stream") as response):
        events = sse_events(response)
        await anext(events)  # hello
        started.set()
        async for kind, data, _ in events:
            heard.append((kind, data))


async def until(check, timeout_s: float = 20) -> None:
    for _ in range(int(timeout_s * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {check}")


async def test_the_read_api_and_open_streams_follow_a_map_switch(
        own_broker, database, db, start_service, make_token, tmp_path):
    now, today, wallboard, field = await posted_stack(db, start_service, own_broker, make_token, tmp_path)
    users = {who: await bearer(wallboard.url, await make_user(database, role, unit)) for who, role, unit in [
        ("hb", Role.PROVINCE_OPERATOR, "HB"), ("district", Role.DISTRICT_FOCAL, "HB-D1"),
        ("merged", Role.COMMUNE_FOCAL, "HB-D1-X1"), ("kept", Role.COMMUNE_FOCAL, "HB-D2-X1")]}

    async with httpx.AsyncClient(base_url=wallboard.url, timeout=10, headers=users["hb"]) as api:
        before = Truth(count(field.accepted, MAP), today)
        await wait_for(api, "/v1/units/HB/progress",
                       lambda b: b["campaign"]["activated"]["total"] == before.cumulative("HB"))
        assert (await api.get("/v1/units/HB/children")).json()["level"] == "district"
        started, heard = asyncio.Event(), []
        listening = asyncio.create_task(listen(wallboard.url, users["hb"], started, heard))
        await asyncio.wait_for(started.wait(), 10)
        try:
            async with db.transaction():
                # backdate: ``today`` is a minute ago's, yesterday's in the first minute after midnight.
                saved = await save_map(db, registry(ROWS2), effective_from=today, mapping=MAPPING, source="test",
                                       backdate=True)
            # The aggregator switches the read model, the wallboard follows and tells open boards.
            await until(lambda: _kinds_map(api, saved.map.id))
            await until(lambda: _heard(heard, "map"))
            assert next(data for kind, data in heard if kind == "map")["map_id"] == saved.map.id

            # Work done after the switch by a team of a merged commune counts in the new commune.
            moment = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
            await field.post("HB-D1-X1-T1", [factories.event(team="HB-D1-X1-T1", level=2, occurred_at=moment,
                                                             officer="CA-HB-D1-X1-T1") for _ in range(3)])
            after = Truth(count(field.accepted, MAP2), today)
            await wait_for(api, "/v1/units/HB-X12/progress",
                           lambda b: b["campaign"]["activated"]["total"] == after.cumulative("HB-X12"))
            await until(lambda: _heard(heard, "progress", "HB-X12"))
        finally:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)
        # Once the stream said the map changed, units of the old map are never named again.
        switched_at = next(i for i, (kind, _) in enumerate(heard) if kind == "map")
        assert not [data["unit"] for kind, data in heard[switched_at:] if kind == "progress"
                    and data["unit"] in ("HB-D1", "HB-D2", "HB-D1-X1", "HB-D1-X2")]

        # The merged commune holds the work of both communes, before and after the switch.
        assert after.cumulative("HB-X12") == sum(before.cumulative(c) for c in ("HB-D1-X1", "HB-D1-X2")) + 3
        for code in MAP2.of_kind("province", "HB") + MAP2.children("HB") + MAP2.of_kind("team", "HB"):
            progress = (await api.get(f"/v1/units/{code}/progress")).json()
            assert shown(progress) == after.figures(code, goal_of(code, MAP2), daily_of(code, MAP2), SHARE,
                                                    DAYS_LEFT), code
            assert [u["code"] for u in progress["path"]] == MAP2.path(code)
        children = (await api.get("/v1/units/HB/children")).json()
        assert (children["level"], sorted(codes(children))) == ("commune", ["HB-D2-X1", "HB-X12"])
        kinds = (await api.get("/v1/kinds")).json()
        assert [k["kind"] for k in kinds["kinds"] if k["in_map"]] == ["country", "province", "commune", "village",
                                                                      "team"]
        assert (await api.get("/v1/leaderboard", params={"level": "district"})).status_code == 422
        for gone in ("HB-D1", "HB-D1-X1"):
            assert (await api.get(f"/v1/units/{gone}/progress")).status_code == 404

        # Focal points of dissolved units read nothing; the moved commune's reads its own.
        for who in ("district", "merged"):
            assert (await api.get("/v1/units", headers=users[who])).json() == []
            assert (await api.get("/v1/units/HB/progress", headers=users[who])).status_code == 403
            assert (await api.get("/v1/units/HB-X12/progress", headers=users[who])).status_code == 403
        assert [u["code"] for u in (await api.get("/v1/units", headers=users["kept"])).json()] == ["HB-D2-X1"]
        kept = (await api.get("/v1/units/HB-D2-X1/progress", headers=users["kept"])).json()
        assert [u["code"] for u in kept["path"]] == ["VN", "HB", "HB-D2-X1"]

        # The record of the old map stays readable: Appendix I of a dissolved district, in map 1,
        # for those at or above it there, with every activation its communes' teams made.
        # As of now: the wallboard's clock stands at 15:00 of today, and events received after
        # that (a run in the afternoon) would not count for a cutoff taken from it.
        old = {"unit": "HB-D1", "map": 1, "format": "csv", "cutoff": dt.datetime.now(dt.UTC).isoformat()}
        report = await api.get("/v1/reports/appendix1", params=old)
        assert report.status_code == 200, report.text
        rows = {r["unit_code"]: int(r["activated_total"]) for r in csv.DictReader(io.StringIO(report.text))
                if r["unit_code"]}
        in_map1 = Truth(count(field.accepted, MAP), today)
        assert rows == {c: in_map1.cumulative(c) for c in ("HB-D1-X1", "HB-D1-X2")}
        assert (await api.get("/v1/reports/appendix1", params=old, headers=users["district"])).status_code == 200
        assert (await api.get("/v1/reports/appendix1", params=old, headers=users["kept"])).status_code == 403
        missing = await api.get("/v1/reports/appendix1", params={**old, "map": 99})
        assert missing.status_code == 404 and missing.json()["detail"][0]["field"] == "unit"


async def _kinds_map(api: httpx.AsyncClient, map_id: int) -> bool:
    return (await api.get("/v1/kinds")).json()["map_id"] == map_id


async def _heard(heard: list[tuple[str, dict]], kind: str, unit: str | None = None) -> bool:
    return any(k == kind and (unit is None or d.get("unit") == unit) for k, d in heard)
