"""Spot-check benchmark (issue 18): a draw at province scale and verifiers recording at once.

On a fresh database, measured in one run:

* a draw (``store.spot_checks.draw_check``, default thresholds) from a province's 1,000,000
  credited activation claims, next to its baseline: the same population SELECTed, sequence
  numbers only (``population_seqs``, the query the draw starts with). The draw's parts are
  timed apart on the same list: the HMAC ordering in Python (``domain.spot_checks.draw``), the
  population digest, and storing the frozen list as one ``bigint[]``;
* the same for a commune of 5,000 claims;
* two verifiers recording 200 outcomes each on one check at once (two connections,
  ``store.spot_checks.record_outcome``), next to a plain transaction of one INSERT and one
  UPDATE of a shared row, the same 2 × 200 times from the same two connections.

The claims are copied into the event store (COPY), with claims the draw must leave out (not
credited, not an activation, received after the period), and each draw checks the size of the
population it froze; the recording checks the verdict the outcomes add up to.

``python -m bench.spot_checks`` runs it alone (a fresh database on the server of
``DATABASE_URL`` when set, else on an embedded PostgreSQL); ``python -m bench`` runs it as one of
its sections.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import typer

from tally06.contract.events import LOCAL_TZ
from tally06.domain.lqas import DecisionRule
from tally06.domain.org import Lineage, UnitKind
from tally06.domain.spot_checks import (
    DEFAULT_THRESHOLDS,
    Outcome,
    Population,
    draw,
    population_digest,
    reserve_count,
)
from tally06.imports.reference import demo_org
from tally06.store.spot_checks import CheckRow, draw_check, population_seqs, record_outcome

FULL_CLAIMS = 1_000_000
COMMUNE_CLAIMS = 5_000
OUTCOMES_EACH = 200
VERIFIERS = 2
REPEATS = 3  # each draw and its baseline: the median of three
PERIOD_TO = dt.datetime(2024, 11, 1, 0, 0, tzinfo=LOCAL_TZ)
_START = dt.datetime(2024, 10, 12, 7, 30, tzinfo=LOCAL_TZ)
_RECEIVED = dt.datetime(2024, 10, 26, 8, 0, tzinfo=dt.UTC)
_LATE = PERIOD_TO + dt.timedelta(hours=2)
_COLUMNS = ("seq", "event_id", "content_digest", "schema_version", "type", "level", "metric", "occurred_at", "day",
            "received_at", "province", "district", "commune", "team", "officer", "citizen_key", "credited",
            "fact_key", "map_id", "lineage")
# Claims the draw must leave out, one of each per this many credited claims.
_NOISE_EVERY = 30


def _units() -> tuple[str, list[Lineage], str, list[Lineage]]:
    """The province and its teams; the commune the small draw is made in, and its teams."""
    org = demo_org()
    teams = [lineage for t in org.units(UnitKind.TEAM) if (lineage := org.lineage(t.code)) is not None]
    commune = min(t.commune or "" for t in teams)
    return teams[0].province or "", teams, commune, [t for t in teams if t.commune == commune]


def _rows(claims: int, commune_claims: int, teams: list[Lineage], commune_teams: list[Lineage]) -> Iterator[tuple]:
    """``claims`` credited activation claims, ``commune_claims`` of them in the commune's teams,
    and every ``_NOISE_EVERY`` claims one duplicate, one installation and one late claim."""
    others = [t for t in teams if t not in commune_teams]
    times = [_START + dt.timedelta(days=d, minutes=m) for d in range(14) for m in range(0, 870, 7)]
    seq = 0
    for i in range(claims):
        team = commune_teams[i % len(commune_teams)] if i < commune_claims else others[i % len(others)]
        kinds: list[tuple[str, int | None, bool, dt.datetime]] = [("account_activated", 1 + (i % 3 == 0), True,
                                                                  _RECEIVED)]
        if i % _NOISE_EVERY == 0:
            kinds += [("account_activated", 1, False, _RECEIVED), ("app_installed", None, True, _RECEIVED),
                      ("account_activated", 2, True, _LATE)]
        for kind, level, credited, received in kinds:
            seq += 1
            occurred = times[seq % len(times)]
            metric = "installed" if level is None else f"activated_l{level}"
            yield (seq, uuid.UUID(int=seq), "-", 1, kind, level, metric, occurred, occurred.date(), received,
                   team.province, team.district, team.commune, team.team, f"CA-{team.team}-{seq % 4}",
                   f"{seq:064x}", credited, team.commune, 1, list(team.codes))


async def load_claims(conn: asyncpg.Connection, claims: int, commune_claims: int,
                      teams: list[Lineage], commune_teams: list[Lineage]) -> int:
    """COPY the claims into the event store, then VACUUM ANALYZE it as autovacuum would; returns
    the events written."""
    rows, written = _rows(claims, commune_claims, teams, commune_teams), 0
    while chunk := [row for _, row in zip(range(100_000), rows, strict=False)]:
        await conn.copy_records_to_table("events", columns=_COLUMNS, records=chunk)
        written += len(chunk)
    await conn.execute("UPDATE event_seq SET last_seq = $1", written)
    await conn.execute("VACUUM ANALYZE events")
    return written


async def _timed(coroutine: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    value = await coroutine
    return time.perf_counter() - started, value


async def measure_draw(conn: asyncpg.Connection, unit: str, teams: list[Lineage], expected: int,
                       *, parts: bool) -> dict[str, Any]:
    """The draw of ``unit`` next to the SELECT of its population, each the median of ``REPEATS``."""
    codes = [t.team for t in teams]
    selects, draws = [], []
    for _ in range(REPEATS):
        took, seqs = await _timed(population_seqs(conn, teams=codes, population=Population.CREDITED,
                                                  period_from=None, period_to=PERIOD_TO))
        selects.append(took)
        took, check = await _timed(draw_check(
            conn, unit=unit, teams=codes, population=Population.CREDITED, period_from=None, period_to=PERIOD_TO,
            thresholds=DEFAULT_THRESHOLDS, rule=None, seed=None, actor="bench"))
        draws.append(took)
        if not len(seqs) == check.population_size == expected or check.drawn != check.n + reserve_count(check.n):
            raise AssertionError(f"spot-check draw of {unit}: {len(seqs)} selected, {check.population_size} "
                                 f"frozen, {check.drawn} drawn; {expected} credited claims were loaded")
    select_s, draw_s = statistics.median(selects), statistics.median(draws)
    result = {"unit": unit, "claims": expected, "n": check.n, "d": check.d, "drawn": check.drawn,
              "select_s": select_s, "draw_s": draw_s, "vs_select": draw_s / select_s,
              "select_runs_s": selects, "draw_runs_s": draws}
    if parts:
        result["parts_s"] = await _draw_parts(conn, seqs, check)
    return result


async def _draw_parts(conn: asyncpg.Connection, seqs: list[int], check: CheckRow) -> dict[str, float]:
    """Where a draw's time goes beyond its SELECT, each part timed alone on the same list."""
    started = time.perf_counter()
    draw(os.urandom(16), seqs, check.rule)
    hmac_order = time.perf_counter() - started
    started = time.perf_counter()
    population_digest(seqs)
    digest = time.perf_counter() - started
    # Stored as spot_checks stores it (migration 0020: out of line, not compressed).
    await conn.execute("CREATE TEMPORARY TABLE bench_frozen (seqs bigint[])")
    await conn.execute("ALTER TABLE bench_frozen ALTER COLUMN seqs SET STORAGE EXTERNAL")
    insert, _ = await _timed(conn.execute("INSERT INTO bench_frozen VALUES ($1)", seqs))
    await conn.execute("DROP TABLE bench_frozen")
    return {"hmac_order": hmac_order, "digest": digest, "bigint_array_insert": insert}


def _outcome(rank: int) -> Outcome:
    return Outcome.NOT_GUIDED if rank % 10 == 3 else Outcome.CONFIRMED


async def _verifier(dsn: str, ranks: range, record: Any) -> list[float]:
    conn = await asyncpg.connect(dsn)
    try:
        latencies = []
        for rank in ranks:
            started = time.perf_counter()
            await record(conn, rank)
            latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        await conn.close()


async def _together(dsn: str, total: int, record: Any) -> dict[str, Any]:
    """``VERIFIERS`` connections recording ``total`` items at once, ranks interleaved."""
    started = time.perf_counter()
    runs = await asyncio.gather(*(_verifier(dsn, range(v, total, VERIFIERS), record) for v in range(VERIFIERS)))
    wall = time.perf_counter() - started
    ms = sorted(1000 * s for run in runs for s in run)
    in_order = [1000 * s for s in runs[0]]  # one verifier's, as the check's outcomes grew
    tenth = max(1, len(in_order) // 10)
    return {"outcomes": total, "wall_s": wall, "per_s": total / wall, "p50_ms": ms[len(ms) // 2],
            "p99_ms": ms[min(len(ms) - 1, int(0.99 * len(ms)))], "max_ms": ms[-1],
            "first_tenth_mean_ms": statistics.fmean(in_order[:tenth]),
            "last_tenth_mean_ms": statistics.fmean(in_order[-tenth:])}


async def measure_recording(dsn: str, conn: asyncpg.Connection, unit: str, teams: list[Lineage],
                            each: int) -> dict[str, Any]:
    total = VERIFIERS * each
    rule = DecisionRule(total, total // 10)  # every item a verifier records is in the sample
    check = await draw_check(conn, unit=unit, teams=[t.team for t in teams], population=Population.CREDITED,
                             period_from=None, period_to=PERIOD_TO, thresholds=DEFAULT_THRESHOLDS, rule=rule,
                             seed=None, actor="bench")

    async def outcome(verifier: asyncpg.Connection, rank: int) -> None:
        done = await record_outcome(verifier, check.id, rank, outcome_id=uuid.uuid4(), outcome=_outcome(rank),
                                    note=None, actor=f"verifier-{rank % VERIFIERS}")
        if not done.recorded:
            raise AssertionError(f"spot-check outcome {rank} of check {check.id} was not recorded")

    await conn.execute("CREATE TABLE bench_outcomes (id uuid PRIMARY KEY, rank integer NOT NULL, outcome text "
                       "NOT NULL, recorded_by text NOT NULL, recorded_at timestamptz NOT NULL)")
    await conn.execute("CREATE TABLE bench_tally (id integer PRIMARY KEY, recorded integer NOT NULL)")
    await conn.execute("INSERT INTO bench_tally VALUES (1, 0)")

    async def plain(verifier: asyncpg.Connection, rank: int) -> None:
        async with verifier.transaction():
            await verifier.execute("INSERT INTO bench_outcomes VALUES ($1, $2, $3, $4, clock_timestamp())",
                                   uuid.uuid4(), rank, _outcome(rank).value, f"verifier-{rank % VERIFIERS}")
            await verifier.execute("UPDATE bench_tally SET recorded = recorded + 1 WHERE id = 1")

    baseline = await _together(dsn, total, plain)
    recorded = await _together(dsn, total, outcome)
    await conn.execute("DROP TABLE bench_outcomes, bench_tally")
    row = await conn.fetchrow("SELECT status, successes, failures, (SELECT count(*) FROM spot_check_outcomes o "
                              "WHERE o.check_id = c.id) AS outcomes FROM spot_checks c WHERE id = $1", check.id)
    failures = sum(_outcome(rank) is not Outcome.CONFIRMED for rank in range(total))
    expected = {"status": "passed", "successes": total - failures, "failures": failures, "outcomes": total}
    if dict(row) != expected:
        raise AssertionError(f"spot-check outcomes of check {check.id}: {dict(row)}, expected {expected}")
    return {"verifiers": VERIFIERS, "each": each, "n": rule.n, "d": rule.d, "record_outcome": recorded,
            "plain_insert_update": baseline, "vs_plain_per_s": recorded["per_s"] / baseline["per_s"],
            "vs_plain_p50": recorded["p50_ms"] / baseline["p50_ms"]}


async def run_spot_checks(dsn: str, claims: int = FULL_CLAIMS, commune_claims: int = COMMUNE_CLAIMS,
                          outcomes_each: int = OUTCOMES_EACH) -> dict[str, Any]:
    province, teams, commune, commune_teams = _units()
    conn = await asyncpg.connect(dsn)
    try:
        load_s, events = await _timed(load_claims(conn, claims, commune_claims, teams, commune_teams))
        province_draw = await measure_draw(conn, province, teams, claims, parts=True)
        commune_draw = await measure_draw(conn, commune, commune_teams, commune_claims, parts=False)
        recording = await measure_recording(dsn, conn, commune, commune_teams, outcomes_each)
    finally:
        await conn.close()
    return {"claims": claims, "events": events, "load_s": load_s, "province": province_draw,
            "commune": commune_draw, "recording": recording, "full_size": claims >= FULL_CLAIMS}


def describe(r: dict[str, Any]) -> list[str]:
    """The section's lines, as ``python -m bench`` prints them."""
    size = "a province" if r["full_size"] else f"NOT the full {FULL_CLAIMS:,} claims"
    lines = []
    for key, label in (("province", size), ("commune", "a commune")):
        d = r[key]
        lines.append(f"spot-check draw of {d['unit']} from {d['claims']:,} credited claims ({label}; n={d['n']}, "
                     f"d={d['d']}, {d['drawn']} drawn): {d['draw_s']:.3f} s; baseline, same run: the same "
                     f"population SELECTed (seqs only) {d['select_s']:.3f} s ({d['vs_select']:.2f}× it)")
    parts = r["province"]["parts_s"]
    lines.append(f"  of the province draw, timed apart: HMAC ordering in Python {parts['hmac_order']:.2f} s, "
                 f"population digest {parts['digest']:.2f} s, frozen list as bigint[] "
                 f"{parts['bigint_array_insert']:.2f} s")
    rec = r["recording"]
    mine, plain = rec["record_outcome"], rec["plain_insert_update"]
    lines.append(f"spot-check outcomes, {rec['verifiers']} verifiers × {rec['each']} on one check at once: "
                 f"{mine['per_s']:,.0f} outcomes/s, p50 {mine['p50_ms']:.1f} ms, p99 {mine['p99_ms']:.1f} ms "
                 f"(first tenth {mine['first_tenth_mean_ms']:.1f} ms, last {mine['last_tenth_mean_ms']:.1f} ms)")
    lines.append(f"  baseline, same run: a plain INSERT + UPDATE transaction {plain['per_s']:,.0f}/s, "
                 f"p50 {plain['p50_ms']:.1f} ms, p99 {plain['p99_ms']:.1f} ms (outcomes/s {rec['vs_plain_per_s']:.2f}× "
                 f"it, p50 {rec['vs_plain_p50']:.1f}×)")
    lines.append(f"  ({r['events']:,} events copied into the event store and vacuumed in {r['load_s']:.1f} s, "
                 "not a figure)")
    return lines


async def _standalone(claims: int, commune_claims: int, each: int, tmp: Path) -> dict[str, Any]:
    from tests.support.databases import create_database

    server = os.environ.get("DATABASE_URL", "").rsplit("/", 1)[0]
    if server:
        return await run_spot_checks(await create_database(server, prefix="bench_"), claims, commune_claims, each)
    from tally06.kit.ports import free_port
    from tally06.stack.embedded.postgres import EmbeddedPostgres

    pg = EmbeddedPostgres(tmp / "pg", free_port())
    pg.start()
    try:
        dsn = await create_database(pg.dsn("").rstrip("/"), prefix="bench_")
        return await run_spot_checks(dsn, claims, commune_claims, each)
    finally:
        pg.stop()


def main(claims: int = typer.Option(FULL_CLAIMS, help="credited activation claims of the province"),
         commune_claims: int = typer.Option(COMMUNE_CLAIMS, help="of them, in the commune drawn"),
         each: int = typer.Option(OUTCOMES_EACH, help="outcomes each of the two verifiers records")) -> None:
    with tempfile.TemporaryDirectory(prefix="tally06-bench-spot-") as tmp:
        result = asyncio.run(_standalone(claims, commune_claims, each, Path(tmp)))
    for line in describe(result):
        print(line)


if __name__ == "__main__":
    typer.run(main)
