"""The event store: appends a batch of validated events in one transaction.

An event counts as accepted only once this transaction has committed. Sequence numbers are
handed out under the lock of the ``event_seq`` row, so they commit in order and the relay can
never read a later number before an earlier one becomes visible.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass

import asyncpg

from tally06.events import SCHEMA_VERSION, local_day
from tally06.pii import CitizenProtector, SealedPii
from tally06_ingest.validation import ValidEvent

NOTIFY_CHANNEL = "tally06_events"


class Status(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Candidate:
    index: int
    valid: ValidEvent
    token_id: str


@dataclass(frozen=True)
class Outcome:
    index: int
    status: Status
    seq: int | None = None
    credited: bool | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Prepared:
    candidate: Candidate
    citizen_key: str
    digest: str
    sealed: SealedPii


class EventStore:
    def __init__(self, pool: asyncpg.Pool, protector: CitizenProtector) -> None:
        self._pool = pool
        self._protector = protector

    def prepare(self, candidates: list[Candidate]) -> list[Prepared]:
        """Hash and seal: done before the sequence lock is taken (every post holds that lock in
        turn, so whatever runs under it limits the whole ingest rate), and by the group commit
        in each request, so it overlaps the write of the group before."""
        return [self._prepare(c) for c in candidates]

    def _prepare(self, candidate: Candidate) -> Prepared:
        event = candidate.valid.event
        citizen_key = self._protector.citizen_key(event.citizen.id_number)
        return Prepared(
            candidate,
            citizen_key,
            self._protector.content_digest(event.canonical()),
            self._protector.seal(event.citizen.model_dump(), associated=citizen_key),
        )

    async def append(self, candidates: list[Candidate]) -> list[Outcome]:
        return await self.write(self.prepare(candidates))

    async def write(self, prepared: list[Prepared]) -> list[Outcome]:
        if not prepared:
            return []
        async with self._pool.acquire() as conn, conn.transaction():
            last_seq, now = await conn.fetchrow("SELECT last_seq, clock_timestamp() FROM event_seq FOR UPDATE")
            known = {
                r["event_id"]: (r["content_digest"], r["seq"], r["credited"])
                for r in await conn.fetch(
                    "SELECT event_id, content_digest, seq, credited FROM events "
                    "WHERE event_id = ANY($1::uuid[])",
                    [p.candidate.valid.event.event_id for p in prepared],
                )
            }
            outcomes, fresh = self._classify(prepared, known)
            if not fresh:
                return outcomes
            seqs = {p.candidate.index: last_seq + n for n, p in enumerate(fresh, start=1)}
            credited = await self._claim_credits(conn, fresh, seqs)
            await self._insert(conn, fresh, seqs, credited, now)
            new_last = last_seq + len(fresh)
            await conn.execute("WITH moved AS (UPDATE event_seq SET last_seq = $1) SELECT pg_notify($2, $3)",
                               new_last, NOTIFY_CHANNEL, str(new_last))
        for p in fresh:
            i = p.candidate.index
            outcomes.append(Outcome(i, Status.ACCEPTED, seqs[i], i in credited))
        return sorted(outcomes, key=lambda o: o.index)

    @staticmethod
    def _classify(
        prepared: list[Prepared], known: dict[uuid.UUID, tuple[str, int, bool]]
    ) -> tuple[list[Outcome], list[Prepared]]:
        """Split a batch into retries, reused ids and new events (also within the batch)."""
        outcomes: list[Outcome] = []
        fresh: list[Prepared] = []
        in_batch: dict[uuid.UUID, str] = {}
        for p in prepared:
            event_id = p.candidate.valid.event.event_id
            index = p.candidate.index
            if event_id in known:
                digest, seq, was_credited = known[event_id]
                if digest == p.digest:
                    outcomes.append(Outcome(index, Status.DUPLICATE, seq, was_credited))
                else:
                    outcomes.append(Outcome(index, Status.REJECTED, reason="already used for an event with different content"))
            elif event_id in in_batch:
                if in_batch[event_id] == p.digest:
                    outcomes.append(Outcome(index, Status.DUPLICATE))
                else:
                    outcomes.append(Outcome(index, Status.REJECTED, reason="used twice in this batch with different content"))
            else:
                in_batch[event_id] = p.digest
                fresh.append(p)
        return outcomes, fresh

    @staticmethod
    async def _claim_credits(
        conn: asyncpg.Connection, fresh: list[Prepared], seqs: dict[int, int]
    ) -> set[int]:
        """Indexes of the events that are the first for their (citizen, metric)."""
        first: dict[tuple[str, str], int] = {}
        for p in fresh:
            first.setdefault((p.citizen_key, p.candidate.valid.event.metric.value), p.candidate.index)
        keys = list(first)
        won = await conn.fetch(
            "INSERT INTO credits (citizen_key, metric, seq) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) "
            "ON CONFLICT DO NOTHING RETURNING citizen_key, metric",
            [k[0] for k in keys], [k[1] for k in keys], [seqs[first[k]] for k in keys],
        )
        return {first[(r["citizen_key"], r["metric"])] for r in won}

    async def _insert(
        self,
        conn: asyncpg.Connection,
        fresh: list[Prepared],
        seqs: dict[int, int],
        credited: set[int],
        received_at: dt.datetime,
    ) -> None:
        events, pii = [], []
        for p in fresh:
            event, lineage = p.candidate.valid.event, p.candidate.valid.lineage
            seq = seqs[p.candidate.index]
            events.append((
                seq, event.event_id, p.digest, SCHEMA_VERSION, event.type.value, event.level,
                event.metric.value, event.occurred_at, local_day(event.occurred_at), received_at,
                lineage.province, lineage.district, lineage.commune, lineage.team, event.officer,
                p.citizen_key, p.candidate.index in credited, p.candidate.token_id,
            ))
            pii.append((seq, p.citizen_key, p.sealed.key_id, p.sealed.blob, received_at))
        await conn.copy_records_to_table("events", records=events, columns=_EVENT_COLUMNS)
        await conn.copy_records_to_table(
            "citizen_pii", records=pii, columns=("seq", "citizen_key", "key_id", "sealed", "created_at")
        )


_EVENT_COLUMNS = (
    "seq", "event_id", "content_digest", "schema_version", "type", "level", "metric",
    "occurred_at", "day", "received_at", "province", "district", "commune", "team", "officer",
    "citizen_key", "credited", "token_id",
)
