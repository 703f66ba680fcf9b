"""A team's phone: it queues what the team records and uploads now and then.

Phones do not post every event the moment it happens: they upload every minute or two, lose
the network for hours in the hills of Mường Lát and then send everything at once, and some
have a clock a few minutes off. Pure: the simulated and real "now" are arguments.
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any

from tally06.simulator.faults import FaultConfig, corrupt, shift


@dataclass(frozen=True)
class Batch:
    """One POST body's worth of events, as it will be sent (and resent) byte for byte."""

    events: list[dict[str, Any]]
    late: bool = False
    invalid: collections.Counter[str] = field(default_factory=collections.Counter)


@dataclass
class Device:
    team: str
    drift_s: float = 0.0
    outbox: list[dict[str, Any]] = field(default_factory=list)
    offline_until: dt.datetime | None = None
    next_flush: dt.datetime | None = None
    last_tick: dt.datetime | None = None

    @classmethod
    def new(cls, team: str, rng: random.Random, faults: FaultConfig) -> Device:
        drifting = faults.drift_share > 0 and rng.random() < faults.drift_share
        return cls(team, rng.uniform(-faults.max_drift_s, faults.max_drift_s) if drifting else 0.0)

    @property
    def offline(self) -> bool:
        return self.offline_until is not None

    def enqueue(self, events: list[dict[str, Any]]) -> None:
        self.outbox.extend(shift(e, self.drift_s) for e in events)

    def tick(self, sim_now: dt.datetime, real_now: dt.datetime, rng: random.Random,
             faults: FaultConfig) -> list[Batch]:
        """The batches the phone uploads at ``sim_now`` (often none)."""
        elapsed_h = 0.0 if self.last_tick is None else (sim_now - self.last_tick).total_seconds() / 3600
        self.last_tick = sim_now
        if self.offline_until is not None:
            if sim_now < self.offline_until:
                return []
            self.offline_until = None  # back online: the whole queue goes, late
            return self.drain(real_now, rng, faults, late=True)
        if faults.offline_per_hour > 0 and rng.random() < 1 - math.exp(-faults.offline_per_hour * elapsed_h):
            self.offline_until = sim_now + dt.timedelta(hours=rng.uniform(*faults.offline_hours))
            return []
        if self.next_flush is not None and sim_now < self.next_flush:
            return []
        self.next_flush = sim_now + dt.timedelta(seconds=rng.uniform(*faults.flush_every_s))
        return self.drain(real_now, rng, faults)

    def drain(self, real_now: dt.datetime, rng: random.Random, faults: FaultConfig, *,
              late: bool = False) -> list[Batch]:
        """Everything queued, in batches the ingest limit allows, with the odd invalid twin."""
        # Leave room in each batch for the invalid twins ``corrupt`` adds.
        size = max(1, faults.max_batch - max(1, faults.max_batch // 50))
        batches = []
        queued, self.outbox = self.outbox, []
        for i in range(0, len(queued), size):
            events, invalid = corrupt(queued[i:i + size], rng, share=faults.invalid_share,
                                      real_now=real_now, limit=faults.max_batch)
            batches.append(Batch(events, late=late, invalid=invalid))
        return batches
