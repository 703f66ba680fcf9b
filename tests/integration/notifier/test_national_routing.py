"""Alerts of a deployment holding two provinces under a country root, on the real stack (ingest →
relay → broker → aggregator → PostgreSQL → notifier): every unit with a unit above it is judged
(a province under the country too), and each alert reaches the nearest focal points above it in
its own province, never the other province's. Which units fall behind, and who hears of it, is
worked out in the test from the activations it posted and the map's rows."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from tally06.contract.events import LOCAL_TZ
from tally06.domain.focal_points import FocalPointRow
from tally06.domain.targets import DailyTarget
from tally06.kit.clock import FileClock
from tally06.store.focal_points import load_focal_points
from tally06.store.targets import save_daily_targets
from tests.support import factories
from tests.support.national_map import Map, national_database, national_rows

ROWS = national_rows()
MAP = Map(ROWS)
DAY = dt.datetime.now(LOCAL_TZ).date() - dt.timedelta(days=2)  # events must lie before the real clock
TARGET = 40  # daily activation target of each team below
# Activations by 08:30: TQ-X01-T1 silent, TQ-X02-T1 short but within chance, HB-D1-X1-T1 far behind.
DONE = {"TQ-X01-T1": 0, "TQ-X01-T2": 16, "TQ-X02-T1": 10, "HB-D1-X1-T1": 2, "HB-D2-X1-T1": 16}
# Focal points: a two-tier commune and its province; a district (its communes have none), the
# other province and the country.
FOCAL = ["TQ-X01", "TQ", "HB-D1", "HB", "VN"]
WORKING_DAY_H = 14.5  # 07:30-22:00


def at(hhmm: str) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time.fromisoformat(hhmm), LOCAL_TZ)


@pytest.fixture
async def database(postgres_server: str) -> str:
    return await national_database(postgres_server, ROWS)


def behind_units(now: dt.datetime) -> set[str]:
    """Units behind pace: below 80 % of an even pace and beyond chance (2 standard deviations of
    a Poisson count), judged from a quarter of the day; roots have nobody above to tell."""
    share = (now - at("07:30")).total_seconds() / 3600 / WORKING_DAY_H
    found = set()
    for code, row in MAP.rows.items():
        teams = [t for t in DONE if MAP.inside(t, code)]
        if not teams or row.parent is None:
            continue
        expected = TARGET * len(teams) * share
        done = sum(DONE[t] for t in teams)
        if share >= 0.25 and done < 0.8 * expected and done < expected - 2 * math.sqrt(expected):
            found.add(code)
    return found


def hearers(code: str, skip: int = 0) -> str | None:
    """The nearest unit above ``code`` with focal points (``skip`` of them passed over)."""
    above = [u for u in MAP.above(code) if u in FOCAL]
    return above[skip] if len(above) > skip else None


async def until(check, timeout_s: float = 30, what: str = "") -> None:
    for _ in range(int(timeout_s * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


async def test_alerts_of_two_provinces_reach_their_own_focal_points(own_broker, start_service, make_token, db,
                                                                    tmp_path: Path):
    await save_daily_targets(db, [DailyTarget(t, "activated", TARGET) for t in DONE], source="test", valid_from=DAY)
    await load_focal_points(db, [FocalPointRow(u, f"Đầu mối {u}", "console", u.lower()) for u in FOCAL], replace=False)
    clock = FileClock(tmp_path / "clock")
    clock.set(at("08:00"))
    bootstrap = own_broker.bootstrap
    ingest = start_service("ingest", bootstrap=bootstrap)
    start_service("relay", bootstrap=bootstrap)
    start_service("aggregator", bootstrap=bootstrap)
    notifier = start_service("notifier", bootstrap=bootstrap, TALLY06_CLOCK=f"file:{clock.path}",
                             TALLY06_NOTIFIER_TICK_S="0.3", TALLY06_NOTIFIER_DELIVER_S="0.2",
                             TALLY06_SILENT_AFTER_H="24")
    async with httpx.AsyncClient(timeout=10) as client:
        for team, n in DONE.items():
            if n:
                events = [factories.event(team=team, level=2, occurred_at=at("08:30")) for _ in range(n)]
                answer = await client.post(f"{ingest.url}/v1/events", json={"events": events},
                                           headers={"Authorization": f"Bearer {await make_token(team)}"})
                assert [r["status"] for r in answer.json()["results"]] == ["accepted"] * n

        async def counted() -> bool:
            total = await db.fetchval("SELECT credited FROM unit_total WHERE unit = 'VN' AND metric = 'activated_l2'")
            return total == sum(DONE.values())

        await until(counted, what="every activation counted")

        async def judge_at(moment: dt.datetime) -> None:
            clock.set(moment)

            async def evaluated() -> bool:
                state = (await client.get(f"{notifier.url}/readyz")).json()
                last = (state.get("last_evaluation") or {}).get("at")
                return last is not None and dt.datetime.fromisoformat(last) >= moment

            await until(evaluated, what=f"an evaluation at {moment}")

        await judge_at(at("12:30"))
        behind = behind_units(at("12:30"))
        # The scenario reaches every case: a two-tier team and commune, a province under the
        # country, the other province's team, commune and district.
        assert behind == {"TQ-X01-T1", "TQ-X01", "TQ", "HB-D1-X1-T1", "HB-D1-X1", "HB-D1"}
        expected = {(unit, "alert", hearers(unit)) for unit in behind if hearers(unit)}
        assert ("TQ-X01", "alert", "TQ") in expected and ("HB-D1-X1", "alert", "HB-D1") in expected
        await until(lambda: _sent_is(db, expected), what=f"alerts {sorted(expected)}")
        assert {r["unit"] for r in await db.fetch("SELECT unit FROM alerts WHERE status = 'open'")} == behind

        # 13:35: the alerts of 12:30, over an hour unacknowledged, escalate to the next focal
        # points up their own province (the country above a province; nobody above the country).
        # By now province HB is behind as well: its alert goes to the country.
        await judge_at(at("13:35"))
        later = behind_units(at("13:35"))
        assert later == behind | {"HB"}
        expected |= {(unit, "alert", hearers(unit)) for unit in later - behind if hearers(unit)}
        expected |= {(unit, "escalation", hearers(unit, 1)) for unit in behind if hearers(unit, 1)}
        assert {("TQ-X01-T1", "escalation", "TQ"), ("HB", "alert", "VN")} <= expected
        assert not [e for e in expected if e[0] == "TQ" and e[1] == "escalation"]
        await until(lambda: _sent_is(db, expected), what=f"escalations {sorted(expected)}")

    # What a focal point reads says where the unit sits and what kind it is.
    row = await db.fetchrow("SELECT n.body, n.payload FROM notifications n JOIN alerts a ON a.id = n.alert_id "
                            "WHERE a.unit = 'TQ-X01' AND n.kind = 'alert'")
    payload = orjson.loads(row["payload"])
    assert (payload["path"], payload["unit_kind_vi"]) == (["VN", "TQ", "TQ-X01"], "Xã/phường")
    assert "Xã/phường thuộc Việt Nam › Tỉnh Tuyên Quang." in row["body"]


async def _sent_is(db: asyncpg.Connection, expected: set[tuple[str, str, str | None]]) -> bool:
    """(alert's unit, kind, recipient's unit) of every notification equals ``expected``."""
    rows = await db.fetch("SELECT a.unit, n.kind, f.unit AS recipient FROM notifications n "
                          "JOIN alerts a ON a.id = n.alert_id JOIN focal_points f ON f.id = n.recipient_id")
    return {(r["unit"], r["kind"], r["recipient"]) for r in rows} == expected
