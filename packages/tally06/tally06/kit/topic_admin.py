"""Creating the topics ``tally06.contract.topics`` defines."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from tally06.contract.topics import ALL_TOPICS, TopicSpec


async def ensure_topics(
    bootstrap: str, replication_factor: int = 1, specs: tuple[TopicSpec, ...] = ALL_TOPICS
) -> list[str]:
    """Create missing topics; returns the names created.

    Tansu has no AlterConfigs and ignores most topic configs, so configs are only set at
    creation, which Kafka and Tansu both accept.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        created: list[str] = []
        for spec in missing:
            try:
                await admin.create_topics(
                    [
                        NewTopic(
                            spec.name,
                            num_partitions=spec.partitions,
                            replication_factor=replication_factor,
                            topic_configs=dict(spec.config),
                        )
                    ]
                )
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        await admin.close()
