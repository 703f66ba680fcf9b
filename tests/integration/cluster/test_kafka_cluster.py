"""The whole stack on a cluster of three Apache Kafka brokers (RF 3, min ISR 2, the production
topic settings), while brokers die with SIGKILL: counts stay exact, alerts go out once, and the
test prints how long producing and the board's freshness were disturbed.

Everything is real: three KRaft JVMs, the service processes, PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tally06.contract.events import LOCAL_TZ
from tally06.contract.topics import FACTS, PROGRESS
from tally06.domain.focal_points import FocalPointRow
from tally06.domain.org import UnitKind
from tally06.domain.targets import DailyTarget
from tally06.imports.reference import demo_org
from tally06.kit.clock import FileClock
from tally06.kit.topic_admin import ensure_topics
from tally06.store.focal_points import load_focal_points
from tally06.store.targets import save_daily_targets
from tests.integration.aggregator.test_exact_counters import Field, assert_exact
from tests.integration.operations.test_scale_out import first_team_of_each_district
from tests.support import factories
from tests.support.kafka import forget_topics
from tests.support.kafka_cluster import KafkaCluster
from tests.support.receivers import WebhookReceiver
from tests.support.sessions import signed_in
from tests.support.sse import sse_events

pytestmark = pytest.mark.slow

SECRET = "khoa-webhook-cum"
TEAMS = first_team_of_each_district()  # their facts land on all 12 facts partitions
# A team of its own for the board's freshness probe, so its count is the probe's alone.
PROBE_TEAM = next(u.code for u in demo_org().units(UnitKind.TEAM) if u.code not in TEAMS)
# Teams far behind an impossible target: the notifier alerts on them while brokers die.
BEHIND = TEAMS[:3]
DAY = dt.datetime.now(LOCAL_TZ).date() - dt.timedelta(days=2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    kafka = KafkaCluster(tmp_path_factory.mktemp("cluster"))
    try:
        kafka.start()
        yield kafka
    finally:
        kafka.kill_all()  # the logs are thrown away: no controlled shutdown to wait for


@pytest.fixture
def fresh_cluster(cluster: KafkaCluster) -> KafkaCluster:
    """All three nodes running, the production topics with three replicas and nothing in them."""
    cluster.start()
    asyncio.run(forget_topics(cluster.bootstrap))
    asyncio.run(ensure_topics(cluster.bootstrap, replication_factor=3))
    return cluster


def on_cluster(start_service, cluster: KafkaCluster, name: str, **env: str):
    # 6 s (Kafka's default minimum) instead of the other tests' 3 s: the workers keep their session
    # while the group's coordinator moves off a killed broker; the five runs in a row used it.
    return start_service(name, bootstrap=cluster.bootstrap, TALLY06_TOPIC_REPLICATION_FACTOR="3",
                         TALLY06_SESSION_TIMEOUT_S="6", **env)


class ClusterField(Field):
    """Field devices that note how long ingest took to answer, and every answer but 200."""

    def __init__(self, url: str, tokens: dict[str, str], seed: int) -> None:
        super().__init__(url, tokens, seed)
        self.answers: list[tuple[float, float]] = []  # (posted at, seconds to answer)
        self.refused: list[int | str] = []

    async def _post(self, client: httpx.AsyncClient, team: str, events: list[dict]) -> None:
        posted = time.monotonic()
        try:
            response = await client.post(f"{self.url}/v1/events", json={"events": events},
                                         headers={"Authorization": f"Bearer {self.tokens[team]}"})
            if response.status_code != 200:
                self.refused.append(response.status_code)
        except httpx.TransportError as exc:
            self.refused.append(type(exc).__name__)
        await super()._post(client, team, events)  # posts again (answered "duplicate" if stored)
        self.answers.append((posted, time.monotonic() - posted))

    async def stream_until(self, done: asyncio.Event, size: int = 20, pause_s: float = 0.1) -> None:
        while not done.is_set():
            await self.stream(batches=5, size=size, pause_s=pause_s)


class RelayWatch:
    """Samples the relay's position against the event store: how long publishing stood still."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.samples: list[tuple[float, int, int]] = []  # (time, position, last stored seq)

    async def run(self, done: asyncio.Event) -> None:
        conn = await asyncpg.connect(self.database)
        try:
            while not done.is_set():
                row = await conn.fetchrow("SELECT position, (SELECT last_seq FROM event_seq) AS stored FROM relay_state")
                self.samples.append((time.monotonic(), row["position"], row["stored"]))
                await asyncio.sleep(0.1)
        finally:
            await conn.close()

    def position(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def stored(self) -> int:
        return self.samples[-1][2] if self.samples else 0

    def stalls(self, since: float, until: float) -> float:
        """The longest time in [since, until] that stored events waited and the position did not move."""
        longest, moved_at, last_position = 0.0, since, -1
        for at, position, stored in self.samples:
            if at < since or at > until:
                continue
            if position != last_position or position >= stored:
                moved_at, last_position = at, position
            longest = max(longest, at - moved_at)
        return longest

    async def wait_advance(self, past: int, timeout_s: float = 90) -> float:
        """Seconds until the position passed ``past``."""
        started = time.monotonic()
        while self.position() <= past:
            assert time.monotonic() - started < timeout_s, f"the relay did not publish past {past} in {timeout_s} s"
            await asyncio.sleep(0.05)
        return time.monotonic() - started


class BoardProbe:
    """Posts one new installation of PROBE_TEAM at a time and times its arrival on the wallboard's
    live feed: the board's freshness, end to end (ingest, relay, Kafka, aggregator, wallboard)."""

    def __init__(self, field: Field, wallboard_url: str, headers: dict[str, str]) -> None:
        self.field, self.wallboard_url, self.headers = field, wallboard_url, headers
        self.shown = 0
        self.changed = asyncio.Event()
        self.lags: list[tuple[float, float]] = []  # (accepted at, seconds until shown)

    async def run(self, done: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self.wallboard_url, headers=self.headers, timeout=None) as api, \
                api.stream("GET", "/v1/stream") as response, httpx.AsyncClient(timeout=10) as poster:
            reader = asyncio.create_task(self._read(response))
            try:
                posted = 0
                while not done.is_set():
                    event = factories.event(team=PROBE_TEAM, type="app_installed", level=None,
                                            occurred_at=dt.datetime.now(dt.UTC))
                    await self.field._post(poster, PROBE_TEAM, [event])  # noqa: SLF001 - its accepted list
                    posted += 1
                    accepted = time.monotonic()
                    while self.shown < posted:
                        assert not reader.done(), "the wallboard's live feed ended"
                        self.changed.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self.changed.wait(), 90 - (time.monotonic() - accepted))
                        assert time.monotonic() - accepted < 90, "the board did not show a change in 90 s"
                    self.lags.append((accepted, time.monotonic() - accepted))
                    await asyncio.sleep(0.2)
            finally:
                reader.cancel()

    async def _read(self, response: httpx.Response) -> None:
        async for kind, data, _ in sse_events(response):
            if kind == "progress" and data["unit"] == PROBE_TEAM:
                self.shown = max(self.shown, data["total"].get("installed", {}).get("credited", 0))
                self.changed.set()

    def worst(self, since: float, until: float) -> float:
        return max((lag for at, lag in self.lags if since <= at + lag and at <= until), default=0.0)

    def usual(self) -> float:
        return statistics.median(lag for _, lag in self.lags)


async def alerting(db: asyncpg.Connection, tmp_path: Path, hooks: WebhookReceiver) -> dict[str, str]:
    """Targets nobody can reach for BEHIND, a webhook for every commune and the province, and a
    clock at noon of DAY: the notifier's environment. Pace alerts open while brokers die."""
    await save_daily_targets(db, [DailyTarget(team, "activated", 100_000) for team in BEHIND],
                             source="test", valid_from=DAY)
    communes = {team.rsplit("-", 1)[0] for team in BEHIND}
    await load_focal_points(db, [FocalPointRow(unit, f"Đầu mối {unit}", "webhook", f"{hooks.url}/{unit}")
                                 for unit in [*sorted(communes), *sorted({c[:5] for c in communes}), "TH"]],
                            replace=False)
    clock = FileClock(tmp_path / "clock")
    clock.set(dt.datetime.combine(DAY, dt.time(12, 30), LOCAL_TZ))
    return {"TALLY06_CLOCK": f"file:{clock.path}", "TALLY06_NOTIFIER_TICK_S": "0.5",
            "TALLY06_NOTIFIER_DELIVER_S": "0.2", "TALLY06_WEBHOOK_SECRET": SECRET, "TALLY06_RETRY_BASE_S": "1"}


async def kill_and_restart(cluster: KafkaCluster, node: int, relay: RelayWatch) -> tuple[float, float, float]:
    """SIGKILL ``node``, wait until publishing went on without it, start it again with its log and
    wait until it is back in sync; returns (killed at, seconds to publish again, seconds down)."""
    await relay.wait_advance(relay.position())  # publishing runs before the fault
    waiting = relay.stored()
    killed = time.monotonic()
    await asyncio.to_thread(cluster.kill, node)
    resumed = await relay.wait_advance(max(waiting, relay.position()))
    await asyncio.to_thread(cluster.restart, node)
    down = time.monotonic() - killed
    for topic in (FACTS.name, PROGRESS.name):
        await cluster.wait_in_sync(topic)
    return killed, resumed, down


async def test_counts_exact_while_the_leader_and_the_controller_die(
        fresh_cluster, start_service, make_token, database, db, tmp_path):
    cluster = fresh_cluster
    hooks = await WebhookReceiver(SECRET.encode()).start()
    try:
        notifier_env = await alerting(db, tmp_path, hooks)
        ingest = on_cluster(start_service, cluster, "ingest")
        on_cluster(start_service, cluster, "relay")
        workers = [on_cluster(start_service, cluster, "aggregator") for _ in range(2)]
        wallboard = on_cluster(start_service, cluster, "wallboard")
        # Last: starting a service blocks this loop, and with it the webhook receiver, which
        # must answer at once (the notifier's frozen clock would never retry a timed-out post).
        on_cluster(start_service, cluster, "notifier", **notifier_env)

        field = ClusterField(ingest.url, {team: await make_token(team) for team in [*TEAMS, PROBE_TEAM]}, seed=19)
        field.teams = list(TEAMS)  # the probe team posts only through the probe
        relay = RelayWatch(database)
        probe = BoardProbe(field, wallboard.url, await signed_in(database, wallboard.url))
        done = asyncio.Event()
        tasks = [asyncio.create_task(job) for job in
                 (field.stream_until(done), relay.run(done), probe.run(done))]
        try:
            while len(probe.lags) < 5:  # the usual freshness, before any fault
                assert not any(task.done() for task in tasks), [t.exception() for t in tasks if t.done()]
                await asyncio.sleep(0.1)
            leader = await cluster.busiest_leader(FACTS.name)
            faults = {f"leader of most facts partitions (node {leader})": await kill_and_restart(cluster, leader, relay)}
            controller = cluster.active_controller()
            assert controller is not None, "no running node knows the quorum's leader"
            faults[f"active controller (node {controller})"] = await kill_and_restart(cluster, controller, relay)
            await relay.wait_advance(relay.stored())  # a little traffic on the healed cluster
        finally:
            done.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
        assert not [r for r in results if isinstance(r, BaseException)], results

        await assert_exact(database, field, timeout_s=120)
        assert not field.refused, f"ingest answered other than 200: {field.refused[:10]}"
        assert all(worker.alive() for worker in workers)
        await assert_alerts_once(db, hooks)

        print(f"\n{len(field.accepted)} events accepted; usual freshness of the board "
              f"{probe.usual():.2f} s, usual ingest answer {statistics.median(s for _, s in field.answers):.3f} s")
        ends = [killed for killed, _, _ in faults.values()][1:] + [time.monotonic()]
        for (what, (killed, resumed, down)), window in zip(faults.items(), ends, strict=True):
            print(f"SIGKILL {what}: down {down:.1f} s; relay published again after {resumed:.1f} s, "
                  f"longest publishing stall {relay.stalls(killed - 1, window):.1f} s; slowest ingest answer "
                  f"{max((s for at, s in field.answers if killed <= at + s and at <= window), default=0):.2f} s; "
                  f"board's worst freshness {probe.worst(killed, window):.1f} s")
    finally:
        await hooks.stop()


async def assert_alerts_once(db: asyncpg.Connection, hooks: WebhookReceiver) -> None:
    """Alerts reached the webhooks, none twice, and every one sent is recorded as sent."""
    deadline = time.monotonic() + 30
    while True:
        pending = await db.fetchval("SELECT count(*) FROM notifications WHERE state IN ('pending', 'sending')")
        sent = await db.fetchval("SELECT count(*) FROM notifications WHERE state = 'sent'")
        if hooks.posts and not pending and sent == len(hooks.posts):
            break
        assert time.monotonic() < deadline, (len(hooks.posts), pending, sent)
        await asyncio.sleep(0.2)
    deliveries = [(post["path"], post["delivery"]) for post in hooks.posts]
    assert len(deliveries) == len(set(deliveries)), "a webhook received the same alert twice"
    rows = await db.fetch("SELECT a.unit, a.rule, n.kind, n.dedupe_key FROM notifications n "
                          "JOIN alerts a ON a.id = n.alert_id")
    assert {(r["unit"], r["rule"]) for r in rows} >= {(team, "pace") for team in BEHIND}, rows
    print(f"\nalerts delivered once each: {len(deliveries)} webhook posts for {len(rows)} notifications")


async def test_two_brokers_down_stop_writes_cleanly_and_nothing_is_lost(
        fresh_cluster, start_service, make_token, database):
    cluster = fresh_cluster
    ingest = on_cluster(start_service, cluster, "ingest")
    relay_service = on_cluster(start_service, cluster, "relay", TALLY06_RELAY_ROUND_TIMEOUT_S="3")
    on_cluster(start_service, cluster, "aggregator")
    field = ClusterField(ingest.url, {team: await make_token(team) for team in TEAMS}, seed=20)
    relay = RelayWatch(database)
    done = asyncio.Event()
    watching = asyncio.create_task(relay.run(done))
    try:
        await field.stream(batches=10)
        await assert_exact(database, field)

        down = [n for n in cluster.nodes if n != cluster.active_controller()][:1] + [cluster.active_controller()]
        await asyncio.gather(*(asyncio.to_thread(cluster.kill, n) for n in down))
        stopped = time.monotonic()
        await field.stream(batches=20)  # ingest keeps accepting into PostgreSQL
        assert not field.refused, f"ingest answered other than 200 with two brokers down: {field.refused[:10]}"
        held = relay.position()
        assert held < relay.stored(), "the relay published with two of three brokers down"
        # The stall shows: a round not acknowledged in time is given up (and redone), and says so
        # (then the next try may fail sooner, creating topics or starting the producer).
        status = await relay_status(relay_service.url, lambda s: s["last_error"] is not None)
        assert status["backlog"] > 0
        print(f"\nrelay with two brokers down: {status}")
        assert relay.position() == held, "the relay published with two of three brokers down"

        await asyncio.to_thread(cluster.restart, down[0])
        back = time.monotonic()
        await relay.wait_advance(relay.stored() - 1)
        print(f"writes stopped {back - stopped:.1f} s with two brokers down; the relay published the backlog "
              f"{time.monotonic() - back:.1f} s after one came back")
        await relay_status(relay_service.url, lambda s: s["last_error"] is None and s["backlog"] == 0)
        await field.stream(batches=5)
        await assert_exact(database, field, timeout_s=120)
    finally:
        done.set()
        await watching


async def relay_status(url: str, wanted: Callable[[dict], bool], timeout_s: float = 30) -> dict:
    """The relay's /readyz once ``wanted`` holds for it."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=5) as client:
        while not wanted(status := (await client.get(f"{url}/readyz")).json()):
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.2)
    return status
