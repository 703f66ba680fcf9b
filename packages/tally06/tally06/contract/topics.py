"""Topic names, partition counts and message keys: the one place that defines them."""

from __future__ import annotations

from dataclasses import dataclass


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
