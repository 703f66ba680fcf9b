"""The simulated clock: replays the last hours fast, then runs with the wall clock.

It never runs ahead of real time, because a device cannot record an event that has not
happened yet and ingest refuses events too far in the future.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class SimClock:
    real_start: dt.datetime
    backfill: dt.timedelta
    speed: float

    @property
    def sim_start(self) -> dt.datetime:
        return (self.real_start - self.backfill).replace(microsecond=0)

    def at(self, real_now: dt.datetime) -> dt.datetime:
        """Simulated time at ``real_now``: ``speed``× from ``sim_start``, capped at real now,
        to the whole second (events are stamped to the second)."""
        elapsed = (real_now - self.real_start) * max(self.speed, 1.0)
        return min(real_now, self.sim_start + elapsed).replace(microsecond=0)

    def caught_up(self, real_now: dt.datetime) -> bool:
        return self.at(real_now) >= real_now.replace(microsecond=0)
