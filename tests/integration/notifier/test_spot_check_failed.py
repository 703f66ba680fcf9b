"""The spot_check_failed alert on the real notifier (PostgreSQL, broker, its own clock, webhooks):
a failed check written as the spot check store leaves it reaches the commune's focal point and
the district's at once, once — not again after more evaluations, the escalation delay or a
restart of the notifier — and a later passing check of the commune resolves it. A passed check,
and a failure decided before the notifier's look-back, alert nobody."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tally06.contract.events import LOCAL_TZ
from tally06.domain.focal_points import FocalPointRow
from tally06.kit.clock import FileClock
from tally06.store.focal_points import load_focal_points
from tally06_notifier.spot_check_rule import LOOKBACK
from tests.support.receivers import WebhookReceiver
from tests.support.spot_check_rows import Item, insert_check

SECRET = "khoa-webhook-kiem-thu"
C01, C02, D03, OTHER = "TH-03-C01", "TH-03-C02", "TH-03", "TH-01-C01"
TODAY = dt.datetime.now(LOCAL_TZ).date()
HOOK = {C01: "/xa-c01", C02: "/xa-c02", D03: "/huyen-03", "TH-01": "/huyen-01", "TH": "/tinh"}


def items(confirmed: int, **failing: int) -> list[Item]:
    found = [Item(f"{C01}-T1", "CB-001", "confirmed") for _ in range(confirmed)]
    for outcome, count in failing.items():
        found += [Item(f"{C01}-T{1 + k % 2}", f"CB-00{2 + k % 2}", outcome) for k in range(count)]
    return found


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 30, what: str = "") -> None:
    for _ in range(int(timeout_s * 10)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


async def evaluated_at(url: str, moment: dt.datetime) -> None:
    async def done() -> bool:
        async with httpx.AsyncClient(timeout=10) as client:
            state = (await client.get(f"{url}/readyz")).json()
        last = (state.get("last_evaluation") or {}).get("at")
        return last is not None and dt.datetime.fromisoformat(last) >= moment

    await until(done, what=f"an evaluation at {moment}")


async def test_a_failed_check_alerts_the_unit_and_the_level_above_once(own_broker, start_service, db,
                                                                       tmp_path: Path):
    hooks = await WebhookReceiver(SECRET.encode()).start()
    try:
        await load_focal_points(db, [FocalPointRow(u, f"Đầu mối {u}", "webhook", f"{hooks.url}{path}")
                                     for u, path in HOOK.items()], replace=False)
        now = dt.datetime.combine(TODAY, dt.time(10, 0), LOCAL_TZ)
        # C01: 4 failures of 16 with d = 2: failed. C02 passed. OTHER failed before the look-back.
        failed = await insert_check(db, C01, "failed", now - dt.timedelta(hours=1),
                                    items(12, not_activated=3, not_guided=1), n=16)
        await insert_check(db, C02, "passed", now - dt.timedelta(hours=1), items(15, not_activated=1), n=16)
        await insert_check(db, OTHER, "failed", now - LOOKBACK - dt.timedelta(hours=1), items(10, not_guided=6))
        clock = FileClock(tmp_path / "clock")
        clock.set(now)
        env = {"TALLY06_CLOCK": f"file:{clock.path}", "TALLY06_NOTIFIER_TICK_S": "0.3",
               "TALLY06_NOTIFIER_DELIVER_S": "0.2", "TALLY06_WEBHOOK_SECRET": SECRET}
        notifier = start_service("notifier", bootstrap=own_broker.bootstrap, **env)
        await evaluated_at(notifier.url, now)

        def received() -> list[tuple[str, str, str]]:
            return sorted((p["path"], p["body"]["payload"]["rule"], p["body"]["payload"]["kind"]) for p in hooks.posts)

        expected = [(HOOK[D03], "spot_check_failed", "alert"), (HOOK[C01], "spot_check_failed", "alert")]

        async def arrived() -> bool:
            return received() == expected

        await until(arrived, what=f"{expected}, got {received()}")
        alert = await db.fetchrow("SELECT * FROM alerts")
        assert (alert["unit"], alert["rule"], alert["day"], alert["status"]) == (C01, "spot_check_failed", TODAY,
                                                                                  "open")
        post = hooks.posts[0]["body"]["payload"]
        assert post["detail"]["spot_check"]["id"] == failed
        assert post["detail"]["spot_check"]["found"] == {"not_activated": 3, "not_guided": 1}
        body = await db.fetchval("SELECT body FROM notifications LIMIT 1")
        assert f"#{failed}" in body and "4 không đạt trên 16" in body and "Chưa kích hoạt: 3" in body

        # Past the escalation delay and the reminder interval: nothing more is sent.
        later = now + dt.timedelta(hours=3)
        clock.set(later)
        await evaluated_at(notifier.url, later)
        # A restarted notifier (another worker taking over) finds the alert and sends nothing.
        notifier.stop()
        notifier = start_service("notifier", bootstrap=own_broker.bootstrap, **env)
        later += dt.timedelta(minutes=5)
        clock.set(later)
        await evaluated_at(notifier.url, later)
        await asyncio.sleep(1)  # time for a wrongly queued message to go out
        assert received() == expected
        assert await db.fetchval("SELECT count(*) FROM notifications") == 2
        assert await db.fetchval("SELECT count(*) FROM alerts") == 1

        # A later check of C01 passes: the alert resolves, and nobody is told anything new.
        passed = await insert_check(db, C01, "passed", later + dt.timedelta(minutes=1), items(16), n=16)
        later += dt.timedelta(minutes=10)
        clock.set(later)

        async def resolved() -> bool:
            row = await db.fetchrow("SELECT status, resolution, detail->'passed_check'->>'id' AS passed FROM alerts")
            return tuple(row.values()) == ("resolved", "spot_check_passed", str(passed))

        await until(resolved, what="the alert resolved by the passing check")
        await evaluated_at(notifier.url, later)
        assert received() == expected
    finally:
        await hooks.stop()
