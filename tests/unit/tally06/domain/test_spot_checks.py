"""Spot checks' pure rules: the reproducible draw, the verdict fold (early stop, reserves,
retries, inconclusive, small units), who sees an open check, and a simulation of many draws
showing the documented risks. Expected values are computed here by other means (hashlib/hmac by
hand, exact hypergeometric sums), never by the module under test."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import random
from collections import Counter
from fractions import Fraction

import pytest

from tally06.domain.accounts import Role
from tally06.domain.lqas import DecisionRule, design, estimate
from tally06.domain.spot_checks import (
    DEFAULT_THRESHOLDS,
    FAILURES,
    OUTCOME_TEXTS,
    RECORDABLE,
    STATUS_TEXTS,
    CheckStatus,
    Outcome,
    Recorded,
    draw,
    draw_order,
    effective_rule,
    item_outcomes,
    population_digest,
    reserve_count,
    sees_decided_check,
    sees_open_check,
    verdict,
)

SEED = bytes.fromhex("00112233445566778899aabbccddeeff")
RULE = DecisionRule(16, 2)
T0 = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.UTC)


def at(minute: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minute)


# --- The draw ---------------------------------------------------------------------------------------

def test_population_digest_is_sha256_of_the_sorted_decimal_list() -> None:
    assert population_digest([30, 4, 1000, 7]) == hashlib.sha256(b"4\n7\n30\n1000").hexdigest()
    assert population_digest(range(1, 101)) == hashlib.sha256(
        "\n".join(str(i) for i in range(1, 101)).encode()).hexdigest()


def test_the_draw_is_the_hmac_order_anyone_can_compute() -> None:
    seqs = list(range(1, 101))
    by_hand = sorted(seqs, key=lambda s: hmac.new(SEED, str(s).encode(), hashlib.sha256).hexdigest())
    assert draw_order(SEED, seqs) == by_hand
    assert draw(SEED, seqs, RULE) == by_hand[:16 + 8]
    # A fixed vector, so that a change of algorithm cannot pass unnoticed (docs/spot-checks.md
    # shows the same example).
    assert draw(SEED, seqs, RULE)[:16] == [12, 40, 64, 99, 46, 44, 18, 79, 34, 48, 9, 13, 39, 69, 81, 92]


def test_same_seed_and_data_same_sample_in_any_order() -> None:
    seqs = list(range(5000, 5400))
    shuffled = seqs[:]
    random.Random(7).shuffle(shuffled)
    assert draw(SEED, seqs, RULE) == draw(SEED, shuffled, RULE) == draw(SEED, tuple(reversed(seqs)), RULE)
    assert population_digest(seqs) == population_digest(shuffled)


def test_another_seed_another_sample() -> None:
    seqs = list(range(5000, 5400))
    first = draw(SEED, seqs, RULE)
    other = draw(b"another seed", seqs, RULE)
    assert first != other
    assert set(first[:16]) != set(other[:16])


def test_sample_then_reserves_and_small_populations() -> None:
    assert [reserve_count(n) for n in (1, 2, 6, 7, 16, 19, 60)] == [3, 3, 3, 4, 8, 10, 30]
    drawn = draw(SEED, range(1, 1001), RULE)
    assert len(drawn) == 16 + 8 and len(set(drawn)) == 24
    assert sorted(draw(SEED, [9, 3, 5], RULE)) == [3, 5, 9]  # the whole unit when it is smaller


def test_every_claim_is_equally_likely_to_be_sampled() -> None:
    population = list(range(100, 120))
    seen: Counter[int] = Counter()
    first: Counter[int] = Counter()
    runs = 2000
    for i in range(runs):
        sample = draw(f"seed-{i}".encode(), population, DecisionRule(4, 0))[:4]
        seen.update(sample)
        first[sample[0]] += 1
    # Each claim is in a sample of 4 of 20 with probability 1/5: 400 of 2000, sd about 18.
    sd = math.sqrt(runs * 0.2 * 0.8)
    assert all(abs(seen[s] - runs * 0.2) < 5 * sd for s in population)
    sd_first = math.sqrt(runs * 0.05 * 0.95)
    assert all(abs(first[s] - runs * 0.05) < 5 * sd_first for s in population)


# --- The verdict ------------------------------------------------------------------------------------

def rec(rank: int, outcome: Outcome, minute: int) -> Recorded:
    return Recorded(rank, outcome, at(minute))


def confirmed(ranks: range | list[int], start: int = 0) -> list[Recorded]:
    return [rec(r, Outcome.CONFIRMED, start + i) for i, r in enumerate(ranks)]


def test_nothing_recorded_is_open() -> None:
    v = verdict(RULE, 24, [])
    assert (v.status, v.decided_at, v.checked) == (CheckStatus.OPEN, None, 0)
    assert v.active == tuple(range(16))
    assert v.estimate.rate is None


def test_early_fail_at_the_failure_past_d() -> None:
    recorded = [rec(0, Outcome.NOT_ACTIVATED, 1), rec(5, Outcome.CONFIRMED, 2), rec(3, Outcome.NOT_OWN_ACCOUNT, 3),
                rec(9, Outcome.NOT_GUIDED, 4), rec(1, Outcome.CONFIRMED, 5)]
    v = verdict(RULE, 24, recorded)
    assert v.status is CheckStatus.FAILED
    assert v.decided_at == at(4)  # the third failure, with 12 of the sample never called
    assert (v.successes, v.failures, v.checked) == (2, 3, 5)


def test_early_pass_once_the_unit_can_no_longer_fail() -> None:
    recorded = [rec(0, Outcome.NOT_ACTIVATED, 0), *confirmed(range(1, 14), start=1)]
    v = verdict(RULE, 24, recorded)
    assert v.status is CheckStatus.OPEN  # 13 confirmed, 1 failed: two still to call could both fail
    v = verdict(RULE, 24, [*recorded, rec(14, Outcome.CONFIRMED, 30)])
    assert v.status is CheckStatus.PASSED and v.decided_at == at(30)  # 14 = n - d confirmed


def test_what_comes_after_the_verdict_counts_for_the_estimate_not_the_verdict() -> None:
    passing = confirmed(range(14))
    later = [rec(14, Outcome.NOT_ACTIVATED, 50), rec(15, Outcome.NOT_ACTIVATED, 51), rec(16, Outcome.CONFIRMED, 52)]
    v = verdict(RULE, 24, [*passing, *later])
    assert v.status is CheckStatus.PASSED and v.decided_at == at(13)
    assert (v.successes, v.failures) == (14, 2)  # rank 16 is a reserve not needed: outside the sample
    assert v.estimate == estimate(15, 17)  # every judged item, the spare reserve included


def test_unreachable_items_are_replaced_by_reserves_in_draw_order() -> None:
    recorded = [rec(3, Outcome.UNREACHABLE, 1), rec(0, Outcome.UNREACHABLE, 2)]
    v = verdict(RULE, 24, recorded)
    assert v.active == (1, 2, *range(4, 16), 16, 17)
    assert v.status is CheckStatus.OPEN and v.checked == 0


def test_three_tries_without_answer_make_an_item_unreachable() -> None:
    two = [rec(2, Outcome.NO_ANSWER, 1), rec(2, Outcome.NO_ANSWER, 2)]
    assert 2 not in item_outcomes(two, tries=3)
    assert verdict(RULE, 24, two).active == tuple(range(16))
    three = [*two, rec(2, Outcome.NO_ANSWER, 3)]
    assert item_outcomes(three, tries=3) == {2: Outcome.UNREACHABLE}
    assert verdict(RULE, 24, three).active == (0, 1, *range(3, 17))
    assert verdict(RULE, 24, two, tries=2).active == (0, 1, *range(3, 17))
    with pytest.raises(ValueError):
        verdict(RULE, 24, two, tries=0)


def test_an_answer_before_the_last_try_stands_and_one_after_it_does_not() -> None:
    answered = [rec(2, Outcome.NO_ANSWER, 1), rec(2, Outcome.NO_ANSWER, 2), rec(2, Outcome.NOT_GUIDED, 3),
                rec(2, Outcome.NO_ANSWER, 4)]
    assert item_outcomes(answered, tries=3) == {2: Outcome.NOT_GUIDED}
    too_late = [rec(2, Outcome.NO_ANSWER, 1), rec(2, Outcome.NO_ANSWER, 2), rec(2, Outcome.NO_ANSWER, 3),
                rec(2, Outcome.CONFIRMED, 4)]
    assert item_outcomes(too_late, tries=3) == {2: Outcome.UNREACHABLE}


def test_the_first_final_outcome_of_an_item_is_its_outcome() -> None:
    assert item_outcomes([rec(4, Outcome.NOT_ACTIVATED, 1), rec(4, Outcome.CONFIRMED, 2)], tries=3) == {
        4: Outcome.NOT_ACTIVATED}


def test_a_reserve_outcome_counts_only_once_the_reserve_is_needed() -> None:
    # The verifier called reserve 16 early and it failed; it enters the sample when rank 0 turns
    # out unreachable, and only then can its failure decide.
    recorded = [rec(16, Outcome.NOT_ACTIVATED, 1), rec(1, Outcome.NOT_ACTIVATED, 2), rec(2, Outcome.NOT_ACTIVATED, 3)]
    assert verdict(RULE, 24, recorded).status is CheckStatus.OPEN
    recorded += [rec(0, Outcome.NO_ANSWER, m) for m in (4, 5, 6)]
    v = verdict(RULE, 24, recorded)
    assert v.status is CheckStatus.FAILED and v.decided_at == at(6)


def test_the_verdict_does_not_depend_on_the_order_outcomes_come_in() -> None:
    rng = random.Random(18)
    outcomes = [Outcome.CONFIRMED] * 6 + [Outcome.NO_ANSWER] * 3 + [Outcome.NOT_ACTIVATED, Outcome.UNREACHABLE,
                                                                      Outcome.NOT_GUIDED]
    for _ in range(30):
        recorded = [Recorded(rng.randrange(24), rng.choice(outcomes), at(rng.randrange(40))) for _ in range(40)]
        expected = verdict(RULE, 24, recorded)
        for _ in range(5):
            shuffled = recorded[:]
            rng.shuffle(shuffled)
            assert verdict(RULE, 24, shuffled) == expected


def test_inconclusive_when_the_reserves_run_out() -> None:
    # 19 drawn (a unit of 19 claims): 5 unreachable leave 14 items, one of which failed, so the
    # unit can no longer pass (14 confirmed needed); while three are left it could still fail.
    unreachable = [rec(r, Outcome.UNREACHABLE, r) for r in range(5)]
    recorded = [*unreachable, rec(5, Outcome.NOT_ACTIVATED, 10), *confirmed(range(6, 17), start=11)]
    v = verdict(RULE, 19, recorded)
    assert v.status is CheckStatus.OPEN  # 17 and 18 left: two more failures would fail it
    v = verdict(RULE, 19, [*recorded, rec(17, Outcome.CONFIRMED, 40)])
    assert v.status is CheckStatus.INCONCLUSIVE and v.decided_at == at(40)
    assert (v.successes, v.failures) == (12, 1)


def test_missing_items_count_against_passing_only() -> None:
    # 5 unreachable of 19 leave 14 = n - d: all 14 confirmed still passes.
    recorded = [*(rec(r, Outcome.UNREACHABLE, r) for r in range(5)), *confirmed(range(5, 19), start=10)]
    assert verdict(RULE, 19, recorded).status is CheckStatus.PASSED
    # and three failures among what is left still fail.
    failing = [*(rec(r, Outcome.UNREACHABLE, r) for r in range(5)),
               *(rec(r, Outcome.NOT_OWN_ACCOUNT, 10 + r) for r in (5, 6, 7))]
    assert verdict(RULE, 19, failing).status is CheckStatus.FAILED


def test_inconclusive_as_soon_as_neither_verdict_is_reachable() -> None:
    # 6 unreachable of 19 leave 13 < n - d = 14: the unit cannot pass; with 11 confirmed and 2
    # still being tried it cannot fail either.
    recorded = [*(rec(r, Outcome.UNREACHABLE, r) for r in range(6)), *confirmed(range(6, 17), start=10)]
    v = verdict(RULE, 19, recorded)
    assert v.status is CheckStatus.INCONCLUSIVE and v.decided_at == at(20)
    # One failure among them: the two left could still make it three.
    recorded[6] = rec(6, Outcome.NOT_ACTIVATED, 10)
    assert verdict(RULE, 19, recorded).status is CheckStatus.OPEN


@pytest.mark.parametrize(("drawn", "expected"), [(24, (16, 2)), (16, (16, 2)), (10, (10, 1)), (8, (8, 1)),
                                                 (7, (7, 0)), (1, (1, 0))])
def test_effective_rule_keeps_the_share_of_failures(drawn: int, expected: tuple[int, int]) -> None:
    got = effective_rule(RULE, drawn)
    assert (got.n, got.d) == expected
    # The largest d with d / drawn <= 2 / 16, computed in exact fractions.
    if drawn < 16:
        assert got.d == max(d for d in range(drawn) if Fraction(d, drawn) <= Fraction(2, 16))


def test_a_small_unit_is_checked_whole() -> None:
    assert verdict(RULE, 7, confirmed(range(6))).status is CheckStatus.OPEN
    assert verdict(RULE, 7, confirmed(range(7))).status is CheckStatus.PASSED
    assert verdict(RULE, 7, [rec(3, Outcome.NOT_GUIDED, 1)]).status is CheckStatus.FAILED
    ten = [rec(0, Outcome.NOT_ACTIVATED, 0), *confirmed(range(1, 10), start=1)]
    assert verdict(RULE, 10, ten).status is CheckStatus.PASSED  # 1 of 10 allowed
    assert verdict(RULE, 10, [rec(0, Outcome.NOT_ACTIVATED, 0), rec(1, Outcome.NOT_ACTIVATED, 1)]).status \
        is CheckStatus.FAILED


def test_outcomes_beyond_the_drawn_items_are_ignored() -> None:
    v = verdict(RULE, 24, [rec(30, Outcome.NOT_ACTIVATED, 1)])
    assert v.status is CheckStatus.OPEN and v.estimate.rate is None


# --- Words and who sees what -------------------------------------------------------------------------

def test_every_outcome_and_status_has_its_words() -> None:
    assert set(OUTCOME_TEXTS) == set(Outcome) and set(STATUS_TEXTS) == set(CheckStatus)
    assert all(vi and en for vi, en in [*OUTCOME_TEXTS.values(), *STATUS_TEXTS.values()])
    assert {o for o in Outcome if o.failure} == FAILURES == {Outcome.NOT_ACTIVATED, Outcome.NOT_OWN_ACCOUNT,
                                                         Outcome.NOT_GUIDED}
    assert [o for o in Outcome if not o.final] == [Outcome.NO_ANSWER]


CHAIN = ("xa-1", "huyen-1", "tinh-1")  # a commune, its district, its province


@pytest.mark.parametrize(("role", "unit", "sees"), [
    (Role.DISTRICT_FOCAL, "huyen-1", True),
    (Role.PROVINCE_OPERATOR, "tinh-1", True),
    (Role.COMMUNE_FOCAL, "xa-1", False),  # the unit's own users
    (Role.TEAM_LEAD, "huyen-1", False),
    (Role.ADMIN, "tinh-1", False),
    (Role.DISTRICT_FOCAL, "huyen-2", False),  # another district
])
def test_who_sees_an_open_check_of_a_commune(role: Role, unit: str, sees: bool) -> None:
    assert sees_open_check(role, unit, CHAIN) is sees


def test_a_district_check_is_hidden_from_its_own_focal_point_not_from_the_province() -> None:
    district = ("huyen-1", "tinh-1")
    assert not sees_open_check(Role.DISTRICT_FOCAL, "huyen-1", district)
    assert sees_open_check(Role.PROVINCE_OPERATOR, "tinh-1", district)
    assert sees_open_check(Role.PROVINCE_OPERATOR, "tinh-1", ("tinh-1",))  # the province as a whole
    assert sees_decided_check("xa-1", CHAIN) and sees_decided_check("tinh-1", CHAIN)
    assert not sees_decided_check("xa-2", CHAIN)


# --- Simulation: many draws over a unit of known rate -------------------------------------------------

def hypergeometric_fail(population: int, bad: int, n: int, d: int) -> float:
    """Probability that more than d of n claims drawn without replacement are bad, exactly."""
    total = math.comb(population, n)
    at_most_d = sum(math.comb(bad, k) * math.comb(population - bad, n - k) for k in range(d + 1))
    return float(1 - Fraction(at_most_d, total))


def run_check(seed: bytes, population: list[int], bad: set[int], rng: random.Random,
              unreachable_share: float) -> CheckStatus:
    """A verifier working the check: calls the sample in rank order, reserves as needed, and
    stops as soon as the verdict is in. Reaching a citizen does not depend on the claim."""
    drawn = draw(seed, population, RULE)
    recorded: list[Recorded] = []
    minute = 0
    while True:
        v = verdict(RULE, len(drawn), recorded)
        if v.status is not CheckStatus.OPEN:
            return v.status
        done = {r.rank for r in recorded}
        rank = next(r for r in v.active if r not in done)
        if rng.random() < unreachable_share:
            outcomes = [Outcome.NO_ANSWER] * 3
        else:
            outcomes = [Outcome.NOT_ACTIVATED if drawn[rank] in bad else Outcome.CONFIRMED]
        for outcome in outcomes:
            minute += 1
            recorded.append(Recorded(rank, outcome, at(minute)))


@pytest.mark.parametrize(("rate", "limit_of"), [(0.95, "alpha"), (0.70, "beta")])
def test_many_draws_show_the_documented_risks(rate: float, limit_of: str) -> None:
    chosen = design(DEFAULT_THRESHOLDS)
    assert chosen.rule == RULE
    size, runs = 300, 800
    population = list(range(10_000, 10_000 + size))
    rng = random.Random(f"unit-{rate}")
    bad = set(rng.sample(population, round(size * (1 - rate))))
    statuses = Counter(run_check(f"draw-{i}".encode(), population, bad, rng, 0.1) for i in range(runs))
    failed = statuses[CheckStatus.FAILED] / runs
    passed = statuses[CheckStatus.PASSED] / runs
    # The unit is finite and sampled without replacement: the exact risk is hypergeometric, a
    # little below the binomial one the design promises. Unreachable citizens are replaced at
    # random, so they change neither.
    exact_fail = hypergeometric_fail(size, len(bad), RULE.n, RULE.d)
    if limit_of == "alpha":
        observed, exact, promised = failed, exact_fail, chosen.alpha
    else:
        observed, exact, promised = passed, 1 - exact_fail, chosen.beta
    tolerance = 4 * math.sqrt(promised * (1 - promised) / runs)
    assert exact <= promised
    assert observed <= promised + tolerance
    assert abs(observed - exact) <= tolerance
    assert statuses[CheckStatus.INCONCLUSIVE] / runs < 0.01


def test_unreachable_is_what_tries_amount_to_never_a_recorded_outcome():
    assert Outcome.UNREACHABLE not in RECORDABLE
    assert set(RECORDABLE) == set(Outcome) - {Outcome.UNREACHABLE}
