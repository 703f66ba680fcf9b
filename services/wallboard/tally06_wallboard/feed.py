"""The progress topic, read live and passed to open boards.

No consumer group: every wallboard process needs every change, while a group would share the
partitions out between them (and pause the feed for a rebalance whenever one starts or stops).
All partitions are assigned and reading starts at the end: a board fetches its full view when
it opens, the stream only brings what changed after that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from tally06.contract.topics import PROGRESS
from tally06.kit.topic_admin import ensure_topics
from tally06.kit.topic_partitions import topic_partitions
from tally06_wallboard.hub import BoardEvent, Hub
from tally06_wallboard.versions import NewestOnly

log = structlog.get_logger(__name__)


EPOCH_CHECK_S = 2.0


class ProgressFeed:
    def __init__(self, bootstrap: str, hub: Hub, replication_factor: int = 1,
                 broker_epoch: Callable[[], Awaitable[int | None]] | None = None,
                 check_s: float = EPOCH_CHECK_S) -> None:
        self.bootstrap = bootstrap
        self.hub = hub
        self.replication_factor = replication_factor
        # The relay bumps the broker epoch when it finds the log lost: the topic deleted and
        # created anew, an unclean leader election, the cluster rebuilt empty. Kafka reports a
        # position beyond the end of the new log as out of range (then "earliest" below applies),
        # but not one the new log has already grown past: the changes before it would be skipped
        # unseen. So on a new epoch the feed reads the new log from the start.
        self.broker_epoch = broker_epoch
        self._epoch: int | None = None
        self.check_s = check_s  # how often the broker and the epoch are asked
        # Set once every partition has a position: changes committed after that reach boards.
        self.positioned = asyncio.Event()
        self.last_poll = 0.0  # monotonic time of the last completed fetch
        # getmany() returns (empty) while the broker is away too, so the broker is asked
        # directly now and then; this is when it last answered.
        self.broker_seen = 0.0
        self._newest = NewestOnly()

    def forget(self) -> None:
        """Drop what was passed on: after a map switch the units (and their counters' versions)
        are those of the new map, and units of a dissolved map are not kept."""
        self._newest = NewestOnly()

    def healthy(self) -> bool:
        now = time.monotonic()
        return (self.positioned.is_set() and now - self.last_poll < 5.0
                and now - self.broker_seen < 3 * self.check_s + 1)

    async def run(self) -> None:
        """Read until cancelled; a broker that is away is retried, never fatal."""
        pause = 0.5
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any broker trouble: wait and start again
                log.warning("progress_feed_failed", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    async def _consume(self) -> None:
        # "earliest" applies when the broker reports a position out of range, i.e. the log
        # started anew below it: then every message of the new log is new to the boards.
        # Kafka answers a waiting fetch as soon as a change arrives, so the default fetch wait
        # costs no freshness.
        await ensure_topics(self.bootstrap, self.replication_factor, (PROGRESS,))
        # Lost while this feed was away (it restarts after broker trouble): the new log is all new.
        from_start = await self._log_was_lost()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest", request_timeout_ms=15_000,
        )
        await consumer.start()
        try:
            partitions = await topic_partitions(consumer, PROGRESS.name)
            if not partitions:
                raise RuntimeError(f"topic {PROGRESS.name} has no partitions yet")
            tps = [TopicPartition(PROGRESS.name, p) for p in sorted(partitions)]
            # To the end by explicit offsets, not seek_to_end: aiokafka lets the reset that
            # assign() starts ("earliest") land after a seek_to_end and win (the race Kafka's own
            # client fixed in KAFKA-7703), and the boards would get the whole topic again.
            ends = {} if from_start else await consumer.end_offsets(tps)
            consumer.assign(tps)
            for tp, offset in ends.items():
                consumer.seek(tp, offset)
            for tp in tps:  # resolves the reset now, so readiness means "positioned"
                await consumer.position(tp)
            self.positioned.set()
            self.last_poll = self.broker_seen = time.monotonic()
            log.info("progress_feed_positioned", partitions=len(tps))
            checked = time.monotonic()
            while True:
                batch = await consumer.getmany(timeout_ms=500, max_records=5_000)
                self.last_poll = time.monotonic()
                for records in batch.values():
                    for record in records:
                        self._pass_on(record.value)
                if self.last_poll - checked >= self.check_s:
                    checked = self.last_poll
                    await self._probe(consumer)
                    if await self._log_was_lost():
                        for tp in tps:
                            consumer.seek(tp, 0)
                        log.warning("broker_log_lost_rereading", partitions=len(tps))
        finally:
            await consumer.stop()

    async def _probe(self, consumer: AIOKafkaConsumer) -> None:
        try:
            await asyncio.wait_for(consumer.topics(), self.check_s)
        except (KafkaError, TimeoutError, OSError):
            return
        self.broker_seen = time.monotonic()

    async def _log_was_lost(self) -> bool:
        if self.broker_epoch is None:
            return False
        try:
            epoch = await self.broker_epoch()
        except Exception as exc:  # noqa: BLE001 - the database away: check again later
            log.warning("broker_epoch_unknown", error=type(exc).__name__)
            return False
        lost = self._epoch is not None and epoch is not None and epoch != self._epoch
        if epoch is not None:
            self._epoch = epoch
        return lost

    def _pass_on(self, raw: bytes | None) -> None:
        try:
            change = orjson.loads(raw or b"")
            fresh = self._newest.newer(change)
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            log.warning("progress_message_unreadable", error=str(exc))
            return
        if fresh is not None:
            self.hub.publish(BoardEvent("progress", fresh))
