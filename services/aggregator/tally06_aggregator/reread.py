"""Held-back messages: left unacknowledged, and their partitions read again from the start.

The relay chains each key's messages (``prev_seq``), and a message whose predecessor is not
counted is held back (``tally06_aggregator.fold``). Its predecessor may come later: after a lost
log the relay republishes from the start; while a rebalance moves a partition, the worker that
held it may still be writing the predecessor. Or it may lie below in the log, never to come
again: after a rebalance Faust can hand a stream a message fetched before it and drop the ones
below it (faust-streaming#221). So a held-back message is not acknowledged (the consumer's
committed offset stays below it, whoever reads the partition next), and its partition is read
again from the start: Kafka offsets are the only way back, and the projection's positions make a
second reading idempotent. At most once per ``quiet_s`` a partition, as a lost log may need
several readings before the relay has republished what comes first. Pure: the caller seeks.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

TP = TypeVar("TP", bound=Hashable)


def held_back(batches: Iterable[tuple[str, int | None]], gaps: Iterable[tuple[str, int, int]]) -> list[bool]:
    """For each ``(key, prev_seq)`` message of a step, whether the step held it back."""
    missing = {(key, prev_seq) for key, prev_seq, _ in gaps}
    return [(key, prev_seq) in missing for key, prev_seq in batches]


def partitions_to_reread(held: Iterable[TP], assigned: set[TP], last_read_again: Mapping[TP, float],
                         now: float, quiet_s: float) -> list[TP]:
    """The partitions with held-back messages that this worker still reads and did not read
    again in the last ``quiet_s`` seconds (a partition that moved is read by its new worker
    from below the held-back message, which was not acknowledged)."""
    due = {tp for tp in held if tp in assigned and now - last_read_again.get(tp, float("-inf")) >= quiet_s}
    return sorted(due, key=repr)
