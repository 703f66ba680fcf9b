"""Does the broker still hold a message we know it accepted?

Kafka keeps its log across a crash, so a broker that was only killed and restarted holds every
message it acknowledged. The log is still lost, and the relay must publish everything again,
when the topic was deleted and created anew (by an operator, or a tool), when an unclean
leader election made a replica that missed the newest messages the leader, or when the cluster
was rebuilt empty (new disks, a new cluster id). In all three the partition's offsets start
again below ours, or hold other messages: so the probe reads the very message the relay last
published and compares its sequence header, rather than trusting an end offset alone.

A probe that cannot tell (the broker is away, the partition has no leader yet) raises: only an
answer from the broker that the message is not there may make the relay publish everything
again, never a timeout.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import OffsetOutOfRangeError

from tally06.kit.topic_partitions import topic_partitions
from tally06_ingest.exceptions import ProbeInconclusive
from tally06_ingest.facts import header_seq


async def broker_holds(bootstrap: str, topic: str, partition: int, offset: int, seq: int,
                       timeout_s: float = 5.0) -> bool:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="none",
        request_timeout_ms=10_000,
    )
    try:
        await consumer.start()
        partitions = await topic_partitions(consumer, topic)
        if not partitions or partition not in partitions:
            return False  # the topic is gone, or came back with fewer partitions
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        # A log that ends at or before our message would only keep a fetch waiting.
        if (await consumer.end_offsets([tp]))[tp] <= offset:
            return False
        consumer.seek(tp, offset)
        try:
            fetch = consumer.getmany(tp, timeout_ms=int(timeout_s * 1000), max_records=1)
            batch = await asyncio.wait_for(fetch, timeout_s + 2)
        except OffsetOutOfRangeError:
            return False  # the log no longer reaches back to our message: it started anew
        except TimeoutError as exc:
            raise ProbeInconclusive(f"no answer for partition {partition} within {timeout_s} s") from exc
        records = batch.get(tp, [])
        if not records:
            raise ProbeInconclusive(f"partition {partition} sent nothing within {timeout_s} s")
        return records[0].offset == offset and header_seq(records[0].headers) == seq
    finally:
        await consumer.stop()
