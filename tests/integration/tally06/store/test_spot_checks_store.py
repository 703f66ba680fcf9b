"""Spot checks on PostgreSQL: the draw is reproducible from its frozen list and seed, outcomes from
two verifiers at once are recorded once each, and the stored verdict is the documented rule's.

Expected samples, populations and verdicts are worked out here from the documented rules
(docs/spot-checks.md, the module docstrings of domain.spot_checks): HMAC-SHA256 order, the Appendix
I period rule, "fails with more than d failures among the first n reachable" — not by calling
the code under test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import random
import uuid

import asyncpg
import pytest

from tally06.contract.events import LOCAL_TZ
from tally06.domain.lqas import DecisionRule, Thresholds
from tally06.domain.spot_checks import DEFAULT_THRESHOLDS, Outcome, Population
from tally06.store.org import load_map
from tally06.store.spot_checks import (
    SpotCheckConflict,
    SpotCheckError,
    draw_check,
    get_check,
    items,
    last_decided,
    list_checks,
    population_seqs,
    record_outcome,
    replay,
    set_thresholds,
    thresholds_for,
)

UNIT = "TH-03-C01"
TEAMS = ["TH-03-C01-T1", "TH-03-C01-T2"]
START = dt.datetime(2024, 10, 1, 0, 0, tzinfo=LOCAL_TZ)
END = dt.datetime(2024, 10, 31, 17, 0, tzinfo=LOCAL_TZ)
SEED = bytes(range(16))


async def store(db, claims: list[dict]) -> list[int]:
    """Append events as ingest does (seq in order, the first claim of a citizen and metric
    credited); returns their seqs. Each claim: team, occurred_at, received_at, metric, citizen."""
    org_map = await load_map(db, 1)
    last = await db.fetchval("SELECT last_seq FROM event_seq")
    taken = {(r["citizen_key"], r["metric"]) for r in await db.fetch("SELECT citizen_key, metric FROM credits")}
    rows, credit_rows, seqs = [], [], []
    for c in claims:
        last += 1
        credited = (c["citizen"], c["metric"]) not in taken
        taken.add((c["citizen"], c["metric"]))
        if credited:
            credit_rows.append((c["citizen"], c["metric"], last))
        lineage = org_map.lineage(c["team"])
        level = None if c["metric"] == "installed" else int(c["metric"][-1])
        rows.append((last, uuid.uuid4(), "test", 1, "account_activated" if level else "app_installed", level,
                     c["metric"], c["occurred_at"], c["occurred_at"].astimezone(LOCAL_TZ).date(), c["received_at"],
                     lineage.province, lineage.district, lineage.commune, c["team"], c.get("officer", "CA-1"),
                     c["citizen"], credited, lineage.key_unit, org_map.id, list(lineage.codes)))
        seqs.append(last)
    async with db.transaction():
        await db.executemany(
            "INSERT INTO events (seq, event_id, content_digest, schema_version, type, level, metric, occurred_at, "
            "day, received_at, province, district, commune, team, officer, citizen_key, credited, fact_key, map_id, "
            "lineage) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)", rows)
        await db.executemany("INSERT INTO credits (citizen_key, metric, seq) VALUES ($1,$2,$3)", credit_rows)
        await db.execute("UPDATE event_seq SET last_seq = $1", last)
    return seqs


def claim(team: str, occurred: dt.datetime, *, metric: str = "activated_l2", received: dt.datetime | None = None,
          citizen: str | None = None) -> dict:
    return {"team": team, "occurred_at": occurred, "received_at": received or occurred + dt.timedelta(minutes=3),
            "metric": metric, "citizen": citizen or f"k-{uuid.uuid4().hex}", "officer": f"CA-{team[-2:]}"}


def hmac_order(seed: bytes, seqs: list[int]) -> list[int]:
    return sorted(seqs, key=lambda s: (hmac.new(seed, str(s).encode(), hashlib.sha256).digest(), s))


async def a_unit_with_claims(db, count: int = 60) -> list[int]:
    """``count`` credited activations of UNIT in October, and claims that must stay out."""
    rng = random.Random(18)
    inside = [claim(TEAMS[i % 2], START + dt.timedelta(hours=1 + rng.randrange(700))) for i in range(count)]
    seqs = await store(db, inside)
    dup = inside[0]["citizen"]
    await store(db, [
        claim(TEAMS[0], START - dt.timedelta(hours=2)),  # before the period
        claim(TEAMS[0], END + dt.timedelta(hours=2)),  # after it
        claim(TEAMS[0], END - dt.timedelta(days=1), received=END + dt.timedelta(hours=1)),  # arrived after it
        claim(TEAMS[1], START + dt.timedelta(days=3), citizen=dup),  # a second claim: not credited
        claim(TEAMS[1], START + dt.timedelta(days=3), metric="installed"),  # not an activation
        claim("TH-03-C02-T1", START + dt.timedelta(days=3)),  # another commune
    ])
    return seqs


async def test_draw_is_reproducible_and_stands_on_its_frozen_list(db):
    population = await a_unit_with_claims(db)
    assert await population_seqs(db, teams=TEAMS, population=Population.CREDITED, period_from=START,
                                 period_to=END) == sorted(population)
    first = await draw_check(db, unit=UNIT, teams=TEAMS, population=Population.CREDITED, period_from=START,
                             period_to=END, thresholds=DEFAULT_THRESHOLDS, rule=None, seed=SEED, actor="focal-sam-son")
    # 0.95 / 0.70 / 5 % / 10 %: n = 16, d = 2; reserves: half the sample = 8.
    assert (first.n, first.d, first.population_size, first.drawn, first.rule_given) == (16, 2, 60, 24, False)
    assert first.population_digest == hashlib.sha256("\n".join(map(str, sorted(population))).encode()).hexdigest()
    expected = hmac_order(SEED, population)[:24]
    listed = await items(db, first.id)
    assert [i.seq for i in listed] == expected
    assert [i.reserve for i in listed] == [False] * 16 + [True] * 8
    assert [i.active for i in listed] == [True] * 16 + [False] * 8
    events = {r["seq"]: r for r in await db.fetch("SELECT * FROM events WHERE seq = ANY($1)", expected)}
    assert all((i.team, i.officer, i.level, i.occurred_at) == (events[i.seq]["team"], events[i.seq]["officer"],
               events[i.seq]["level"], events[i.seq]["occurred_at"]) for i in listed)

    again = await draw_check(db, unit=UNIT, teams=TEAMS, population=Population.CREDITED, period_from=START,
                             period_to=END, thresholds=DEFAULT_THRESHOLDS, rule=None, seed=SEED, actor="other")
    assert [i.seq for i in await items(db, again.id)] == expected
    other_seed = await draw_check(db, unit=UNIT, teams=TEAMS, population=Population.CREDITED, period_from=START,
                                  period_to=END, thresholds=DEFAULT_THRESHOLDS, rule=None, seed=None, actor="x")
    assert len(other_seed.seed) == 16 and [i.seq for i in await items(db, other_seed.id)] != expected

    same = await replay(db, first.id)
    assert same.same and same.digest_now == same.digest_stored and same.sample_stored == expected

    # Claims of the period that arrive afterwards change the population now, not the check.
    await store(db, [claim(TEAMS[0], START + dt.timedelta(days=5), received=END - dt.timedelta(hours=1))
                     for _ in range(5)])
    later = await replay(db, first.id)
    assert later.same and later.digest_now != later.digest_stored and later.sample_stored == expected
    assert [i.seq for i in await items(db, first.id)] == expected
    assert (await get_check(db, first.id)).population_size == 60  # type: ignore[union-attr]

    entries = await db.fetch("SELECT actor, action, unit, row_count, detail FROM audit_log "
                             "WHERE action = 'spotcheck.draw' ORDER BY id")
    assert [(e["actor"], e["unit"], e["row_count"]) for e in entries] == [
        ("focal-sam-son", UNIT, 24), ("other", UNIT, 24), ("x", UNIT, 24)]
    detail = json.loads(entries[0]["detail"])
    assert detail["check_id"] == first.id and detail["seed"] == SEED.hex()
    keys = {r["citizen_key"] for r in await db.fetch("SELECT citizen_key FROM events")}
    assert not any(k in e["detail"] for e in entries for k in keys)


async def test_refusals_name_their_field(db):
    await a_unit_with_claims(db, 5)
    asked = {"unit": UNIT, "teams": TEAMS, "population": Population.CREDITED, "period_from": START,
             "period_to": END, "thresholds": DEFAULT_THRESHOLDS, "rule": None, "seed": SEED, "actor": "t"}
    for changes, field in [({"teams": ["TH-14-C01-T1"]}, "unit"), ({"rule": DecisionRule(5, 5)}, "d"),
                           ({"thresholds": Thresholds(0.7, 0.9, 0.05, 0.1)}, "lower"),
                           ({"period_from": END}, "from"), ({"population": Population.UNCONFIRMED}, "unit")]:
        with pytest.raises(SpotCheckError) as refused:
            await draw_check(db, **{**asked, **changes})  # type: ignore[arg-type]
        assert refused.value.field == field
    # A unit smaller than the sample: every claim drawn, the whole unit checked.
    small = await draw_check(db, **asked)  # type: ignore[arg-type]
    assert (small.population_size, small.drawn) == (5, 5)
    given = await draw_check(db, **{**asked, "rule": DecisionRule(19, 6)})  # type: ignore[arg-type]
    assert (given.n, given.d, given.rule_given) == (19, 6, True)
    with pytest.raises(SpotCheckError) as refused:
        await record_outcome(db, small.id, 5, outcome_id=uuid.uuid4(), outcome=Outcome.CONFIRMED, note=None,
                             actor="v")
    assert refused.value.field == "rank"


async def test_unconfirmed_population_and_thresholds_of_the_nearest_unit(db):
    seqs = await a_unit_with_claims(db, 10)
    rows = await db.fetch("SELECT seq, citizen_key, team, officer, day, level FROM events WHERE seq = ANY($1)", seqs)
    states = ["unconfirmed" if i % 3 == 0 else "confirmed" for i in range(len(rows))]
    await db.executemany(
        "INSERT INTO claim_states (seq, citizen_key, team, officer, day, level, state, window_end) "
        "VALUES ($1, $2, $3, $4, $5::date, $6, $7, $5::date + 7)",
        [(r["seq"], r["citizen_key"], r["team"], r["officer"], r["day"], r["level"], s) for r, s in zip(rows, states,
                                                                                                         strict=True)])
    expected = sorted(r["seq"] for r, s in zip(rows, states, strict=True) if s == "unconfirmed")
    assert await population_seqs(db, teams=TEAMS, population=Population.UNCONFIRMED, period_from=START,
                                 period_to=END) == expected

    chain = [UNIT, "TH-03", "TH"]
    assert await thresholds_for(db, chain) == DEFAULT_THRESHOLDS
    made = await set_thresholds(db, "TH", Thresholds(0.80, 0.50, 0.10, 0.10), actor="province")
    assert (made.rule.n, made.rule.d) == (19, 6)  # Valadez's table: 13 of 19
    await set_thresholds(db, "TH-03", Thresholds(0.90, 0.60, 0.05, 0.10), actor="province")
    assert await thresholds_for(db, chain) == Thresholds(0.90, 0.60, 0.05, 0.10)
    assert await thresholds_for(db, ["TH-01-C01", "TH-01", "TH"]) == Thresholds(0.80, 0.50, 0.10, 0.10)
    with pytest.raises(SpotCheckError) as refused:
        await set_thresholds(db, "TH", Thresholds(0.9, 0.6, 0.7, 0.1), actor="province")
    assert refused.value.field == "alpha"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'spotcheck.thresholds'") == 2


def expected_verdict(n: int, d: int, drawn: int, rows: list[asyncpg.Record], tries: int = 3):
    """The documented rule, by hand: an item's final outcome is its first final one, or unreachable
    at its tries-th no answer; the sample is the first n items not unreachable; in the order the
    outcomes came, the check fails at the first failure beyond d and passes at the (n − d)-th
    confirmation."""
    final: dict[int, tuple[dt.datetime, str]] = {}
    misses: dict[int, list[dt.datetime]] = {}
    for r in sorted(rows, key=lambda r: (r["recorded_at"], r["rank"])):
        if r["outcome"] == "no_answer":
            misses.setdefault(r["rank"], []).append(r["recorded_at"])
        elif r["rank"] not in final:
            final[r["rank"]] = (r["recorded_at"], r["outcome"])
    for rank, ats in misses.items():
        if len(ats) >= tries and (rank not in final or ats[tries - 1] < final[rank][0]):
            final[rank] = (ats[tries - 1], "unreachable")
    sample = [r for r in range(drawn) if final.get(r, (None, ""))[1] != "unreachable"][:n]
    status, decided, ok, bad = "open", None, 0, 0
    for rank in sorted((r for r in sample if r in final), key=lambda r: final[r]):
        at, outcome = final[rank]
        ok += outcome == "confirmed"
        bad += outcome in ("not_activated", "not_own_account", "not_guided")
        if status == "open" and bad > d:
            status, decided = "failed", at
        elif status == "open" and ok >= n - d:
            status, decided = "passed", at
    return status, decided, ok, bad


async def test_two_verifiers_at_once_record_each_outcome_once(db, database):
    await a_unit_with_claims(db, 60)
    check = await draw_check(db, unit=UNIT, teams=TEAMS, population=Population.CREDITED, period_from=START,
                             period_to=END, thresholds=DEFAULT_THRESHOLDS, rule=DecisionRule(30, 8), seed=SEED,
                             actor="t")
    assert check.drawn == 45
    rng = random.Random(7)
    truth = {rank: rng.choice([Outcome.CONFIRMED] * 3 + [Outcome.NOT_GUIDED, Outcome.NOT_OWN_ACCOUNT])
             for rank in range(45)}
    disagree = {rank for rank in range(1, 45) if rank % 7 == 3}  # the second verifier heard otherwise
    results: dict[str, dict[int, object]] = {"A": {}, "B": {}}
    retries: dict[str, list[bool]] = {"A": [], "B": []}

    async def verifier(name: str, order: list[int]) -> None:
        conn = await asyncpg.connect(database)
        try:
            for rank in order:
                if rank == 0:  # nobody answers the first citizen: three tries make them unreachable
                    if name == "A":
                        for _ in range(3):
                            await record_outcome(conn, check.id, 0, outcome_id=uuid.uuid4(),
                                                 outcome=Outcome.NO_ANSWER, note="máy bận", actor=name)
                    continue
                said = truth[rank]
                if name == "B" and rank in disagree:
                    said = Outcome.NOT_ACTIVATED if said is Outcome.CONFIRMED else Outcome.CONFIRMED
                oid = uuid.uuid4()
                try:
                    got = await record_outcome(conn, check.id, rank, outcome_id=oid, outcome=said, note=None,
                                               actor=name)
                    results[name][rank] = got.recorded
                except SpotCheckConflict as exc:
                    results[name][rank] = exc
                    continue
                again = await record_outcome(conn, check.id, rank, outcome_id=oid, outcome=said, note=None,
                                             actor=name)  # the answer was lost; the phone retries
                retries[name].append(again.recorded)
        finally:
            await conn.close()

    ranks = list(range(45))
    await asyncio.gather(verifier("A", ranks), verifier("B", ranks[::-1]))

    rows = await db.fetch("SELECT rank, outcome, recorded_by, recorded_at FROM spot_check_outcomes "
                          "WHERE check_id = $1", check.id)
    finals = [r for r in rows if r["outcome"] != "no_answer"]
    assert sorted(r["rank"] for r in finals) == list(range(1, 45))  # once each
    assert not any(retries["A"] + retries["B"])  # a retry never records
    for rank in range(1, 45):
        a, b = results["A"][rank], results["B"][rank]
        if rank in disagree:
            # One wins; the other is told who recorded what.
            assert sorted([isinstance(a, SpotCheckConflict), isinstance(b, SpotCheckConflict)]) == [False, True]
            loser = a if isinstance(a, SpotCheckConflict) else b
            winner = next(r for r in finals if r["rank"] == rank)
            assert loser.field == "outcome" and winner["recorded_by"] in loser.message  # type: ignore[union-attr]
        else:  # the same outcome from both: recorded by the first, a no-op for the second
            assert sorted([a, b]) == [False, True]  # type: ignore[type-var]

    stored = await get_check(db, check.id)
    assert stored is not None
    status, decided, ok, bad = expected_verdict(30, 8, 45, rows)
    assert (stored.status.value, stored.decided_at) == (status, decided)
    assert (stored.successes, stored.failures) == (ok, bad)
    listed = await items(db, check.id)
    assert listed[0].outcome is Outcome.UNREACHABLE and listed[0].tries == 3 and not listed[0].active
    assert listed[30].active and listed[30].reserve  # the first reserve took the unreachable one's place
    # What the verdict table says of the unit.
    if status != "open":
        assert (await last_decided(db, [UNIT]))[UNIT].id == check.id
    assert [c.id for c in await list_checks(db, [UNIT])] == [check.id]
