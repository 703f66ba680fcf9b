"""What verifiers record for the items of a spot check, and the verdict it folds into (migration
0020, ``domain.spot_checks.verdict``).

Recording takes the check row ``FOR UPDATE``: two verifiers recording at once for the same check
are served one after the other, so each sees what the other recorded (a second final outcome for
an item is refused, naming who recorded the first), and the verdict is folded over everything
committed. The outcome's time is the clock's after the lock is held (``clock_timestamp()``), so
times follow the order outcomes were recorded in and the fold decides as the verifiers did.

The verdict's status and time are written once, by the outcome that settles it; the counts, the
estimate and its interval follow every outcome recorded afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import asyncpg

from tally06.domain.pii import CitizenProtector, SealedPii
from tally06.domain.spot_checks import (
    OUTCOME_TEXTS,
    RECORDABLE,
    CheckStatus,
    Outcome,
    Recorded,
    Verdict,
    item_outcomes,
    verdict,
)
from tally06.store.exceptions import SpotCheckConflict, SpotCheckError
from tally06.store.spot_check_draws import CHECK_COLUMNS, CheckRow, Conn, check_row, get_check

MAX_NOTE = 500


@dataclass(frozen=True)
class OutcomeRow:
    id: uuid.UUID
    rank: int
    outcome: Outcome
    note: str | None
    recorded_by: str
    recorded_at: dt.datetime


@dataclass(frozen=True)
class ItemRow:
    rank: int
    reserve: bool  # drawn beyond the sample, taken in only for an unreachable citizen
    active: bool  # part of the sample the verdict counts now
    seq: int
    team: str
    officer: str
    level: int
    occurred_at: dt.datetime
    outcome: Outcome | None  # the final outcome (unreachable after enough tries), None while open
    tries: int  # attempts that reached nobody (no_answer)
    # The final outcome's record, else the latest try's.
    note: str | None
    recorded_by: str | None
    recorded_at: dt.datetime | None


@dataclass(frozen=True)
class Contact:
    full_name: str | None
    phone: str | None


@dataclass(frozen=True)
class RecordResult:
    recorded: bool  # False: a retry of an outcome already recorded (or the same final outcome again)
    verdict: Verdict
    check: CheckRow


async def outcome_rows(conn: Conn, check_id: int) -> list[OutcomeRow]:
    rows = await conn.fetch("SELECT id, rank, outcome, note, recorded_by, recorded_at FROM spot_check_outcomes "
                            "WHERE check_id = $1 ORDER BY recorded_at, id", check_id)
    return [OutcomeRow(r["id"], r["rank"], Outcome(r["outcome"]), r["note"], r["recorded_by"], r["recorded_at"])
            for r in rows]


def fold(check: CheckRow, rows: list[OutcomeRow]) -> Verdict:
    return verdict(check.rule, check.drawn, [Recorded(r.rank, r.outcome, r.recorded_at) for r in rows],
                   tries=check.tries)


async def check_verdict(conn: Conn, check: CheckRow) -> Verdict:
    return fold(check, await outcome_rows(conn, check.id))


async def items(conn: Conn, check_id: int) -> list[ItemRow]:
    """The drawn items in draw order with their outcomes (no citizen data: ``contacts`` has it)."""
    check = await get_check(conn, check_id)
    if check is None:
        return []
    rows = await outcome_rows(conn, check_id)
    judged = fold(check, rows)
    finals = item_outcomes([Recorded(r.rank, r.outcome, r.recorded_at) for r in rows], tries=check.tries)
    records = await conn.fetch("SELECT rank, seq, team, officer, level, occurred_at FROM spot_check_items "
                               "WHERE check_id = $1 ORDER BY rank", check_id)
    sample = min(check.n, check.drawn)
    out = []
    for r in records:
        mine = [o for o in rows if o.rank == r["rank"]]
        final = next((o for o in mine if o.outcome.final), None)
        shown = final or (mine[-1] if mine else None)
        out.append(ItemRow(
            r["rank"], r["rank"] >= sample, r["rank"] in judged.active, r["seq"], r["team"], r["officer"],
            r["level"], r["occurred_at"], finals.get(r["rank"]), sum(o.outcome is Outcome.NO_ANSWER for o in mine),
            shown.note if shown else None, shown.recorded_by if shown else None,
            shown.recorded_at if shown else None))
    return out


async def contacts(conn: Conn, check_id: int, protector: CitizenProtector) -> dict[int, Contact]:
    """Each drawn citizen's name and phone in clear, by rank: only for a caller allowed to see
    them, who writes the audit entry (in the transaction of this read where it can). A claim whose
    personal data is gone (retention) or was never stored has ``Contact(None, None)``."""
    rows = await conn.fetch(
        "SELECT i.rank, i.citizen_key, p.key_id, p.sealed FROM spot_check_items i "
        "LEFT JOIN citizen_pii p ON p.seq = i.seq WHERE i.check_id = $1 ORDER BY i.rank", check_id)
    found = {}
    for r in rows:
        if r["sealed"] is None:
            found[r["rank"]] = Contact(None, None)
            continue
        values = protector.open(SealedPii(r["key_id"], bytes(r["sealed"])), associated=r["citizen_key"])
        found[r["rank"]] = Contact(values.get("full_name"), values.get("phone"))
    return found


def _conflict(rank: int, first: asyncpg.Record) -> SpotCheckConflict:
    said = OUTCOME_TEXTS[Outcome(first["outcome"])][1].lower()
    return SpotCheckConflict("outcome", f"item {rank} was already recorded as {said} ({first['outcome']}) by "
                                        f"{first['recorded_by']} at {first['recorded_at'].isoformat()}")


async def record_outcome(conn: asyncpg.Connection, check_id: int, rank: int, *, outcome_id: uuid.UUID,
                         outcome: Outcome, note: str | None, actor: str) -> RecordResult:
    """Record one outcome for the item at ``rank``, idempotent by ``outcome_id`` (made by the
    client, so a retry after a lost answer records nothing new), and fold the verdict again."""
    outcome = Outcome(outcome)
    if outcome not in RECORDABLE:
        raise SpotCheckError("outcome", "unreachable is not recorded: record no_answer for each try; the last "
                                        "allowed try makes the citizen unreachable and brings in a reserve")
    if note is not None and len(note) > MAX_NOTE:
        raise SpotCheckError("note", f"must be at most {MAX_NOTE} characters")
    async with conn.transaction():
        locked = await conn.fetchrow(f"SELECT {CHECK_COLUMNS} FROM spot_checks c WHERE c.id = $1 FOR UPDATE",
                                     check_id)
        if locked is None:
            raise SpotCheckError("check", f"there is no spot check {check_id}")
        check = check_row(locked)
        before = await conn.fetchrow("SELECT check_id, rank FROM spot_check_outcomes WHERE id = $1", outcome_id)
        if before is not None:
            if (before["check_id"], before["rank"]) != (check_id, rank):
                raise SpotCheckError("id", "is already the id of an outcome of another item")
            return RecordResult(False, await check_verdict(conn, check), check)
        if not 0 <= rank < check.drawn:
            raise SpotCheckError("rank", f"check {check_id} has no item {rank} (items 0 to {check.drawn - 1})")
        first = await conn.fetchrow(
            "SELECT outcome, recorded_by, recorded_at FROM spot_check_outcomes "
            "WHERE check_id = $1 AND rank = $2 AND outcome <> 'no_answer'", check_id, rank)
        if first is not None:
            # The same final outcome again under a new id (two verifiers reaching the same citizen,
            # or a client that lost its id) agrees with what is there: nothing new is recorded and
            # nobody is told off. A different one, or a try after the item is settled, is refused.
            if outcome.final and first["outcome"] == outcome.value:
                return RecordResult(False, await check_verdict(conn, check), check)
            raise _conflict(rank, first)
        await conn.execute(
            "INSERT INTO spot_check_outcomes (id, check_id, rank, outcome, note, recorded_by, recorded_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp())", outcome_id, check_id, rank, outcome.value,
            note, actor)
        judged = await check_verdict(conn, check)
        est = judged.estimate
        settles = check.status is CheckStatus.OPEN and judged.status is not CheckStatus.OPEN
        await conn.execute(
            "UPDATE spot_checks SET successes = $2, failures = $3, estimate = $4, ci_low = $5, ci_high = $6, "
            "status = CASE WHEN $7 THEN $8 ELSE status END, "
            "decided_at = CASE WHEN $7 THEN $9 ELSE decided_at END WHERE id = $1",
            check_id, judged.successes, judged.failures, est.rate, est.low if est.rate is not None else None,
            est.high if est.rate is not None else None, settles, judged.status.value, judged.decided_at)
        updated = await get_check(conn, check_id)
    assert updated is not None
    return RecordResult(True, judged, updated)
