"""Retention of clear personal data: erase ``citizen_pii`` rows older than the retention period.

Only the encrypted CCCD, name and phone go. Events, credits and the counters never held clear
personal data (a citizen there is an HMAC), so every count and report figure stays as it was;
Appendix II lists an erased activation with empty personal fields.

Age is the row's ``created_at``, the moment ingest stored it. Rows go in batches, each its own
short transaction, oldest sequence numbers first, so a nightly run never holds locks ingest
would wait on for long and a stopped run simply leaves the rest for the next one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

DEFAULT_BATCH = 1000


def retention_cutoff(now: dt.datetime, days: int) -> dt.datetime:
    """Rows stored before this moment are past retention."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware time")
    if days < 1:
        # 0 would erase what ingest stored a moment ago, before any report could use it.
        raise ValueError("the retention period must be at least 1 day")
    return now - dt.timedelta(days=days)


@dataclass(frozen=True)
class Expired:
    rows: int
    oldest: dt.datetime | None


async def expired(conn: asyncpg.Connection, cutoff: dt.datetime) -> Expired:
    """What a run with this cutoff would erase (``--dry-run``)."""
    row = await conn.fetchrow("SELECT count(*) AS n, min(created_at) AS oldest FROM citizen_pii WHERE created_at < $1",
                              cutoff)
    return Expired(row["n"], row["oldest"])


async def erase_expired(
    conn: asyncpg.Connection, cutoff: dt.datetime, *, batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Delete every row stored before ``cutoff``; returns (rows erased, batches)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total = (await expired(conn, cutoff)).rows
    erased = batches = 0
    while True:
        # One statement, so one transaction per batch. By sequence number: old rows sit at the
        # front of the primary key, so a batch reads little more than what it deletes.
        status = await conn.execute(
            "DELETE FROM citizen_pii WHERE seq IN "
            "(SELECT seq FROM citizen_pii WHERE created_at < $1 ORDER BY seq LIMIT $2)", cutoff, batch_size)
        deleted = int(status.split()[-1])
        if deleted == 0:
            return erased, batches
        erased += deleted
        batches += 1
        if progress:
            progress(erased, max(total, erased))
