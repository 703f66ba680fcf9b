"""The partitions of a topic as the broker has them now, for consumers that assign partitions
themselves (no consumer group): the wallboard's feed, the relay's log probe, tests and benches.

aiokafka starts with a view of the cluster that names no topic (its bootstrap asks Kafka for
metadata of an empty topic list, which from Metadata v1 on means none), and ``topics()``
returns a fresh view without keeping it; so the consumer's own view is renewed here.
"""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaConnectionError


async def topic_partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    """Partition numbers of ``topic`` (empty when the broker does not know the topic).

    Raises when no broker answered: a refresh that failed says nothing about the topic, and the
    relay's probe would read "no partitions" as a lost log."""
    if not await consumer._client.force_metadata_update():  # noqa: SLF001 - no public way to renew the view
        raise KafkaConnectionError(f"no broker answered a metadata request for {topic}")
    return consumer.partitions_for_topic(topic) or set()
