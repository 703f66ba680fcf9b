"""The notifier on the real stack (ingest → relay → Kafka → aggregator → PostgreSQL → notifier),
walked through a working day with a controllable clock: the right alerts reach the right
focal points over real SMTP and webhooks, escalate, remind, resolve, and arrive once."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from tally06.contract.events import LOCAL_TZ
from tally06.domain.focal_points import FocalPointRow
from tally06.domain.targets import DailyTarget
from tally06.kit.clock import FileClock
from tally06.store.alerts import acknowledge
from tally06.store.focal_points import load_focal_points
from tally06.store.targets import save_daily_targets
from tests.support import factories
from tests.support.receivers import SmtpServer, WebhookReceiver

SECRET = "khoa-webhook-kiem-thu"
T1, T2, C01, D03 = "TH-03-C01-T1", "TH-03-C01-T2", "TH-03-C01", "TH-03"
# A day in the past, so every event the test posts lies before the real clock, as ingest demands.
DAY = dt.datetime.now(LOCAL_TZ).date() - dt.timedelta(days=2)


def at(hhmm: str, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), LOCAL_TZ)


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 30, what: str = "") -> None:
    for _ in range(int(timeout_s / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or check}")


class Day:
    """The stack, a clock the test moves, and what the recipients received."""

    def __init__(self, db: asyncpg.Connection, clock: FileClock, ingest_url: str, tokens: dict[str, str],
                 smtp: SmtpServer, hooks: WebhookReceiver) -> None:
        self.db, self.clock, self.ingest_url, self.tokens = db, clock, ingest_url, tokens
        self.smtp, self.hooks = smtp, hooks
        self.done: dict[str, int] = {T1: 0, T2: 0}
        self.notifier_url = ""

    async def set_time(self, moment: dt.datetime) -> None:
        self.clock.set(moment)
        # Wait until the notifier has judged at the new time.
        await until(lambda: self._evaluated_since(moment), what=f"an evaluation at {moment}")

    async def _evaluated_since(self, moment: dt.datetime) -> bool:
        async with httpx.AsyncClient() as client:
            state = (await client.get(f"{self.notifier_url}/readyz")).json()
        last = (state.get("last_evaluation") or {}).get("at")
        return last is not None and dt.datetime.fromisoformat(last) >= moment

    async def activate(self, team: str, n: int, occurred: dt.datetime) -> None:
        events = [factories.event(team=team, type="account_activated", level=2, occurred_at=occurred)
                  for _ in range(n)]
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{self.ingest_url}/v1/events", json={"events": events},
                                         headers={"Authorization": f"Bearer {self.tokens[team]}"})
        assert [r["status"] for r in response.json()["results"]] == ["accepted"] * n
        self.done[team] += n
        now = self.clock.now()

        async def counted_and_heard() -> bool:
            count = await self.db.fetchval(
                "SELECT credited FROM unit_daily WHERE unit = $1 AND day = $2 AND metric = 'activated_l2'",
                team, occurred.astimezone(LOCAL_TZ).date())
            seen = await self.db.fetchval("SELECT last_seen FROM unit_activity WHERE unit = $1", team)
            return count == self.done[team] and seen is not None and seen >= now

        await until(counted_and_heard, what=f"{team} counted and heard from")

    async def received(self) -> set[tuple[str, str, str, str]]:
        """(address, unit, rule, kind) of every message that reached a recipient; asserts no repeats."""
        keys = [(rcpt, key) for rcpt, _, key in self.smtp.inbox.mails]
        keys += [(self.hooks.url + post["path"], post["delivery"]) for post in self.hooks.posts]
        assert len(keys) == len(set(keys)), "a recipient received the same message twice"
        rows = await self.db.fetch(
            "SELECT n.dedupe_key, a.unit, a.rule, n.kind FROM notifications n LEFT JOIN alerts a ON a.id = n.alert_id")
        meaning = {r["dedupe_key"]: (r["unit"] or "", r["rule"] or "", r["kind"]) for r in rows}
        return {(address, *meaning[key]) for address, key in keys}

    async def expect(self, expected: set[tuple[str, str, str, str]]) -> None:
        async def arrived() -> bool:
            return await self.received() == expected
        try:
            await until(arrived, timeout_s=20)
        except AssertionError:
            got = await self.received()
            raise AssertionError(f"missing {sorted(expected - got)}, unexpected {sorted(got - expected)}") from None

    async def alerts(self) -> dict[tuple[str, str], str]:
        rows = await self.db.fetch("SELECT unit, rule, status FROM alerts WHERE day = $1", DAY)
        return {(r["unit"], r["rule"]): r["status"] for r in rows}


@pytest.fixture
async def field_day(own_broker, start_service, make_token, db, database, tmp_path: Path):
    await save_daily_targets(db, [DailyTarget(T1, "activated", 40), DailyTarget(T2, "activated", 40)],
                             source="test", valid_from=DAY)
    with SmtpServer() as smtp:
        hooks = await WebhookReceiver(SECRET.encode()).start()
        await load_focal_points(db, [
            FocalPointRow(C01, "Đầu mối xã C01", "email", "xa-c01@example.vn"),
            FocalPointRow(C01, "Đầu mối xã C01 (Zalo)", "webhook", f"{hooks.url}/xa-c01"),
            FocalPointRow(D03, "Đầu mối huyện", "email", "huyen-03@example.vn"),
            FocalPointRow("TH", "Trực ban tỉnh", "webhook", f"{hooks.url}/tinh"),
        ], replace=False)
        clock = FileClock(tmp_path / "clock")
        clock.set(at("08:00"))
        bootstrap = own_broker.bootstrap
        ingest = start_service("ingest", bootstrap=bootstrap)
        start_service("relay", bootstrap=bootstrap)
        start_service("aggregator", bootstrap=bootstrap)
        notifier_env = {
            "TALLY06_CLOCK": f"file:{clock.path}", "TALLY06_NOTIFIER_TICK_S": "0.3",
            "TALLY06_NOTIFIER_DELIVER_S": "0.2", "TALLY06_SMTP_HOST": "127.0.0.1",
            "TALLY06_SMTP_PORT": str(smtp.port), "TALLY06_WEBHOOK_SECRET": SECRET,
            "TALLY06_SILENT_AFTER_H": "3", "TALLY06_MAX_REMINDERS": "1", "TALLY06_RETRY_BASE_S": "1",
        }
        notifier = start_service("notifier", bootstrap=bootstrap, **notifier_env)
        tokens = {team: await make_token(team) for team in (T1, T2)}
        day = Day(db, clock, ingest.url, tokens, smtp, hooks)
        day.notifier_url = notifier.url
        try:
            yield day
        finally:
            await hooks.stop()


XA_MAIL, HUYEN = "xa-c01@example.vn", "huyen-03@example.vn"


async def test_a_working_day_of_alerts(field_day: Day):
    day = field_day
    xa_hook, tinh = f"{day.hooks.url}/xa-c01", f"{day.hooks.url}/tinh"

    # 08:00 team 1 starts; nobody is judged this early.
    await day.activate(T1, 10, at("07:50"))
    await day.set_time(at("08:00"))
    await day.set_time(at("10:00"))
    assert await day.alerts() == {}

    # 10:30: team 2 has sent nothing for 3 working hours (since 07:30); team 1 works on.
    await day.set_time(at("10:30"))
    assert await day.alerts() == {(T2, "silent"): "open"}
    expected = {(XA_MAIL, T2, "silent", "alert"), (xa_hook, T2, "silent", "alert")}
    await day.expect(expected)
    await day.activate(T1, 5, at("10:25"))

    # 12:30 over a third of the day: team 2, its commune and its district are behind pace; the
    # silent alert, unacknowledged for two hours, escalates to the district. Team 1 is on pace.
    await day.set_time(at("12:30"))
    assert await day.alerts() == {(T2, "silent"): "open", (T2, "pace"): "open", (C01, "pace"): "open",
                                  (D03, "pace"): "open"}
    expected |= {(XA_MAIL, T2, "pace", "alert"), (xa_hook, T2, "pace", "alert"), (HUYEN, C01, "pace", "alert"),
                 (tinh, D03, "pace", "alert"), (HUYEN, T2, "silent", "escalation")}
    await day.expect(expected)

    # 12:35: the silent alert was notified 2 h 5 min ago and is reminded, once (max_reminders 1).
    await day.set_time(at("12:35"))
    expected |= {(XA_MAIL, T2, "silent", "reminder"), (xa_hook, T2, "silent", "reminder")}
    await day.expect(expected)
    await day.activate(T1, 3, at("12:32"))

    # The commune acknowledges team 2's pace alert: it will neither escalate nor remind. 13:45:
    # the commune's unacknowledged alert escalates to the province, the district's has nobody
    # above the province, and nothing is repeated.
    pace_t2 = await day.db.fetchval("SELECT id FROM alerts WHERE unit = $1 AND rule = 'pace'", T2)
    await acknowledge(day.db, pace_t2, "Đầu mối xã C01", at("12:40"))
    await day.set_time(at("13:45"))
    expected |= {(tinh, C01, "pace", "escalation")}
    await day.expect(expected)
    await day.set_time(at("13:49"))
    await day.expect(expected)

    # 13:50 team 2 catches up: every alert resolves by itself, without a message.
    await day.set_time(at("13:50"))
    await day.activate(T2, 30, at("13:45"))
    await until(lambda: _all_resolved(day), what="all alerts resolved")
    assert await day.alerts() == {(T2, "silent"): "resolved", (T2, "pace"): "resolved",
                                  (C01, "pace"): "resolved", (D03, "pace"): "resolved"}

    # 22:15, the day settled: both teams, the commune and the district missed the daily target.
    await day.set_time(at("22:15"))
    expected |= {(XA_MAIL, T1, "missed_daily", "alert"), (xa_hook, T1, "missed_daily", "alert"),
                 (XA_MAIL, T2, "missed_daily", "alert"), (xa_hook, T2, "missed_daily", "alert"),
                 (HUYEN, C01, "missed_daily", "alert"), (tinh, D03, "missed_daily", "alert")}
    await day.expect(expected)

    # 23:30 is quiet: nothing is sent, even though the alerts are unacknowledged.
    await day.set_time(at("23:30"))
    await asyncio.sleep(1)
    await day.expect(expected)

    # 07:05 next morning: a digest for each focal point, and the unacknowledged missed-target
    # alerts escalate one level up (the district's has nobody above the province).
    await day.set_time(at("07:05", DAY + dt.timedelta(days=1)))
    expected |= {(XA_MAIL, "", "", "digest"), (xa_hook, "", "", "digest"), (HUYEN, "", "", "digest"),
                 (tinh, "", "", "digest"), (HUYEN, T1, "missed_daily", "escalation"),
                 (HUYEN, T2, "missed_daily", "escalation"), (tinh, C01, "missed_daily", "escalation")}
    await day.expect(expected)
    # A receiver has the message a moment before the notifier records it as sent.
    await until(lambda: _states_settled(day), what="every notification recorded")
    states = await day.db.fetch("SELECT state, count(*) FROM notifications GROUP BY state")
    assert {r["state"]: r["count"] for r in states} == {"sent": len(expected)}


async def _states_settled(day: Day) -> bool:
    return not await day.db.fetchval("SELECT count(*) FROM notifications WHERE state IN ('pending', 'sending')")


async def _all_resolved(day: Day) -> bool:
    return set((await day.alerts()).values()) == {"resolved"}
