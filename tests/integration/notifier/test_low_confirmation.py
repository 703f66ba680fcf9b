"""The low_confirmation alert on the real notifier (PostgreSQL, broker, its own clock): registry
counters written into the read model as the reconciler writes them; a unit whose judged claims
are confirmed less than 80 % of the time, with at least 20 judged, raises an alert to the nearest
focal points above it; a unit above the threshold, one with too few judged claims and the root
do not. Which units alert is worked out in the test from the counters."""

from __future__ import annotations

import asyncio
import datetime as dt
from fractions import Fraction
from pathlib import Path

import httpx
import orjson

from tally06.contract.events import LOCAL_TZ
from tally06.domain.focal_points import FocalPointRow
from tally06.kit.clock import FileClock
from tally06.store.focal_points import load_focal_points
from tests.support.registry_counters import unit_sums, write_counters

TODAY = dt.datetime.now(LOCAL_TZ).date()
CLAIM_DAY = TODAY - dt.timedelta(days=12)
COUNTERS = {
    ("TH-03-C01-T1", CLAIM_DAY): {"activated_l2": 40, "confirmed_l2": 20, "unconfirmed_l2": 20},   # 50 %
    ("TH-03-C01-T2", CLAIM_DAY): {"activated_l2": 30, "confirmed_l2": 29, "unconfirmed_l2": 1},    # 96.7 %
    # 2 of 12 judged: low, but too few to judge; the 288 pending are not judged yet
    ("TH-03-C02-T1", CLAIM_DAY): {"activated_l2": 300, "confirmed_l2": 2, "unconfirmed_l2": 10, "pending_l2": 288},
    ("TH-01-C01-T1", CLAIM_DAY): {"activated_l1": 100, "confirmed_l1": 90, "already_active_l1": 10},  # 90 %
}
FOCAL = ["TH-03-C01", "TH-03-C02", "TH-03", "TH"]
JUDGED = ("confirmed", "unconfirmed", "already_active", "level_differs")


def low_units() -> set[str]:
    """Units (not the root) with at least 20 judged claims confirmed below 80 %, by hand."""
    per_unit: dict[str, dict[str, int]] = {}
    for (unit, _, metric), n in unit_sums(COUNTERS).items():
        family = metric.rsplit("_", 1)[0]
        per_unit.setdefault(unit, {}).setdefault(family, 0)
        per_unit[unit][family] += n
    low = set()
    for unit, families in per_unit.items():
        judged = sum(families.get(state, 0) for state in JUDGED)
        if unit != "TH" and judged >= 20 and Fraction(families.get("confirmed", 0), judged) < Fraction(4, 5):
            low.add(unit)
    return low


def hearer(unit: str) -> str:
    parts = unit.split("-")
    return next(u for u in ("-".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)) if u in FOCAL)


async def until(check, timeout_s: float = 30, what: str = "") -> None:
    for _ in range(int(timeout_s * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


async def test_low_confirmation_alerts_reach_the_focal_points_above(own_broker, start_service, db, tmp_path: Path):
    # C01: 49 of 70 (70 %); TH-03: 51 of 82 (62 %); C02 and its team: 12 judged; TH-01: 90 %.
    assert low_units() == {"TH-03-C01-T1", "TH-03-C01", "TH-03"}
    await write_counters(db, COUNTERS)
    await load_focal_points(db, [FocalPointRow(u, f"Đầu mối {u}", "console", u.lower()) for u in FOCAL],
                            replace=False)
    clock = FileClock(tmp_path / "clock")
    now = dt.datetime.combine(TODAY, dt.time(10, 0), LOCAL_TZ)
    clock.set(now)
    notifier = start_service("notifier", bootstrap=own_broker.bootstrap, TALLY06_CLOCK=f"file:{clock.path}",
                             TALLY06_NOTIFIER_TICK_S="0.3", TALLY06_NOTIFIER_DELIVER_S="0.2")

    async with httpx.AsyncClient(timeout=10) as client:
        async def evaluated() -> bool:
            state = (await client.get(f"{notifier.url}/readyz")).json()
            last = (state.get("last_evaluation") or {}).get("at")
            return last is not None and dt.datetime.fromisoformat(last) >= now

        await until(evaluated, what="an evaluation")

    expected = {(unit, "alert", hearer(unit)) for unit in low_units()}

    async def sent() -> bool:
        rows = await db.fetch("SELECT a.unit, a.rule, n.kind, f.unit AS recipient FROM notifications n "
                              "JOIN alerts a ON a.id = n.alert_id JOIN focal_points f ON f.id = n.recipient_id")
        return {(r["unit"], r["kind"], r["recipient"]) for r in rows} == expected and all(
            r["rule"] == "low_confirmation" for r in rows)

    await until(sent, what=f"alerts {sorted(expected)}")
    alerts = await db.fetch("SELECT unit, rule, day, status, detail FROM alerts")
    assert {(r["unit"], r["rule"], r["day"], r["status"]) for r in alerts} == {
        (u, "low_confirmation", TODAY, "open") for u in low_units()}
    team = next(orjson.loads(r["detail"]) for r in alerts if r["unit"] == "TH-03-C01-T1")["confirmation"]
    assert (team["confirmed"], team["judged"], team["rate"], team["threshold"]) == (20, 40, 0.5, 0.8)
    body = await db.fetchval("SELECT n.body FROM notifications n JOIN alerts a ON a.id = n.alert_id "
                             "WHERE a.unit = 'TH-03-C01-T1'")
    assert "có tỷ lệ kích hoạt được xác nhận thấp" in body and "20/40" in body

    # The registry confirms more of C01's team 1 claims (an extract arrived): 38 of 40 now; the
    # team (95 %), the commune (67 of 70 = 95.7 %) and the district (69 of 82 = 84 %) recover.
    await db.execute("UPDATE unit_total SET credited = credited + 18 WHERE metric = 'confirmed_l2' "
                     "AND unit = ANY($1::text[])", ["TH-03-C01-T1", "TH-03-C01", "TH-03", "TH"])
    await db.execute("UPDATE unit_total SET credited = credited - 18 WHERE metric = 'unconfirmed_l2' "
                     "AND unit = ANY($1::text[])", ["TH-03-C01-T1", "TH-03-C01", "TH-03", "TH"])

    async def recovered() -> bool:
        rows = await db.fetch("SELECT status, resolution FROM alerts")
        return {(r["status"], r["resolution"]) for r in rows} == {("resolved", "confirmation_recovered")}

    await until(recovered, what="every low_confirmation alert resolved")
