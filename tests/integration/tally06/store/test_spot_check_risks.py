"""The risk simulation of issue 18: claims posted to the real ingest service, some of them known
to be fake, then many draws per unit, each answered from the known truth. A unit whose claims
are clearly not real must pass at most as often as the rule's risk beta says, a good unit fail at
most as often as alpha says (each up to the sampling error of the number of draws).

The probabilities the observed rates are held to are computed here without tally06: the rule
passes a unit when at most d of its first n drawn claims are fake, so over a unit of N claims with
K fake ones the chance of passing is hypergeometric (the draw is without replacement); the
binomial risk of the design is its upper bound for a unit at the threshold.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import math
import random
import uuid

import asyncpg
import httpx

from tally06.domain.spot_checks import DEFAULT_THRESHOLDS, CheckStatus, Outcome, Population
from tally06.store.spot_checks import draw_check, record_outcome
from tests.support import factories

CLAIMS = 100
DRAWS = 100  # 4 units × 100 draws: ~7 s on an idle machine, more on the shared one
# Unit → how many of its claims are fake: clearly bad, at the lower threshold (70 % real), at the
# upper one (95 % real), and good.
UNITS = {"TH-03-C01": 40, "TH-03-C02": 30, "TH-03-C03": 5, "TH-03-C04": 3}
FAILURES = [Outcome.NOT_ACTIVATED, Outcome.NOT_OWN_ACCOUNT, Outcome.NOT_GUIDED]


def hypergeom_cdf(k: int, population: int, marked: int, sample: int) -> float:
    """P(at most k marked among ``sample`` drawn without replacement)."""
    return sum(math.comb(marked, i) * math.comb(population - marked, sample - i)
               for i in range(k + 1)) / math.comb(population, sample)


def binom_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))


def tolerance(p: float, draws: int) -> float:
    """Four standard errors of a rate observed over ``draws`` draws, and one draw's worth more
    (for rates near 0 the normal bound alone is too tight)."""
    return 4 * math.sqrt(max(p, 1 / draws) * (1 - p) / draws) + 1 / draws


async def post_claims(ingest_url: str, make_token) -> dict[int, bool]:  # noqa: ANN001 - the fixture
    """Post each unit's claims over its three teams; returns seq → fake."""
    rng = random.Random(1806)
    fake: dict[int, bool] = {}
    now = dt.datetime.now(dt.UTC)
    async with httpx.AsyncClient(base_url=ingest_url, timeout=30) as client:
        for unit, bad in UNITS.items():
            flags = [True] * bad + [False] * (CLAIMS - bad)
            rng.shuffle(flags)
            for t in (1, 2, 3):
                team = f"{unit}-T{t}"
                token = await make_token(team)
                mine = flags[t - 1::3]
                events = [factories.event(team=team, level=2, officer=f"CA-{team}-{i % 4}",
                                          occurred_at=now - dt.timedelta(minutes=5 + i))
                          for i in range(len(mine))]
                response = await client.post("/v1/events", json={"events": events},
                                             headers={"Authorization": f"Bearer {token}"})
                assert response.status_code == 200, response.text
                for result in response.json()["results"]:
                    assert result["status"] == "accepted", result
                    fake[result["seq"]] = mine[result["index"]]
    return fake


async def run_draws(database: str, unit: str, fake: dict[int, bool], period_to: dt.datetime) -> list[CheckStatus]:
    """DRAWS checks of the unit, each answered in draw order from the truth until it is decided."""
    conn = await asyncpg.connect(database)
    teams = [f"{unit}-T{t}" for t in (1, 2, 3)]
    verdicts = []
    try:
        for i in range(DRAWS):
            seed = hashlib.sha256(f"{unit}/{i}".encode()).digest()[:16]
            check = await draw_check(conn, unit=unit, teams=teams, population=Population.CREDITED, period_from=None,
                                     period_to=period_to, thresholds=DEFAULT_THRESHOLDS, rule=None, seed=seed,
                                     actor="simulation")
            drawn = [r["seq"] for r in await conn.fetch(
                "SELECT seq FROM spot_check_items WHERE check_id = $1 ORDER BY rank", check.id)]
            status = CheckStatus.OPEN
            for rank, seq in enumerate(drawn):
                said = FAILURES[rank % 3] if fake[seq] else Outcome.CONFIRMED
                result = await record_outcome(conn, check.id, rank, outcome_id=uuid.uuid4(), outcome=said, note=None,
                                              actor="verifier")
                status = result.check.status
                if status is not CheckStatus.OPEN:
                    break
            verdicts.append(status)
    finally:
        await conn.close()
    return verdicts


async def test_draws_over_a_stream_find_the_failing_unit_at_the_documented_risk(start_service, make_token, database):
    ingest = start_service("ingest")
    fake = await post_claims(ingest.url, make_token)
    assert len(fake) == CLAIMS * len(UNITS) and sum(fake.values()) == sum(UNITS.values())
    period_to = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    await asyncio.sleep(1)

    n, d = 16, 2  # DEFAULT_THRESHOLDS 0.95 / 0.70 / 5 % / 10 % (Valadez-style design, docs/spot-checks.md)
    beta = binom_cdf(d, n, 1 - DEFAULT_THRESHOLDS.lower)  # passing a unit at 70 %
    alpha = 1 - binom_cdf(d, n, 1 - DEFAULT_THRESHOLDS.upper)  # failing a unit at 95 %
    assert beta <= DEFAULT_THRESHOLDS.beta and alpha <= DEFAULT_THRESHOLDS.alpha

    found = await asyncio.gather(*(run_draws(database, unit, fake, period_to) for unit in UNITS))
    for (unit, bad), verdicts in zip(UNITS.items(), found, strict=True):
        assert len(verdicts) == DRAWS and CheckStatus.OPEN not in verdicts
        passed = sum(v is CheckStatus.PASSED for v in verdicts) / DRAWS
        exact = hypergeom_cdf(d, CLAIMS, bad, n)
        assert abs(passed - exact) <= tolerance(exact, DRAWS), (unit, passed, exact)
        if bad >= round((1 - DEFAULT_THRESHOLDS.lower) * CLAIMS):  # a bad unit passes at most beta of the time
            assert exact <= beta and passed <= beta + tolerance(beta, DRAWS), (unit, passed)
        else:  # a good unit fails at most alpha of the time
            assert 1 - exact <= alpha and 1 - passed <= alpha + tolerance(alpha, DRAWS), (unit, passed)
    # The clearly bad unit is found (fails) far more often than the good one.
    assert found[0].count(CheckStatus.FAILED) >= 0.9 * DRAWS and found[-1].count(CheckStatus.PASSED) >= 0.9 * DRAWS
