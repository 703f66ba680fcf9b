"""Re-encrypting ``citizen_pii`` under the active key of TALLY06_PII_KEYS, and what each key still seals.

A rotation puts a new key in front of the ring; ingest seals new rows with it at once, but old
rows stay sealed with the key they were written with until ``tally06 pii rekey`` re-encrypts
them. Only then can the old key leave the ring.

Each batch is its own short transaction: ingest keeps inserting meanwhile (it only ever
inserts, never updates a row), a stopped run loses at most one batch, and a second run picks up
whatever still carries an old key id. Rows are taken ``FOR UPDATE SKIP LOCKED`` so two runs at
once share the work rather than wait for or redo each other's. The associated data of a row is
its ``citizen_key``, exactly as ingest seals it, so a re-encrypted row stays bound to its citizen.

The registry's records (``registry_citizens.pii_sealed``, the name and phone of the work lists)
are sealed the same way and re-encrypted by the same run, after ``citizen_pii``; an import that
runs meanwhile seals with the active key anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import asyncpg
from cryptography.exceptions import InvalidTag

from tally06.domain.exceptions import KeyConfigError
from tally06.domain.pii import KeyRing, SealedPii

DEFAULT_BATCH = 500


@dataclass(frozen=True)
class _Sealed:
    """A table holding sealed personal data: its row id, key id and sealed value columns."""

    table: str
    id_column: str
    id_type: str
    key_column: str
    sealed_column: str


_TABLES = (_Sealed("citizen_pii", "seq", "bigint", "key_id", "sealed"),
           _Sealed("registry_citizens", "citizen_key", "text", "pii_key_id", "pii_sealed"))


@dataclass(frozen=True)
class PiiRow:
    seq: int | str  # the row's id in its table (citizen_pii.seq, registry_citizens.citizen_key)
    citizen_key: str
    key_id: str
    sealed: bytes


@dataclass(frozen=True)
class Resealed:
    """A row opened with its old key and sealed again under the active one."""

    seq: int | str
    sealed: SealedPii


@dataclass(frozen=True)
class BatchOutcome:
    resealed: list[Resealed]
    unreadable: list[PiiRow]  # the ring's key for its id does not open it


def reseal_rows(ring: KeyRing, rows: Iterable[PiiRow]) -> BatchOutcome:
    """Each row opened with its own key and sealed again with the active one; rows that do not
    open are set aside, never guessed at."""
    resealed, unreadable = [], []
    for row in rows:
        try:
            sealed = ring.reseal(SealedPii(row.key_id, row.sealed), associated=row.citizen_key)
        except (InvalidTag, KeyConfigError):
            unreadable.append(row)
            continue
        resealed.append(Resealed(row.seq, sealed))
    return BatchOutcome(resealed, unreadable)


@dataclass(frozen=True)
class KeyUsage:
    key_id: str
    rows: int
    status: str  # ACTIVE, OLD or UNKNOWN


ACTIVE, OLD, UNKNOWN = "active", "old", "not in ring"


def key_usage(ring_ids: tuple[str, ...], counts: Mapping[str, int]) -> list[KeyUsage]:
    """Every key of the ring in ring order (also those sealing nothing: they may go), then the
    key ids rows carry that the ring lacks (those rows cannot be opened with this ring)."""
    usage = [KeyUsage(key_id, counts.get(key_id, 0), ACTIVE if n == 0 else OLD) for n, key_id in enumerate(ring_ids)]
    usage += [KeyUsage(key_id, counts[key_id], UNKNOWN) for key_id in sorted(set(counts) - set(ring_ids))]
    return usage


async def rows_by_key(conn: asyncpg.Connection) -> dict[str, int]:
    """How many rows each key id seals, in citizen_pii and registry_citizens (a full scan: an admin
    query, not a hot path)."""
    rows = await conn.fetch(
        "SELECT key_id, count(*) AS n FROM (SELECT key_id FROM citizen_pii UNION ALL "
        "SELECT pii_key_id FROM registry_citizens WHERE pii_key_id IS NOT NULL) AS sealed GROUP BY key_id")
    return {r["key_id"]: r["n"] for r in rows}


@dataclass
class RekeyResult:
    active_id: str
    old_ids: list[str]
    resealed: int = 0
    batches: int = 0
    unreadable: dict[str, int] = field(default_factory=dict)  # key id -> rows its key would not open
    unknown: dict[str, int] = field(default_factory=dict)  # key id not in the ring -> rows
    remaining: int = 0  # rows still on an old key of the ring when the run ended, unreadable ones included

    @property
    def complete(self) -> bool:
        """Every row is sealed with the active key: the old keys may leave the ring."""
        return self.remaining == 0 and not self.unknown


def new_result(ring: KeyRing) -> RekeyResult:
    return RekeyResult(ring.active_id, [key_id for key_id in ring.ids if key_id != ring.active_id])


async def rekey(
    conn: asyncpg.Connection, ring: KeyRing, *, batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int, int], None] | None = None, result: RekeyResult | None = None,
) -> RekeyResult:
    """Re-encrypt, batch by batch, every row sealed with an old key of ``ring``.

    ``progress(done, total)`` after each batch; ``total`` is what carried an old key at the
    start. Rows written meanwhile by a service that still seals with an old key are taken too
    when they come after the batch in hand, else by the next run (``remaining`` counts them).
    ``result`` (from ``new_result``) is filled in as batches commit, so a caller that sees the
    run stop half-way still knows what was done.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    result = result or new_result(ring)
    old_ids = result.old_ids
    total = 0
    for t in _TABLES:
        total += await conn.fetchval(f"SELECT count(*) FROM {t.table} WHERE {t.key_column} = ANY($1::text[])", old_ids)
    done = 0
    for table in _TABLES if old_ids else ():
        done = await _rekey_table(conn, ring, table, result, batch_size=batch_size, done=done, total=total,
                                  progress=progress)
    counts = await rows_by_key(conn)
    result.remaining = sum(counts.get(key_id, 0) for key_id in old_ids)
    result.unknown = {u.key_id: u.rows for u in key_usage(ring.ids, counts) if u.status == UNKNOWN}
    return result


async def _rekey_table(conn: asyncpg.Connection, ring: KeyRing, t: _Sealed, result: RekeyResult, *,
                       batch_size: int, done: int, total: int, progress: Callable[[int, int], None] | None) -> int:
    after: int | str | None = None
    while True:
        async with conn.transaction():
            records = await conn.fetch(
                f"SELECT {t.id_column} AS id, citizen_key, {t.key_column} AS key_id, {t.sealed_column} AS sealed "
                f"FROM {t.table} WHERE {t.key_column} = ANY($1::text[]) "
                f"AND ($2::{t.id_type} IS NULL OR {t.id_column} > $2::{t.id_type}) "
                f"ORDER BY {t.id_column} LIMIT $3 FOR UPDATE SKIP LOCKED",
                result.old_ids, after, batch_size)
            if not records:
                return done
            outcome = reseal_rows(ring, (PiiRow(r["id"], r["citizen_key"], r["key_id"], bytes(r["sealed"]))
                                         for r in records))
            if outcome.resealed:
                await conn.execute(
                    f"UPDATE {t.table} p SET {t.key_column} = u.key_id, {t.sealed_column} = u.sealed "
                    f"FROM unnest($1::{t.id_type}[], $2::text[], $3::bytea[]) AS u(id, key_id, sealed) "
                    f"WHERE p.{t.id_column} = u.id",
                    [r.seq for r in outcome.resealed], [r.sealed.key_id for r in outcome.resealed],
                    [r.sealed.blob for r in outcome.resealed])
        # Keyset paging: unreadable rows stay behind the cursor instead of coming back every batch.
        after = records[-1]["id"]
        result.batches += 1
        result.resealed += len(outcome.resealed)
        for row in outcome.unreadable:
            result.unreadable[row.key_id] = result.unreadable.get(row.key_id, 0) + 1
        done += len(records)
        if progress:
            progress(done, max(total, done))
