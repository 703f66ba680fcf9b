"""The demo's spot checks on PostgreSQL, over claims posted to the real ingest service: a check
of a commune whose officers fake every claim fails at the (d+1)-th failure, a check of an honest
commune passes, and what is stored is what the simulated citizens say."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

import httpx
import pytest
from rich.console import Console

from tally06.domain.pii import CitizenProtector
from tally06.domain.spot_checks import UNREACHABLE_AFTER_TRIES, CheckStatus
from tally06.simulator.registry_truth import RegistryTruth, TruthConfig
from tally06.simulator.spot_check_truth import SpotCheckTruth, SpotTruthConfig
from tally06.stack.spot_check_feed import SpotCheckFeed, ensure_thresholds, run_check
from tally06.store import spot_checks as store
from tests.conftest import TEST_KEYS
from tests.support import factories

FAKING, HONEST = "TH-03-C02", "TH-03-C05"
TEAMS = {f"{c}-T{i}": c for c in (FAKING, HONEST) for i in (1, 2, 3)}
PER_TEAM = 10  # 30 claims a commune: the feed's least for a draw
CLEAN_REGISTRY = TruthConfig(never_share=0.0, already_active_share=0.0, other_level_share=0.0,
                             backlog_approved_per_team=0, backlog_collected_per_team=0, unclaimed_per_claim=0.0)
N, D = 19, 6  # DEMO_THRESHOLDS' rule
PROTECTOR = CitizenProtector(TEST_KEYS["TALLY06_HMAC_KEY"], TEST_KEYS["TALLY06_PII_KEYS"])


def officer(team: str, n: int) -> str:
    return f"CA-{team.replace('-', '', 1)}-{n:02d}"


@pytest.fixture
async def posted(start_service, make_token):
    """Ten level-1 activations per team of the two communes, in the last two hours."""
    service = start_service("ingest")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    events = []
    async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
        for team in TEAMS:
            batch = [factories.event(team=team, officer=officer(team, 1 + i % 3),
                                     occurred_at=start + dt.timedelta(hours=1, minutes=i)) for i in range(PER_TEAM)]
            response = await client.post("/v1/events", json={"events": batch},
                                         headers={"Authorization": f"Bearer {await make_token(team)}"})
            assert [r["status"] for r in response.json()["results"]] == ["accepted"] * PER_TEAM
            events += batch
    return start, events


def feed(start: dt.datetime, events: list[dict], **spot: Any) -> SpotCheckFeed:
    registry = RegistryTruth(CLEAN_REGISTRY, start=start, teams=TEAMS)
    config = SpotTruthConfig(faking_communes=(FAKING,), faking_commune_share=0.0, faker_share=1.0, fake_share=1.0,
                             colleague_phone_share=1.0, **spot)
    made = SpotCheckFeed(SpotCheckTruth(config, registry, TEAMS, PROTECTOR.citizen_key), start, random.Random(1),
                         own_registry=True, pace_s=(0.0, 0.0))
    made.observe(events)
    return made


async def outcomes(db, check_id: int) -> list[tuple[int, str, str]]:
    rows = await db.fetch("SELECT rank, outcome, recorded_by FROM spot_check_outcomes WHERE check_id = $1 "
                          "ORDER BY recorded_at, rank", check_id)
    return [(r["rank"], r["outcome"], r["recorded_by"]) for r in rows]


async def run(database: str, made: SpotCheckFeed, *, faking: bool) -> str:
    """One check of the feed, from the draw to the verdict; what the terminal showed."""
    console = Console(record=True, width=400)
    await run_check(database, made, console, faking=faking, now=lambda: dt.datetime.now(dt.UTC),
                    stop=asyncio.Event())
    text = console.export_text()
    assert "failed to run" not in text, text
    return text


async def test_a_faking_commune_fails_at_the_failure_too_many(posted, database, db):
    start, events = posted
    assert "80 % / 50 %" in (await ensure_thresholds(db, "TH") or "")
    assert await ensure_thresholds(db, "TH") is None  # once: the province's own stand
    made = feed(start, events, second_try=0.0, third_try=0.0, never_answers=0.0)

    text = await run(database, made, faking=True)
    check = (await store.list_checks(db, [FAKING]))[0]
    assert (check.n, check.d, check.population_size, check.drawn) == (N, D, 30, N + 10)
    assert check.drawn_by == "samson" and check.teams == tuple(t for t in TEAMS if TEAMS[t] == FAKING)
    # Every claim of the commune was made on a colleague's phone: the first d+1 calls decide it.
    assert await outcomes(db, check.id) == [(rank, "not_own_account", "samson") for rank in range(D + 1)]
    assert (check.status, check.successes, check.failures, check.estimate) == (CheckStatus.FAILED, 0, D + 1, 0.0)
    assert check.decided_at is not None
    assert f"Spot check #{check.id} {FAKING}: {D + 1} checked, {D + 1} failed → Không đạt kiểm tra xác suất" in text
    assert "(ước tính 0 %, 95 %: 0 %–" in text and "30 claims of its teams are not real (100 % fake)" in text


async def test_an_honest_commune_passes_after_calls_nobody_answers(posted, database, db):
    start, events = posted
    await ensure_thresholds(db, "TH")
    made = feed(start, events, second_try=0.3, third_try=0.2, never_answers=0.2)

    text = await run(database, made, faking=False)
    check = (await store.list_checks(db, [HONEST]))[0]
    assert (check.status, check.successes, check.failures) == (CheckStatus.PASSED, N - D, 0)
    keys = {r["rank"]: r["citizen_key"] for r in await db.fetch(
        "SELECT rank, citizen_key FROM spot_check_items WHERE check_id = $1", check.id)}
    by_rank: dict[int, list[str]] = {}
    for rank, outcome, who in await outcomes(db, check.id):
        assert who == "samson"
        by_rank.setdefault(rank, []).append(outcome)
    # What each called citizen said is what the simulator says of them, as far as the calls went
    # before the verdict: calls nobody answered, then (if they ever answer) confirmed.
    claims = {PROTECTOR.citizen_key(e["citizen"]["id_number"]): (e["team"], e["officer"]) for e in events}
    for rank, said in by_rank.items():
        finding = made.truth.finding(*claims[keys[rank]], keys[rank])
        calls = ["no_answer"] * min(finding.no_answers, UNREACHABLE_AFTER_TRIES)
        calls += ["confirmed"] if finding.reachable else []
        assert said == calls[:len(said)]
    assert sum(s[-1] == "confirmed" for s in by_rank.values()) == N - D
    # A reserve is called only in place of a citizen nobody reached.
    unreachable = sum(s == ["no_answer"] * UNREACHABLE_AFTER_TRIES for s in by_rank.values())
    assert len([rank for rank in by_rank if rank >= N]) <= unreachable
    assert f"Spot check #{check.id} {HONEST}: {N - D} checked, 0 failed → Đạt" in text
    assert "30 claims of its teams are not real (0 % fake)" in text
