"""Spot checks on PostgreSQL (migration 0020): the thresholds a province sets, the population a
draw is made from, the draw itself (frozen, with its seed and rule), the reads of checks, and the
replay that proves a draw reproducible. Outcomes are in ``store.spot_check_outcomes``.

A draw is one transaction: the population is read, frozen into the check row with its digest,
the sample and its reserves are copied from the event store into ``spot_check_items`` and the
audit entry is written, so there is never a check without its entry nor an entry without a check.
The audit entry names who drew what, never a citizen.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import asyncpg

from tally06.domain.lqas import DecisionRule, Design, DesignError, Thresholds, design, risks
from tally06.domain.metrics import ACTIVATED
from tally06.domain.spot_checks import (
    DEFAULT_THRESHOLDS,
    UNREACHABLE_AFTER_TRIES,
    AuditAction,
    CheckStatus,
    Population,
    draw,
    population_digest,
)
from tally06.store.audit_log import ADMIN_ROLE, record_change
from tally06.store.exceptions import SpotCheckError

Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool

SEED_BYTES = 16


@dataclass(frozen=True)
class CheckRow:
    """One check as stored (its frozen population apart: ``frozen_population`` reads it)."""

    id: int
    unit: str
    map_version: int | None
    teams: tuple[str, ...]
    population: Population
    period_from: dt.datetime | None
    period_to: dt.datetime
    seed: bytes
    population_digest: str
    population_size: int
    n: int
    d: int
    upper: float
    lower: float
    alpha: float
    beta: float
    alpha_actual: float
    beta_actual: float
    rule_given: bool
    tries: int
    marks_figures: bool
    status: CheckStatus
    successes: int
    failures: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    drawn_by: str
    drawn_at: dt.datetime
    decided_at: dt.datetime | None
    drawn: int  # items drawn: the sample and its reserves (fewer for a small unit)

    @property
    def rule(self) -> DecisionRule:
        return DecisionRule(self.n, self.d)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.upper, self.lower, self.alpha, self.beta)

    @property
    def seed_hex(self) -> str:
        return self.seed.hex()

    @property
    def checked(self) -> int:
        return self.successes + self.failures

    @property
    def decided(self) -> bool:
        return self.status is not CheckStatus.OPEN


CHECK_COLUMNS = (
    "c.id, c.unit, c.map_version, c.teams, c.population, c.period_from, c.period_to, c.seed, c.population_digest, "
    "c.population_size, c.n, c.d, c.upper, c.lower, c.alpha, c.beta, c.alpha_actual, c.beta_actual, c.rule_given, "
    "c.tries, c.marks_figures, c.status, c.successes, c.failures, c.estimate, c.ci_low, c.ci_high, c.drawn_by, "
    "c.drawn_at, c.decided_at, (SELECT count(*) FROM spot_check_items i WHERE i.check_id = c.id)::int AS drawn")


def check_row(record: asyncpg.Record) -> CheckRow:
    values = dict(record)
    values["teams"] = tuple(values["teams"])
    values["population"] = Population(values["population"])
    values["status"] = CheckStatus(values["status"])
    values["seed"] = bytes(values["seed"])
    return CheckRow(**values)


# --- thresholds -------------------------------------------------------------------------------

async def thresholds_source(conn: Conn, chain: Sequence[str]) -> tuple[Thresholds, str | None]:
    """The thresholds of the nearest unit of ``chain`` (the unit, then each unit above) that has
    some, and that unit; the defaults and None when none has."""
    rows = await conn.fetch("SELECT unit, upper, lower, alpha, beta FROM spot_check_thresholds "
                            "WHERE unit = ANY($1::text[])", list(chain))
    by_unit = {r["unit"]: r for r in rows}
    for unit in chain:
        if (r := by_unit.get(unit)) is not None:
            return Thresholds(r["upper"], r["lower"], r["alpha"], r["beta"]), unit
    return DEFAULT_THRESHOLDS, None


async def thresholds_for(conn: Conn, chain: Sequence[str]) -> Thresholds:
    return (await thresholds_source(conn, chain))[0]


def checked_design(thresholds: Thresholds, rule: DecisionRule | None = None) -> Design:
    """The rule the thresholds give (or the rule given, with its exact risks at them); a problem
    with either as a ``SpotCheckError`` naming the field."""
    problem = thresholds.problem()
    if problem is not None:
        raise SpotCheckError(*problem)
    try:
        return design(thresholds) if rule is None else risks(rule, thresholds)
    except DesignError as exc:
        raise SpotCheckError(exc.field, exc.message) from exc


async def set_thresholds(conn: asyncpg.Connection, unit: str, thresholds: Thresholds, *, actor: str,
                         role: str = ADMIN_ROLE) -> Design:
    """Set a unit's thresholds (they must make a rule: the design is returned), audited in the
    same transaction."""
    made = checked_design(thresholds)
    t = thresholds
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO spot_check_thresholds (unit, upper, lower, alpha, beta, set_by) VALUES ($1,$2,$3,$4,$5,$6) "
            "ON CONFLICT (unit) DO UPDATE SET upper = $2, lower = $3, alpha = $4, beta = $5, set_by = $6, "
            "set_at = now()", unit, t.upper, t.lower, t.alpha, t.beta, actor)
        await record_change(
            conn, actor=actor, role=role, action=AuditAction.THRESHOLDS, target=unit, unit=unit,
            summary=f"spot-check thresholds of {unit}: upper {t.upper}, lower {t.lower}, alpha {t.alpha}, "
                    f"beta {t.beta} → n={made.rule.n}, d={made.rule.d}",
            detail={"upper": t.upper, "lower": t.lower, "alpha": t.alpha, "beta": t.beta,
                    "n": made.rule.n, "d": made.rule.d})
    return made


# --- population and draw ------------------------------------------------------------------------

# Credited activation claims by the Appendix I rule (reports/appendix2.py): occurred in
# (period_from, period_to] and received by period_to. The unconfirmed population is the subset the
# registry judged 'unconfirmed' (claim_states): the same period rule on the claim's own event, so
# it is always part of the credited population of the same period.
_POPULATION = (
    "SELECT e.seq FROM events e {join} WHERE e.team = ANY($1::text[]) AND e.credited "
    "AND e.metric = ANY($2::text[]) AND e.occurred_at <= $3 AND e.received_at <= $3 "
    "AND ($4::timestamptz IS NULL OR e.occurred_at > $4) ORDER BY e.seq")
_JOINS = {Population.CREDITED: "",
          Population.UNCONFIRMED: "JOIN claim_states s ON s.seq = e.seq AND s.state = 'unconfirmed'"}


async def population_seqs(conn: Conn, *, teams: Sequence[str], population: Population,
                          period_from: dt.datetime | None, period_to: dt.datetime) -> list[int]:
    """The sequence numbers of the claims a draw is made from, ascending."""
    rows = await conn.fetch(_POPULATION.format(join=_JOINS[Population(population)]), list(teams),
                            list(ACTIVATED), period_to, period_from)
    return [r["seq"] for r in rows]


def _check_period(period_from: dt.datetime | None, period_to: dt.datetime) -> None:
    if period_to.tzinfo is None:
        raise SpotCheckError("to", "needs a UTC offset")
    if period_from is not None and period_from.tzinfo is None:
        raise SpotCheckError("from", "needs a UTC offset")
    if period_from is not None and period_from >= period_to:
        raise SpotCheckError("from", "must be before the end of the period")


async def draw_check(
    conn: asyncpg.Connection, *, unit: str, teams: Sequence[str], population: Population,
    period_from: dt.datetime | None, period_to: dt.datetime, thresholds: Thresholds,
    rule: DecisionRule | None, seed: bytes | None, actor: str, marks_figures: bool = True,
    map_version: int | None = None, role: str = ADMIN_ROLE, tries: int = UNREACHABLE_AFTER_TRIES,
) -> CheckRow:
    """Freeze the population of ``unit`` (its ``teams``) in the period, draw the sample and its
    reserves with ``seed`` (16 random bytes when None) and store them, audited; one transaction."""
    population = Population(population)
    made = checked_design(thresholds, rule)
    _check_period(period_from, period_to)
    if seed is not None and not seed:
        raise SpotCheckError("seed", "must not be empty")
    seed = os.urandom(SEED_BYTES) if seed is None else bytes(seed)
    words = "credited activation" if population is Population.CREDITED else "unconfirmed activation"
    t = thresholds
    async with conn.transaction():
        seqs = await population_seqs(conn, teams=teams, population=population, period_from=period_from,
                                     period_to=period_to)
        if not seqs:
            raise SpotCheckError("unit", f"no {words} claims of {unit} in the period")
        drawn, digest = draw(seed, seqs, made.rule), population_digest(seqs)
        check_id = await conn.fetchval(
            "INSERT INTO spot_checks (unit, map_version, teams, population, period_from, period_to, seed, "
            "population_seqs, population_digest, population_size, n, d, upper, lower, alpha, beta, alpha_actual, "
            "beta_actual, rule_given, tries, marks_figures, drawn_by) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22) RETURNING id",
            unit, map_version, sorted(teams), population.value, period_from, period_to, seed, seqs,
            digest, len(seqs), made.rule.n, made.rule.d, t.upper, t.lower, t.alpha, t.beta,
            made.alpha, made.beta, rule is not None, tries, marks_figures, actor)
        # Copied from the event store in draw order: rank 0 is the first drawn.
        await conn.execute(
            "INSERT INTO spot_check_items (check_id, rank, seq, citizen_key, team, officer, level, occurred_at) "
            "SELECT $1, d.rank - 1, e.seq, e.citizen_key, e.team, e.officer, e.level, e.occurred_at "
            "FROM unnest($2::bigint[]) WITH ORDINALITY AS d(seq, rank) JOIN events e ON e.seq = d.seq",
            check_id, drawn)
        await record_change(
            conn, actor=actor, role=role, action=AuditAction.DRAW, target=f"spot_check:{check_id}", unit=unit,
            row_count=len(drawn), period_from=period_from, period_to=period_to,
            summary=f"spot check {check_id} of {unit}: {len(drawn)} of {len(seqs)} {words} claims drawn "
                    f"(n={made.rule.n}, d={made.rule.d}{', rule given' if rule is not None else ''})",
            detail={"check_id": check_id, "population": population.value, "n": made.rule.n, "d": made.rule.d,
                    "population_size": len(seqs), "population_digest": digest,
                    "seed": seed.hex(), "map_version": map_version})
        found = await get_check(conn, check_id)
    assert found is not None
    return found


# --- reads ---------------------------------------------------------------------------------------

async def get_check(conn: Conn, check_id: int) -> CheckRow | None:
    row = await conn.fetchrow(f"SELECT {CHECK_COLUMNS} FROM spot_checks c WHERE c.id = $1", check_id)
    return None if row is None else check_row(row)


async def list_checks(conn: Conn, units: Sequence[str] | None, *, statuses: Sequence[CheckStatus | str] | None = None,
                      limit: int = 200) -> list[CheckRow]:
    """Checks of the units (None: of every unit), newest draw first."""
    rows = await conn.fetch(
        f"SELECT {CHECK_COLUMNS} FROM spot_checks c WHERE ($1::text[] IS NULL OR c.unit = ANY($1)) "
        "AND ($2::text[] IS NULL OR c.status = ANY($2)) ORDER BY c.drawn_at DESC, c.id DESC LIMIT $3",
        None if units is None else list(units), None if statuses is None else [str(s) for s in statuses], limit)
    return [check_row(r) for r in rows]


async def last_decided(conn: Conn, units: Sequence[str]) -> dict[str, CheckRow]:
    """The latest decided check of each unit that has one."""
    rows = await conn.fetch(
        f"SELECT DISTINCT ON (c.unit) {CHECK_COLUMNS} FROM spot_checks c "
        "WHERE c.unit = ANY($1::text[]) AND c.status <> 'open' ORDER BY c.unit, c.decided_at DESC, c.id DESC",
        list(units))
    return {r["unit"]: check_row(r) for r in rows}


async def frozen_population(conn: Conn, check_id: int) -> list[int]:
    return list(await conn.fetchval("SELECT population_seqs FROM spot_checks WHERE id = $1", check_id) or [])


async def drawn_seqs(conn: Conn, check_id: int) -> list[int]:
    """The drawn claims in draw order."""
    rows = await conn.fetch("SELECT seq FROM spot_check_items WHERE check_id = $1 ORDER BY rank", check_id)
    return [r["seq"] for r in rows]


@dataclass(frozen=True)
class Replay:
    """A check drawn again. ``same``: the frozen list still has its stored digest and the stored
    seed and rule draw the stored sample from it again. ``digest_now`` and ``sample_now`` are the
    population as the event store gives it today and what the seed would draw from it (they differ
    from the stored ones once claims arrive late or the registry judges more claims: the check
    stands on its frozen list)."""

    same: bool
    digest_stored: str
    digest_now: str
    sample_stored: list[int]
    sample_again: list[int]
    sample_now: list[int]

    @property
    def population_unchanged(self) -> bool:
        return self.digest_now == self.digest_stored


async def replay(conn: Conn, check_id: int) -> Replay:
    check = await get_check(conn, check_id)
    if check is None:
        raise SpotCheckError("check", f"there is no spot check {check_id}")
    frozen = await frozen_population(conn, check_id)
    stored = await drawn_seqs(conn, check_id)
    again = draw(check.seed, frozen, check.rule)
    now = await population_seqs(conn, teams=check.teams, population=check.population,
                                period_from=check.period_from, period_to=check.period_to)
    same = again == stored and population_digest(frozen) == check.population_digest
    return Replay(same, check.population_digest, population_digest(now), stored, again,
                  draw(check.seed, now, check.rule) if now else [])
