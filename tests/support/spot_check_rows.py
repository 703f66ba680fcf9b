"""Decided spot checks written straight into PostgreSQL (migration 0020's tables), as the spot
check store leaves them once an outcome settles the verdict: for the tests of what a decided
check changes elsewhere (alerts, marks on figures, officers' flags), apart from how it is drawn."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Item:
    team: str
    officer: str
    outcome: str  # a tally06.domain.spot_checks.Outcome value


async def insert_check(db: asyncpg.Connection, unit: str, status: str, decided_at: dt.datetime | None,
                       items: Sequence[Item], *, n: int | None = None, d: int = 2, marks_figures: bool = True,
                       drawn_at: dt.datetime | None = None) -> int:
    """One check of ``unit`` with one item per ``items`` (ranks in order) and its final outcome;
    successes and failures counted from the outcomes. Returns its id."""
    seqs = list(range(1, len(items) + 1))
    digest = hashlib.sha256("\n".join(map(str, seqs)).encode()).hexdigest()
    failures = sum(i.outcome in ("not_activated", "not_own_account", "not_guided") for i in items)
    successes = sum(i.outcome == "confirmed" for i in items)
    drawn = drawn_at or (decided_at or dt.datetime.now(dt.UTC)) - dt.timedelta(hours=2)
    check_id: int = await db.fetchval(
        "INSERT INTO spot_checks (unit, teams, population, period_to, seed, population_seqs, population_digest, "
        "population_size, n, d, upper, lower, alpha, beta, alpha_actual, beta_actual, rule_given, marks_figures, "
        "status, successes, failures, estimate, ci_low, ci_high, drawn_by, drawn_at, decided_at) "
        "VALUES ($1, ARRAY[$1], 'credited', $2, $3, $4, $5, $6, $7, $8, 0.95, 0.7, 0.05, 0.1, 0.04, 0.09, false, $9, $10, "
        "$11, $12, $13, 0.4, 0.95, 'test', $14, $15) RETURNING id",
        unit, drawn, b"seed-" + unit.encode(), seqs, digest, len(seqs), n or max(len(items), d + 1), d, marks_figures, status,
        successes, failures, successes / max(1, successes + failures), drawn, decided_at)
    for rank, item in enumerate(items):
        await db.execute(
            "INSERT INTO spot_check_items (check_id, rank, seq, citizen_key, team, officer, level, occurred_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, 2, $7)", check_id, rank, rank + 1, f"key-{check_id}-{rank}",
            item.team, item.officer, drawn - dt.timedelta(days=1))
        await db.execute(
            "INSERT INTO spot_check_outcomes (id, check_id, rank, outcome, recorded_by, recorded_at) "
            "VALUES ($1, $2, $3, $4, 'verifier', $5)", uuid.uuid4(), check_id, rank, item.outcome, drawn)
    return check_id
