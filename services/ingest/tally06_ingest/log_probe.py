"""Does the broker still hold a message we know it accepted?

The embedded broker keeps its log in memory; after a restart it comes back empty. Asking for
end offsets is not enough (Tansu reports them too low), so the probe reads the very message
the relay last published and compares its sequence header.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from tally06_ingest.facts import header_seq


async def broker_holds(bootstrap: str, topic: str, partition: int, offset: int, seq: int,
                       timeout_s: float = 5.0) -> bool:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="none",
        request_timeout_ms=10_000,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if partitions is None:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - fresh view of topics
            partitions = consumer.partitions_for_topic(topic)
        if not partitions or partition not in partitions:
            return False
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        try:
            fetch = consumer.getmany(tp, timeout_ms=int(timeout_s * 1000), max_records=1)
            batch = await asyncio.wait_for(fetch, timeout_s + 2)
        except (KafkaError, asyncio.TimeoutError):
            return False
        records = batch.get(tp, [])
        return bool(records) and records[0].offset == offset and header_seq(records[0].headers) == seq
    finally:
        await consumer.stop()
