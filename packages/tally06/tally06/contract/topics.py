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


def fact_key(unit: str) -> bytes:
    """Facts are keyed by the commune their team was in when the event was stored (frozen in
    ``events.fact_key``; district for facts stored before map versions): one key's facts stay in
    sequence order, and a later reorganisation never moves a stored fact to another key, so the
    projection's positions per key stay exact."""
    return unit.encode()


def progress_key(unit: str) -> bytes:
    return unit.encode()
