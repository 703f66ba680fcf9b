"""Hourly activation tallies per officer and the activity flags they raise, written after the
events' commit by a background task of this process.

The event store's transaction holds the sequence lock, which every post waits for in turn, so
nothing of this runs inside it: a post hands over its batch's counts (a dictionary update) and
gets its answer at once. The writer takes everything handed over in the last half second in one
short transaction, like group commit does for events. A crash can lose the counts of the last
moments; a flag is a hint for a reviewer, not a figure anybody reports, so that is accepted in
exchange for a write path that never waits for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping

import asyncpg
import structlog
from prometheus_client import Counter

from tally06_ingest.activity_flags import ActivityFlag, HourTally, OfficerHour, add_tallies, flags_over

log = structlog.get_logger(__name__)

FLAGS = Counter("tally06_ingest_activity_flags_total",
                "Officer-hours newly flagged for implausibly many account activations")

_TALLY = """
INSERT INTO officer_hour_activations AS t (officer, local_hour, team, activations)
SELECT * FROM unnest($1::text[], $2::timestamp[], $3::text[], $4::int[])
ON CONFLICT (officer, local_hour) DO UPDATE
    SET activations = t.activations + EXCLUDED.activations, team = EXCLUDED.team
RETURNING officer, local_hour, team, activations
"""

_FLAG = """
INSERT INTO activity_flags AS f
    (officer, local_hour, team, activations, threshold, first_flagged_at, last_flagged_at)
SELECT u.officer, u.local_hour, u.team, u.activations, $5, $6, $6
FROM unnest($1::text[], $2::timestamp[], $3::text[], $4::int[]) AS u(officer, local_hour, team, activations)
ON CONFLICT (officer, local_hour) DO UPDATE
    SET activations = GREATEST(f.activations, EXCLUDED.activations), team = EXCLUDED.team,
        threshold = EXCLUDED.threshold, last_flagged_at = EXCLUDED.last_flagged_at
RETURNING officer, local_hour, (xmax = 0) AS raised
"""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ActivityWatch:
    def __init__(self, pool: asyncpg.Pool, threshold: int, *, max_pending: int = 100_000,
                 retry_s: float = 1.0, gather_s: float = 0.5, now: Callable[[], dt.datetime] = _utcnow) -> None:
        self._pool = pool
        self._threshold = threshold
        self._max_pending = max_pending
        self._retry_s = retry_s
        self._gather_s = gather_s
        self._now = now
        self._pending: dict[OfficerHour, HourTally] = {}
        self._writer: asyncio.Task | None = None

    @property
    def enabled(self) -> bool:
        return self._threshold > 0

    def note(self, tallies: Mapping[OfficerHour, HourTally]) -> None:
        """Hand over a committed batch's counts; they are written soon, off this request."""
        if not self.enabled or not tallies:
            return
        if len(self._pending) + len(tallies) > self._max_pending:
            # The database has been unreachable for a long while: memory comes first.
            log.warning("activity_tally_dropped", officer_hours=len(tallies))
            return
        add_tallies(self._pending, tallies)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending())

    async def close(self, timeout_s: float = 5.0) -> None:
        """Write what is pending (for at most ``timeout_s``), then stop."""
        writer = self._writer
        if writer is None or writer.done():
            return
        done, _ = await asyncio.wait({writer}, timeout=timeout_s)
        if not done:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            log.warning("activity_tally_unwritten", officer_hours=len(self._pending))

    async def _write_pending(self) -> None:
        while self._pending:
            # Counts gather a moment first: under load a write per post was a transaction per
            # post, for a hint a reviewer reads minutes later.
            await asyncio.sleep(self._gather_s)
            batch, self._pending = self._pending, {}
            try:
                raised = await self._write(batch)
            except Exception as exc:  # noqa: BLE001 - keep the counts and try again
                log.warning("activity_tally_failed", error=type(exc).__name__, officer_hours=len(batch))
                add_tallies(batch, self._pending)
                self._pending = batch
                await asyncio.sleep(self._retry_s)
                continue
            for flag in raised:
                FLAGS.inc()
                # Officer and team only: never anything about the citizens they served.
                log.warning("implausible_activity_flagged", officer=flag.officer, team=flag.team,
                            local_hour=flag.local_hour.isoformat(timespec="minutes"),
                            activations=flag.activations, threshold=flag.threshold)

    async def _write(self, batch: dict[OfficerHour, HourTally]) -> list[ActivityFlag]:
        """Add the batch to the tallies; flag the officer-hours now over the threshold. Returns
        the flags raised for the first time."""
        keys = sorted(batch)  # one lock order for every writer: no deadlocks between processes
        async with self._pool.acquire() as conn, conn.transaction():
            # Losing the last moments' counts in a database crash is acceptable (see above);
            # not waiting for the log flush keeps this out of the event store's way.
            await conn.execute("SET LOCAL synchronous_commit = off")
            rows = await conn.fetch(
                _TALLY, [k.officer for k in keys], [k.local_hour for k in keys],
                [batch[k].team for k in keys], [batch[k].activations for k in keys],
            )
            totals = {OfficerHour(r["officer"], r["local_hour"]): HourTally(r["team"], r["activations"])
                      for r in rows}
            flags = flags_over(totals, self._threshold, self._now())
            if not flags:
                return []
            written = await conn.fetch(
                _FLAG, [f.officer for f in flags], [f.local_hour for f in flags],
                [f.team for f in flags], [f.activations for f in flags], self._threshold,
                flags[0].flagged_at,
            )
        new = {(r["officer"], r["local_hour"]) for r in written if r["raised"]}
        return [f for f in flags if (f.officer, f.local_hour) in new]
