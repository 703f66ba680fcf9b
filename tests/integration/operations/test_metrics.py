"""Every service of the stack answers its probes and exposes its key Prometheus series, and the
series tell the truth about what happened: the events accepted and rejected, published, counted,
the alert decided and its notifications sent and failed, the boards listening.

The whole pipeline is real (ingest → relay → broker → aggregator → PostgreSQL → notifier and
wallboard); /metrics is scraped over HTTP and parsed with prometheus_client's own parser."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tally06.contract.events import EVENT_METRICS, LOCAL_TZ
from tally06.domain.focal_points import FocalPointRow
from tally06.domain.targets import DailyTarget
from tally06.kit.clock import FileClock
from tally06.store.focal_points import load_focal_points
from tally06.store.targets import save_daily_targets
from tests.support import factories
from tests.support.receivers import WebhookReceiver
from tests.support.services import ServiceProcess
from tests.support.sessions import signed_in

T1, T2, C01 = "TH-03-C01-T1", "TH-03-C01-T2", "TH-03-C01"
# A working day in the past: every event lies before the real clock, as ingest demands, and
# the notifier's clock (a file) stands at 10:30 of it, when a team silent since 07:30 is late.
DAY = dt.datetime.now(LOCAL_TZ).date() - dt.timedelta(days=2)
SECRET = "khoa-webhook-kiem-thu"

def at(hhmm: str) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time.fromisoformat(hhmm), LOCAL_TZ)


class Scrape:
    """One scrape of a /metrics page: families by name, sample values by name and labels."""

    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def family(self, name: str, kind: str):  # noqa: ANN201 - prometheus_client's Metric
        assert name in self.families, f"{name} is not exported; got {sorted(self.families)}"
        family = self.families[name]
        assert family.type == kind, (name, family.type)
        return family

    def value(self, sample_name: str, **labels: str) -> float | None:
        for family in self.families.values():
            for sample in family.samples:
                if sample.name == sample_name and sample.labels == labels:
                    return sample.value
        return None


async def scrape(url: str) -> tuple[int, str]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{url}/metrics")
    return response.status_code, response.text


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 45) -> None:
    for _ in range(int(timeout_s / 0.2)):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def metrics_of(service: ServiceProcess) -> Scrape:
    status, text = await scrape(service.url)
    assert status == 200, f"{service.name} /metrics answered {status}: {text[:300]}"
    return Scrape(text)


class Board:
    """A wallboard listening to the live stream, as an open board does."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url = url
        self.headers = headers
        self.kinds: list[str] = []
        self.task: asyncio.Task | None = None

    async def _listen(self) -> None:
        async with (httpx.AsyncClient(timeout=httpx.Timeout(5, read=None), headers=self.headers) as client,
                    client.stream("GET", f"{self.url}/v1/stream") as response):
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    self.kinds.append(line.split(":", 1)[1].strip())

    def __enter__(self) -> Board:
        self.task = asyncio.create_task(self._listen())
        return self

    def __exit__(self, *_: object) -> None:
        assert self.task is not None
        self.task.cancel()


async def test_every_service_exposes_its_key_series(own_broker, start_service, make_token, db, database,
                                                   tmp_path: Path):
    # Team 2 is expected to work (a daily target) and stays silent: an alert for its commune's
    # focal points, one reachable on the console, one behind a webhook that is gone (410).
    await save_daily_targets(db, [DailyTarget(T2, "activated", 40)], source="test", valid_from=DAY)
    hooks = await WebhookReceiver(SECRET.encode(), gone={"/gone"}).start()
    await load_focal_points(db, [
        FocalPointRow(C01, "Đầu mối xã C01", "console", C01),
        FocalPointRow(C01, "Đầu mối xã C01 (Zalo)", "webhook", f"{hooks.url}/gone"),
    ], replace=False)
    clock = FileClock(tmp_path / "clock")
    clock.set(at("10:30"))

    bootstrap = own_broker.bootstrap
    ingest = start_service("ingest", bootstrap=bootstrap)
    relay = start_service("relay", bootstrap=bootstrap)
    aggregator = start_service("aggregator", bootstrap=bootstrap)
    notifier = start_service("notifier", bootstrap=bootstrap, TALLY06_NOTIFIER_TICK_S="0.5",
                             TALLY06_NOTIFIER_DELIVER_S="0.2", TALLY06_CLOCK=f"file:{clock.path}",
                             TALLY06_WEBHOOK_SECRET=SECRET)
    wallboard = start_service("wallboard", bootstrap=bootstrap)
    services = [ingest, relay, aggregator, notifier, wallboard]
    try:
        with Board(wallboard.url, await signed_in(database, wallboard.url)) as board:
            await until(lambda: _true(bool(board.kinds)), "the board's hello")

            # Team 1 works; one of its items is for another team and is rejected.
            token = await make_token(T1)
            events = [factories.event(team=T1, type="account_activated", level=2,
                                      occurred_at=at("09:00") + dt.timedelta(minutes=n)) for n in range(7)]
            events.append(factories.event(team=T2, occurred_at=at("09:30")))
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.post(f"{ingest.url}/v1/events", json={"events": events},
                                             headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            totals = response.json()["totals"]
            assert totals == {"accepted": 7, "duplicate": 0, "rejected": 1}
            accepted = totals["accepted"]

            async def counted() -> bool:
                # Event counters only: the reconciler adds the claims' registry state (pending) on
                # its next tick, and the sum of everything then is twice the events.
                return await db.fetchval(
                    "SELECT coalesce(sum(credited), 0) FROM unit_total WHERE unit = $1 AND metric = ANY($2::text[])",
                    T1, sorted(EVENT_METRICS)) == accepted
            await until(counted, "the events counted")
            await until(lambda: _true("progress" in board.kinds), "a progress event on the board")

            async def notified() -> bool:
                states = dict(await db.fetch(
                    "SELECT f.channel, n.state FROM notifications n JOIN focal_points f ON f.id = n.recipient_id"))
                return states.get("console") == "sent" and states.get("webhook") == "failed"
            await until(notified, "the silent-team alert sent on the console and failed on the webhook")

            for service in services:
                async with httpx.AsyncClient(timeout=5) as client:
                    for path in ("/healthz", "/readyz"):
                        answer = await client.get(service.url + path)
                        assert answer.status_code == 200, (service.name, path, answer.text)
                        assert json.loads(answer.text)["status"] in ("ok", "ready"), (service.name, path)

            # Ingest: every outcome by status, equal to the answers.
            m = await metrics_of(ingest)
            m.family("tally06_ingest_events", "counter")
            assert m.value("tally06_ingest_events_total", status="accepted") == accepted
            assert m.value("tally06_ingest_events_total", status="rejected") >= 1
            assert m.value("tally06_ingest_events_total", status="duplicate") is None

            # Relay: what it published, and nothing left behind.
            m = await metrics_of(relay)
            m.family("tally06_relay_backlog_events", "gauge")
            m.family("tally06_relay_broker_log_lost", "counter")
            assert m.value("tally06_relay_published_events_total") == accepted
            assert m.value("tally06_relay_backlog_events") == 0

            # Wallboard: the open board and what was written to it.
            m = await metrics_of(wallboard)
            assert m.value("tally06_wallboard_streams_open") == 1
            m.family("tally06_wallboard_events_sent", "counter")
            assert m.value("tally06_wallboard_events_sent_total", kind="hello") >= 1
            assert m.value("tally06_wallboard_events_sent_total", kind="progress") >= 1

            # Aggregator: facts counted once each, and how fresh they were.
            m = await metrics_of(aggregator)
            assert m.value("tally06_aggregator_facts_applied_total") == accepted
            m.family("tally06_aggregator_facts_skipped", "counter")
            m.family("tally06_aggregator_freshness_seconds", "histogram")
            assert m.value("tally06_aggregator_freshness_seconds_count") >= 1
            assert m.value("tally06_aggregator_freshness_seconds_bucket", le="+Inf") >= 1
            m.family("tally06_aggregator_backlog_events", "gauge")  # end-to-end lag, in events

            # Notifier: it leads, evaluates, decided the alert, sent one notice and failed one.
            m = await metrics_of(notifier)
            assert m.value("tally06_notifier_leading") == 1
            assert m.value("tally06_notifier_open_alerts") >= 1
            assert m.value("tally06_notifier_read_model_backlog") == 0
            assert m.value("tally06_notifier_evaluation_seconds_count") >= 1
            assert m.value("tally06_notifier_decisions_total", decision="OpenAlert") >= 1
            assert m.value("tally06_notifier_notifications_sent_total", channel="console") >= 1
            assert m.value("tally06_notifier_notifications_failed_total", channel="webhook",
                           retryable="false") >= 1
            m.family("tally06_notifier_notifications_uncertain", "counter")
    finally:
        await hooks.stop()


async def _true(value: bool) -> bool:
    return value
