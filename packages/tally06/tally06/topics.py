"""Topic names, partition counts and message keys: the one place that defines them."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    # Facts can always be republished from the event store, but keeping them lets a new
    # consumer replay without touching PostgreSQL.
    config: tuple[tuple[str, str], ...] = ()


FACTS = TopicSpec("tally06.facts.v1", partitions=12, config=(("retention.ms", "-1"),))
PROGRESS = TopicSpec("tally06.progress.v1", partitions=6, config=(("retention.ms", "604800000"),))

ALL_TOPICS = (FACTS, PROGRESS)


def fact_key(district: str) -> bytes:
    """Facts are keyed by district so that one district's facts stay in sequence order."""
    return district.encode()


def progress_key(unit: str) -> bytes:
    return unit.encode()


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
