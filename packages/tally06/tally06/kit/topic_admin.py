"""Creating the topics ``tally06.contract.topics`` defines."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from tally06.contract.topics import ALL_TOPICS, TopicSpec

LEADERS_TIMEOUT_MS = 30_000


async def ensure_topics(
    bootstrap: str, replication_factor: int = 1, specs: tuple[TopicSpec, ...] = ALL_TOPICS
) -> list[str]:
    """Create missing topics and return once each partition of them has a leader; returns the
    names created.

    A topic's configs are set when it is created and never altered: a topic an operator tuned
    keeps its settings. Kafka answers CreateTopics before the new partitions have leaders, and
    a producer that writes at once gets NotLeaderForPartition for a while (it retries, but its
    first batches wait out retry backoffs); so this waits until every partition created, here
    or concurrently by another process, has a leader that answers.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics([
            NewTopic(spec.name, num_partitions=spec.partitions, replication_factor=replication_factor,
                     topic_configs=dict(spec.config))
            for spec in missing
        ])
        created: list[str] = []
        for topic, code, *message in response.topic_errors:
            error = for_code(code)
            if code and error is not TopicAlreadyExistsError:
                raise error(f"creating topic {topic}: {message[0] if message else ''}")
            if not code:
                created.append(topic)
    finally:
        await admin.close()
    await _wait_for_leaders(bootstrap, missing)
    return created


async def _wait_for_leaders(bootstrap: str, specs: list[TopicSpec]) -> None:
    # The metadata names a leader a moment before that broker leads; a ListOffsets request is
    # answered by the leader only once it does, and the consumer retries it until then.
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                request_timeout_ms=LEADERS_TIMEOUT_MS)
    try:
        await consumer.start()
        await consumer.end_offsets([TopicPartition(spec.name, p) for spec in specs for p in range(spec.partitions)])
    finally:
        await consumer.stop()
