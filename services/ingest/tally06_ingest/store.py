"""The event store: appends a batch of validated events in one transaction.

An event counts as accepted only once this transaction has committed. Sequence numbers are
handed out under the lock of the ``event_seq`` row, so they commit in order and the relay can
never read a later number before an earlier one becomes visible.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

import asyncpg
from prometheus_client import Counter

from tally06.contract.events import SCHEMA_VERSION, local_day
from tally06.domain.pii import CitizenProtector, SealedPii
from tally06_ingest.validation import ValidEvent

NOTIFY_CHANNEL = "tally06_events"

RETRIED = Counter("tally06_ingest_writes_retried_total",
                  "Writes looked at again because another process stored one of their ids meanwhile")


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
            self._protector.seal(event.citizen_values(), associated=citizen_key),
        )

    async def append(self, candidates: list[Candidate]) -> list[Outcome]:
        return await self.write(self.prepare(candidates))

    async def write(self, prepared: list[Prepared]) -> list[Outcome]:
        """One outcome per prepared event, in the same order."""
        if not prepared:
            return []
        async with self._pool.acquire() as conn:
            try:
                return await self._write(conn, prepared, lock_first=False)
            except asyncpg.UniqueViolationError:
                # Another writer stored one of these ids between the look-up and the insert (a
                # phone retrying through another ingest process): look again, under the lock.
                RETRIED.inc()
                return await self._write(conn, prepared, lock_first=True)

    async def _write(self, conn: asyncpg.Connection, prepared: list[Prepared], *, lock_first: bool) -> list[Outcome]:
        # Every writer holds the sequence lock in turn, from numbering to commit, so numbers
        # commit in order. The look-up of known ids runs before it, and numbering, credits,
        # events and sealed data are one statement: the lock is held for one round trip and
        # the commit, not for every step of the write.
        async with conn.transaction():
            if lock_first:
                await conn.execute("SELECT 1 FROM event_seq FOR UPDATE")
            known = {
                r["event_id"]: (r["content_digest"], r["seq"], r["credited"])
                for r in await conn.fetch(
                    "SELECT event_id, content_digest, seq, credited FROM events WHERE event_id = ANY($1::uuid[])",
                    [p.candidate.valid.event.event_id for p in prepared],
                )
            }
            outcomes, fresh = self._classify(prepared, known)
            if not fresh:
                return _filled(outcomes)
            rows = await conn.fetch(_APPEND, *_columns([prepared[i] for i in fresh]), SCHEMA_VERSION, NOTIFY_CHANNEL)
        credited = {r["seq"]: r["credited"] for r in rows}
        first = min(credited)
        for n, i in enumerate(fresh):
            outcomes[i] = Outcome(prepared[i].candidate.index, Status.ACCEPTED, first + n, credited[first + n])
        return _filled(outcomes)

    @staticmethod
    def _classify(
        prepared: list[Prepared], known: dict[uuid.UUID, tuple[str, int, bool]]
    ) -> tuple[list[Outcome | None], list[int]]:
        """Outcomes of retries and reused ids (also within the batch), in the batch's order, and
        the positions of the new events, whose slots stay empty until they are stored."""
        outcomes: list[Outcome | None] = []
        fresh: list[int] = []
        in_batch: dict[uuid.UUID, str] = {}
        for position, p in enumerate(prepared):
            event_id = p.candidate.valid.event.event_id
            index = p.candidate.index
            outcome: Outcome | None = None
            if event_id in known:
                digest, seq, was_credited = known[event_id]
                if digest == p.digest:
                    outcome = Outcome(index, Status.DUPLICATE, seq, was_credited)
                else:
                    outcome = Outcome(index, Status.REJECTED, reason="already used for an event with different content")
            elif event_id in in_batch:
                if in_batch[event_id] == p.digest:
                    outcome = Outcome(index, Status.DUPLICATE)
                else:
                    outcome = Outcome(index, Status.REJECTED, reason="used twice in this batch with different content")
            else:
                in_batch[event_id] = p.digest
                fresh.append(position)
            outcomes.append(outcome)
        return outcomes, fresh


def _filled(outcomes: list[Outcome | None]) -> list[Outcome]:
    """The outcomes once every slot holds one: the empty slots were the new events, all stored."""
    filled = [o for o in outcomes if o is not None]
    if len(filled) != len(outcomes):
        raise RuntimeError("an event of the batch got no outcome")
    return filled


def _columns(fresh: list[Prepared]) -> list[list[object]]:
    """The statement's arrays, one element per new event in posting order. Only the first event
    of a (citizen, metric) in the batch claims its credit; the claim wins unless an earlier
    batch holds it."""
    claimed: set[tuple[str, str]] = set()
    columns: list[list[object]] = [[] for _ in range(20)]
    for p in fresh:
        valid = p.candidate.valid
        event, lineage = valid.event, valid.lineage
        claim = (p.citizen_key, event.metric.value)
        first_claim = claim not in claimed
        claimed.add(claim)
        for column, value in zip(columns, (
            event.event_id, p.digest, event.type.value, event.level, event.metric.value, event.occurred_at,
            local_day(event.occurred_at), lineage.province, lineage.district, lineage.commune, event.team,
            event.officer, p.citizen_key, first_claim, p.candidate.token_id, p.sealed.key_id, p.sealed.blob,
            lineage.key_unit, valid.map_id, "/".join(lineage.codes),
        ), strict=True):
            column.append(value)
    return columns


# One statement under the sequence lock: take it and number the events (notifying the relay,
# delivered at commit), claim credits, store the events and their sealed personal data.
_APPEND = """
WITH moved AS (
    UPDATE event_seq SET last_seq = last_seq + cardinality($1::uuid[])
    RETURNING last_seq - cardinality($1::uuid[]) AS base, clock_timestamp() AS at, pg_notify($22, last_seq::text)
), x AS (
    SELECT m.base + e.n AS seq, m.at, e.*
    FROM moved m, unnest($1::uuid[], $2::text[], $3::text[], $4::smallint[], $5::text[], $6::timestamptz[],
                         $7::date[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                         $14::boolean[], $15::text[], $16::text[], $17::bytea[], $18::text[], $19::integer[],
                         $20::text[]) WITH ORDINALITY
        AS e(event_id, content_digest, type, level, metric, occurred_at, day, province, district, commune, team,
             officer, citizen_key, first_claim, token_id, key_id, sealed, fact_key, map_id, lineage, n)
), won AS (
    INSERT INTO credits (citizen_key, metric, seq)
    SELECT citizen_key, metric, seq FROM x WHERE first_claim
    ON CONFLICT DO NOTHING
    RETURNING citizen_key, metric
), stored AS (
    INSERT INTO events (seq, event_id, content_digest, schema_version, type, level, metric, occurred_at, day,
                        received_at, province, district, commune, team, officer, citizen_key, credited, token_id,
                        fact_key, map_id, lineage)
    SELECT x.seq, x.event_id, x.content_digest, $21::smallint, x.type, x.level, x.metric, x.occurred_at, x.day, x.at,
           x.province, x.district, x.commune, x.team, x.officer, x.citizen_key, w.citizen_key IS NOT NULL, x.token_id,
           x.fact_key, x.map_id, string_to_array(x.lineage, '/')
    FROM x LEFT JOIN won w ON x.first_claim AND w.citizen_key = x.citizen_key AND w.metric = x.metric
    RETURNING seq, credited
), sealed AS (
    INSERT INTO citizen_pii (seq, citizen_key, key_id, sealed, created_at)
    SELECT seq, citizen_key, key_id, sealed, at FROM x
)
SELECT seq, credited FROM stored
"""
