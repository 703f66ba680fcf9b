"""Delivery under faults: SIGKILLs of the notifier while it sends, refusals and retries.

A recipient must never get the same message twice; what a crash leaves in flight is marked
uncertain instead of being sent again, and everything else is delivered."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from tally06.contract.events import LOCAL_TZ
from tally06.domain.focal_points import FocalPointRow
from tally06.domain.targets import DailyTarget
from tally06.imports.reference import demo_org
from tally06.kit.clock import FileClock
from tally06.store.focal_points import load_focal_points
from tally06.store.targets import save_daily_targets
from tests.integration.notifier.test_alerts import until
from tests.support.receivers import WebhookReceiver

SECRET = "khoa-webhook-kiem-thu"
DAY = dt.datetime.now(LOCAL_TZ).date() - dt.timedelta(days=2)
NOON = dt.datetime.combine(DAY, dt.time(12, 30), LOCAL_TZ)


async def _setup(db, hooks: WebhookReceiver, districts: tuple[str, ...]) -> None:
    org = demo_org()
    teams = [u.code for u in org.units() if u.kind.value == "team" and u.code[:5] in districts]
    await save_daily_targets(db, [DailyTarget(t, "activated", 30) for t in teams], source="test", valid_from=DAY)
    people = [FocalPointRow(u.code, f"Đầu mối {u.code}", "webhook", f"{hooks.url}/{u.code}")
              for u in org.units() if u.kind.value in ("commune", "district") and u.code[:5] in districts]
    await load_focal_points(db, [*people, FocalPointRow("TH", "Trực ban tỉnh", "webhook", f"{hooks.url}/TH")],
                            replace=False)


def _env(clock: FileClock, **extra: str) -> dict[str, str]:
    return {"TALLY06_CLOCK": f"file:{clock.path}", "TALLY06_NOTIFIER_TICK_S": "0.3",
            "TALLY06_NOTIFIER_DELIVER_S": "0.2", "TALLY06_WEBHOOK_SECRET": SECRET, **extra}


async def _states(db) -> dict[str, int]:
    rows = await db.fetch("SELECT state, count(*) FROM notifications GROUP BY state")
    return {r["state"]: r["count"] for r in rows}


@pytest.mark.slow
async def test_no_message_twice_across_sigkills(own_broker, start_service, db, tmp_path: Path):
    hooks = await WebhookReceiver(SECRET.encode(), delay_s=0.2).start()
    try:
        await _setup(db, hooks, ("TH-03", "TH-04"))
        clock = FileClock(tmp_path / "clock")
        clock.set(NOON)  # nobody has sent anything: every team is silent and behind pace
        notifier = start_service("notifier", bootstrap=own_broker.bootstrap, **_env(clock))
        for received in (6, 30):
            await until(lambda n=received: _at_least(hooks, n), what=f"{received} deliveries")
            notifier.kill()
            notifier.start(timeout_s=60)

        async def settled() -> bool:
            states = await _states(db)
            return bool(states) and not states.get("pending") and not states.get("sending")

        await until(settled, timeout_s=90, what="every notification settled")
        deliveries = [post["delivery"] for post in hooks.posts]
        assert len(deliveries) == len(set(deliveries)), "a message was delivered twice"
        rows = await db.fetch("SELECT dedupe_key, state FROM notifications")
        sent = {r["dedupe_key"] for r in rows if r["state"] == "sent"}
        uncertain = {r["dedupe_key"] for r in rows if r["state"] == "uncertain"}
        assert sent <= set(deliveries)
        assert set(deliveries) <= sent | uncertain
        # At most what was in flight at the two kills (8 concurrent sends each).
        assert 0 < len(uncertain) <= 16
        assert len(sent) >= len(rows) - len(uncertain) > 0
        assert {r["state"] for r in rows} <= {"sent", "uncertain"}
    finally:
        await hooks.stop()


async def _at_least(hooks: WebhookReceiver, n: int) -> bool:
    return len(hooks.posts) >= n


async def test_refused_deliveries_are_retried_with_backoff_or_given_up(own_broker, start_service, db, tmp_path: Path):
    hooks = await WebhookReceiver(SECRET.encode()).start()
    try:
        await _setup(db, hooks, ("TH-05",))
        # One commune's bridge refuses each message twice; another commune's address is gone.
        hooks.refuse_first["/TH-05-C01"] = 2
        hooks.gone.add("/TH-05-C02")
        clock = FileClock(tmp_path / "clock")
        clock.set(NOON)
        start_service("notifier", bootstrap=own_broker.bootstrap, **_env(clock, TALLY06_RETRY_BASE_S="2"))

        async def first_round_done() -> bool:
            states = await _states(db)
            return bool(states) and not states.get("sending") and states.get("sent", 0) > 0

        await until(first_round_done, what="the first round")
        waiting = await db.fetchval(
            "SELECT count(*) FROM notifications n JOIN focal_points f ON f.id = n.recipient_id "
            "WHERE f.unit = 'TH-05-C01' AND n.state = 'pending' AND n.attempts = 1")
        assert waiting > 0
        # Nothing is retried before its backoff has passed on the notifier's clock …
        await asyncio.sleep(1)
        assert not [p for p in hooks.posts if p["path"] == "/TH-05-C01"]
        # … then it is: after 2 s, then 4 s more.
        for step in (2, 6):
            clock.set(NOON + dt.timedelta(seconds=step))
            await asyncio.sleep(0.8)
        c01 = [p["delivery"] for p in hooks.posts if p["path"] == "/TH-05-C01"]
        assert c01 and len(c01) == len(set(c01))
        attempts = await db.fetch(
            "SELECT n.state, n.attempts FROM notifications n JOIN focal_points f ON f.id = n.recipient_id "
            "WHERE f.unit = 'TH-05-C01'")
        assert {(r["state"], r["attempts"]) for r in attempts} == {("sent", 3)}
        gone = await db.fetch(
            "SELECT n.state, n.attempts FROM notifications n JOIN focal_points f "
            "ON f.id = n.recipient_id WHERE f.unit = 'TH-05-C02'")
        assert gone and {(r["state"], r["attempts"]) for r in gone} == {("failed", 1)}
    finally:
        await hooks.stop()
