"""The outbox relay: publishes committed events to Kafka in sequence order.

Guarantees, in order of importance:

* Nothing committed is skipped: the position only moves after the broker acknowledged every
  message up to it; on any failure the relay starts again from the stored position, so a
  message may be published twice (consumers skip sequence numbers they have applied).
* Per key, facts arrive in sequence order: a key never has more than one message in flight,
  and each message names the key's fact before it (``prev_seq``), so a consumer can tell when
  it missed some (it read a new log from an old offset) rather than skip them unknowingly.
* A broker that lost its log (a topic deleted and created anew, an unclean leader election, a
  cluster rebuilt empty) is noticed by probing the last message published; the relay then
  publishes everything again.
* One relay publishes at a time, across processes: leadership is a PostgreSQL advisory lock,
  released by the server when the holder dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson
import structlog
import uvicorn
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge

from tally06.contract.events import F
from tally06.contract.topics import FACTS, fact_key
from tally06.kit.ports import require_free_port_or_exit
from tally06.kit.structured_logging import configure_logging
from tally06.kit.topic_admin import ensure_topics
from tally06.store.database import create_pool
from tally06_ingest.exceptions import BrokerLogLost
from tally06_ingest.facts import FACT_COLUMNS, batches_by_key, encode_batch, seq_headers
from tally06_ingest.log_probe import broker_holds
from tally06_ingest.relay_http import create_relay_app
from tally06_ingest.settings import RelaySettings
from tally06_ingest.store import NOTIFY_CHANNEL

log = structlog.get_logger(__name__)

LEADER_LOCK = 6_060_002
PUBLISHED = Counter("tally06_relay_published_events_total", "Events published to the facts topic")
BACKLOG = Gauge("tally06_relay_backlog_events", "Committed events not yet published")
STALLS = Counter("tally06_relay_publish_stalls_total", "Rounds the brokers did not acknowledge in time")
LOST_LOGS = Counter("tally06_relay_broker_log_lost_total", "Times the broker was found without its log")


@dataclass(frozen=True)
class Probe:
    partition: int
    offset: int
    seq: int


class Relay:
    def __init__(self, settings: RelaySettings, pool: asyncpg.Pool) -> None:
        self.settings = settings
        self.pool = pool
        self._wakeup = asyncio.Event()
        self._high_offsets: dict[int, int] = {}
        self.status: dict[str, object] = {"leading": False, "last_error": None}

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                async with self._leadership(stop) as leader:
                    if leader:
                        await self._serve(stop)
                        backoff = 0.5
            except BrokerLogLost:
                try:
                    await self._republish_everything()
                except Exception as exc:  # noqa: BLE001 - the next probe finds the loss again
                    log.warning("relay_reset_failed", error=type(exc).__name__)
                continue
            except asyncio.CancelledError:
                # aiokafka can let a cancellation of its own escape when the broker drops;
                # only a cancellation of this task (shutdown) may end the relay.
                current = asyncio.current_task()
                if current is None or current.cancelling():
                    raise
                log.warning("relay_retrying", error="CancelledError", wait_s=backoff)
                self.status["last_error"] = "CancelledError"
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception as exc:  # noqa: BLE001 - the relay outlives any outage
                log.warning("relay_retrying", error=type(exc).__name__, detail=str(exc)[:200], wait_s=backoff)
                self.status["last_error"] = type(exc).__name__
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)

    @contextlib.asynccontextmanager
    async def _leadership(self, stop: asyncio.Event) -> AsyncIterator[bool]:
        conn = await asyncpg.connect(self.settings.database_url)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK):
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                if stop.is_set():
                    yield False
                    return
            log.info("relay_leading")
            self.status["leading"] = True
            await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wakeup.set())
            yield True
        finally:
            self.status["leading"] = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 5)

    async def _serve(self, stop: asyncio.Event) -> None:
        bootstrap = self.settings.kafka_bootstrap
        await ensure_topics(bootstrap, self.settings.topic_replication_factor)
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2, request_timeout_ms=10_000,
            max_request_size=4 * 1024 * 1024,
        )
        await producer.start()
        try:
            await self._check_broker()
            last_probe = time.monotonic()
            while not stop.is_set():
                state = await self.pool.fetchrow("SELECT position, key_heads FROM relay_state")
                rows = await self.pool.fetch(
                    f"SELECT {FACT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
                    state["position"], self.settings.relay_batch_rows,
                )
                if rows:
                    probe, heads = await self._publish(producer, rows, orjson.loads(state["key_heads"]))
                    await self._advance(rows[-1]["seq"], probe, heads)
                    PUBLISHED.inc(len(rows))
                    self.status["last_error"] = None  # publishing again
                    continue
                BACKLOG.set(0)
                self._wakeup.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self.settings.relay_idle_wait_s)
                if time.monotonic() - last_probe > self.settings.relay_probe_interval_s:
                    await self._check_broker()
                    last_probe = time.monotonic()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 10)

    async def _publish(
        self, producer: AIOKafkaProducer, rows: list[Any], heads: dict[str, int]
    ) -> tuple[Probe, dict[str, int]]:
        """Publish rows; returns the probe and the keys' new heads (last sequence numbers)."""
        grouped = batches_by_key(rows, self.settings.relay_facts_per_message)
        acked: list[Probe] = []

        async def send_key(key: str, chunks: list[list[list[Any]]]) -> None:
            prev_seq = heads.get(key, 0)
            for chunk in chunks:  # one message in flight per key keeps the key in order
                meta = await producer.send_and_wait(
                    FACTS.name, encode_batch(key, chunk, prev_seq), key=fact_key(key), headers=seq_headers(chunk)
                )
                prev_seq = chunk[-1][F.SEQ]
                acked.append(Probe(meta.partition, meta.offset, prev_seq))

        try:
            # aiokafka retries a send while the partition has no leader or too few in-sync
            # replicas (min ISR), without failing: bounded here, a stalled cluster shows in
            # /readyz and the stall counter, and the round is redone from the stored position.
            async with asyncio.timeout(self.settings.relay_round_timeout_s), asyncio.TaskGroup() as group:
                for key, chunks in grouped.items():
                    group.create_task(send_key(key, chunks))
        except TimeoutError:
            STALLS.inc()
            raise
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from failed
        self._check_offsets_grow(acked)
        moved = {key: chunks[-1][-1][F.SEQ] for key, chunks in grouped.items()}
        return max(acked, key=lambda p: p.seq), moved

    def _check_offsets_grow(self, acked: list[Probe]) -> None:
        """A partition whose new offsets start at or below old ones was truncated."""
        lowest: dict[int, int] = {}
        highest: dict[int, int] = {}
        for p in acked:
            lowest[p.partition] = min(lowest.get(p.partition, p.offset), p.offset)
            highest[p.partition] = max(highest.get(p.partition, p.offset), p.offset)
        for partition, low in lowest.items():
            if low <= self._high_offsets.get(partition, -1):
                raise BrokerLogLost(f"partition {partition} restarted at offset {low}")
        self._high_offsets.update(highest)

    async def _advance(self, position: int, probe: Probe, heads: dict[str, int]) -> None:
        await self.pool.execute(
            "UPDATE relay_state SET position = $1, probe_partition = $2, probe_offset = $3, "
            "probe_seq = $4, key_heads = key_heads || $5::jsonb, updated_at = now()",
            position, probe.partition, probe.offset, probe.seq, orjson.dumps(heads).decode(),
        )
        BACKLOG.set(await self.pool.fetchval("SELECT last_seq FROM event_seq") - position)

    async def _check_broker(self) -> None:
        state = await self.pool.fetchrow(
            "SELECT probe_partition, probe_offset, probe_seq FROM relay_state"
        )
        if state["probe_seq"] is None:
            return
        if not await broker_holds(
            self.settings.kafka_bootstrap, FACTS.name, state["probe_partition"],
            state["probe_offset"], state["probe_seq"],
        ):
            raise BrokerLogLost(f"offset {state['probe_offset']} of partition {state['probe_partition']} is gone")

    async def _republish_everything(self) -> None:
        LOST_LOGS.inc()
        self._high_offsets.clear()
        epoch = await self.pool.fetchval(
            "UPDATE relay_state SET position = 0, key_heads = '{}', broker_epoch = broker_epoch + 1, "
            "probe_partition = NULL, probe_offset = NULL, probe_seq = NULL, updated_at = now() "
            "RETURNING broker_epoch"
        )
        log.warning("broker_log_lost_republishing", broker_epoch=epoch)


async def run_relay(settings: RelaySettings) -> None:
    """Run until SIGINT or SIGTERM. Stopping cancels whatever is under way: the position is
    only ever written after the broker acknowledged, so an interrupted round is just redone."""
    pool = await create_pool(settings.database_url, min_size=1, max_size=3)
    relay = Relay(settings, pool)
    server = uvicorn.Server(uvicorn.Config(
        create_relay_app(pool, relay.status), host=settings.host, port=settings.relay_port,
        log_config=None, access_log=False))
    # uvicorn (>= 0.29) has no install_signal_handlers to silence: it takes SIGINT and SIGTERM only
    # while serving, and the loop still sees them there, so ours below cancel the relay as well.
    task = asyncio.create_task(relay.run(asyncio.Event()))
    web = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    log.info("relay_started", bootstrap=settings.kafka_bootstrap, port=settings.relay_port)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        server.should_exit = True
        await web
        await pool.close()
        log.info("relay_stopped")


def main() -> None:
    settings = RelaySettings()
    configure_logging(settings.log_level, settings.log_json, service="relay")
    require_free_port_or_exit("relay", settings.host, settings.relay_port)
    asyncio.run(run_relay(settings))


if __name__ == "__main__":
    main()
