"""Retention of clear personal data: erase ``citizen_pii`` rows older than the retention period,
and the sealed names and phones of registry records nobody needs to call any more.

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


# A registry record's name and phone are there for the work lists: once the registry shows the
# citizen activated or rejected, no list holds them, and past retention they go. A later
# extract that puts the citizen on a list again brings them back with its row.
_REGISTRY_DONE = "status IN ('activated', 'rejected') AND pii_sealed IS NOT NULL AND as_of < $1"


async def registry_contacts_expired(conn: asyncpg.Connection, cutoff: dt.datetime) -> int:
    return await conn.fetchval(f"SELECT count(*) FROM registry_citizens WHERE {_REGISTRY_DONE}", cutoff)


async def erase_registry_contacts(conn: asyncpg.Connection, cutoff: dt.datetime, *,
                                  batch_size: int = DEFAULT_BATCH) -> int:
    """Clear the sealed name and phone of registry records off every list since before
    ``cutoff``; returns how many. The record itself (stages, days, where the citizen lives) stays:
    claims are judged against it."""
    erased = 0
    while True:
        status = await conn.execute(
            "UPDATE registry_citizens SET pii_key_id = NULL, pii_sealed = NULL WHERE citizen_key IN "
            f"(SELECT citizen_key FROM registry_citizens WHERE {_REGISTRY_DONE} LIMIT $2)", cutoff, batch_size)
        done = int(status.split()[-1])
        if done == 0:
            return erased
        erased += done
