"""Alert changes reach the stream whatever clock wrote ``updated_at``, and old open alerts that
resolve are seen even when many newer alerts came after them."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg

from tally06_wallboard.alert_watch import ID_WINDOW, AlertWatch
from tally06_wallboard.hub import Hub

INSERT = ("INSERT INTO alerts (unit, rule, day, status, opened_at, last_opened_at, updated_at, detail) "
          "VALUES ($1, $2, $3, $4, $5, $5, $5, '{}') RETURNING id")


async def next_alert(queue: asyncio.Queue, timeout_s: float = 3) -> dict:
    async with asyncio.timeout(timeout_s):
        return (await queue.get()).data


async def test_alert_changes_are_pushed(database):
    day = dt.date(2026, 11, 20)
    future = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # an acknowledgement stamped by a clock far ahead
    past = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)    # a notifier whose clock was moved back
    pool = await asyncpg.create_pool(database, min_size=1, max_size=2)
    try:
        old = await pool.fetchval(INSERT, "TH-03-C01-T1", "pace", day, "open", past)
        hub = Hub()
        watch = AlertWatch(pool, hub, interval_s=0.1)
        with hub.subscribe() as queue:
            task = asyncio.create_task(watch.run())
            await asyncio.sleep(0.3)
            assert queue.empty()  # alerts from before the start are in every board's first fetch
            teams = [f"TH-01-C01-T{n}" for n in (1, 2, 3)]
            for n in range(ID_WINDOW + 10):  # push the old alert out of the window of newest ids
                await pool.fetchval(INSERT, teams[n % 3], "silent", day - dt.timedelta(days=1 + n // 3), "resolved", past)
            await asyncio.sleep(0.5)
            while not queue.empty():
                queue.get_nowait()

            await pool.execute("UPDATE alerts SET acknowledged_at = $2, acknowledged_by = 'An', updated_at = $2 "
                               "WHERE id = $1", old, future)
            assert (await next_alert(queue))["acknowledged_at"] == future.isoformat()
            await pool.execute("UPDATE alerts SET status = 'resolved', updated_at = $2 WHERE id = $1", old, past)
            assert (await next_alert(queue))["status"] == "resolved"
            fresh = await pool.fetchval(INSERT, "TH-03-C02-T1", "missed_daily", day, "open", past)
            data = await next_alert(queue)
            assert (data["id"], data["unit"], data["rule"], data["status"]) == (fresh, "TH-03-C02-T1", "missed_daily", "open")
            await pool.execute("UPDATE alerts SET status = 'open', reopened = 1, updated_at = $2 WHERE id = $1", old, past)
            assert (await next_alert(queue))["id"] == old
            await asyncio.sleep(0.3)
            assert queue.empty()  # nothing changed, nothing sent
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    finally:
        await pool.close()
