"""LQAS math against published decision tables, exact binomial sums and textbook intervals.

Every expected value here is either copied from a publication (cited beside it) or computed in
the test by another method: exact rational sums with ``fractions.Fraction`` and an exhaustive
search over every (n, d), never with the module under test.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import pytest

from tally06.domain.lqas import (
    DecisionRule,
    DesignError,
    Thresholds,
    binom_cdf,
    binom_sf,
    design,
    estimate,
    pass_probability,
    risks,
)
from tally06.domain.spot_checks import DEFAULT_THRESHOLDS


def exact_cdf(k: int, n: int, p: Fraction) -> Fraction:
    """P(X <= k), X ~ Binomial(n, p), as an exact fraction."""
    return sum((math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1)), Fraction(0))


def exact_pass(n: int, d: int, rate: Fraction) -> Fraction:
    """Probability that a unit whose true rate is ``rate`` shows at most d failures in n."""
    return exact_cdf(d, n, 1 - rate)


def exact_design(upper: str, lower: str, alpha: str, beta: str, max_n: int = 200) -> tuple[int, int]:
    """The design by brute force in exact arithmetic: the smallest n for which some d keeps both
    risks within bounds, and at that n the smallest such d (the strictest rule)."""
    u, lo, a, b = Fraction(upper), Fraction(lower), Fraction(alpha), Fraction(beta)
    for n in range(1, max_n + 1):
        feasible = [d for d in range(n)
                    if 1 - exact_pass(n, d, u) <= a and exact_pass(n, d, lo) <= b]
        if feasible:
            return n, min(feasible)
    raise AssertionError("no design")


# --- Published tables ----------------------------------------------------------------------------

# Table 1 of "Lot quality assurance sampling ... immunization coverage" (PMC3013262,
# https://pmc.ncbi.nlm.nih.gov/articles/PMC3013262/table/T1), itself from Grant & Leavenworth,
# Statistical Quality Control, 1988, pp. 391-425. Thresholds: 80 % coverage is adequate, 50 % is
# inadequate; "d" is the number unimmunized allowed. Columns: a = probability of classing an 80 %
# area adequate (1 - a is the provider risk, our alpha), b = probability of classing a 50 % area
# inadequate (1 - b is the consumer risk, our beta), both rounded to 2 decimals. The starred
# (optimal) rule of each sample size is the one with the least total error (1 - a) + (1 - b).
# Only the n = 14 and n = 19 blocks are copied: other rows of that reproduction carry misprints
# (n = 8, d = 2 gives b = 0.83 where the exact value is 0.855).
GRANT_LEAVENWORTH_80_50 = {
    14: [(0, 0.04, 1.00), (1, 0.20, 1.00), (2, 0.45, 0.99), (3, 0.70, 0.97), (4, 0.87, 0.91), (5, 0.96, 0.79)],
    19: [(0, 0.01, 1.00), (1, 0.08, 1.00), (2, 0.24, 1.00), (3, 0.46, 1.00), (4, 0.67, 0.99), (5, 0.84, 0.97),
         (6, 0.93, 0.92), (7, 0.98, 0.82)],
}
GRANT_LEAVENWORTH_OPTIMAL = {14: 4, 19: 6}


@pytest.mark.parametrize("n", sorted(GRANT_LEAVENWORTH_80_50))
def test_the_published_80_50_table(n: int) -> None:
    t = Thresholds(upper=0.80, lower=0.50, alpha=0.10, beta=0.10)
    totals = {}
    for d, a, b in GRANT_LEAVENWORTH_80_50[n]:
        r = risks(DecisionRule(n, d), t)
        assert 1 - r.alpha == pytest.approx(a, abs=0.005), (n, d)
        assert 1 - r.beta == pytest.approx(b, abs=0.005), (n, d)
        totals[d] = r.alpha + r.beta
    assert min(totals, key=lambda d: totals[d]) == GRANT_LEAVENWORTH_OPTIMAL[n]


def test_the_classic_19_of_80_50_is_the_smallest_design() -> None:
    # Valadez et al., Assessing Community Health Programs (LQAS table of decision rules for sample
    # sizes 12-30 and coverage targets 10-95 %): with n = 19 and an 80 % target the decision rule
    # is 13, i.e. at least 13 of the 19 must be covered (d = 19 - 13 = 6 failures allowed). That
    # table sets the lower threshold 30 points below the target and keeps both risks within 10 %,
    # taking the strictest rule whose risk of failing a unit at the target stays within 10 %, the
    # convention design() follows. The table of Grant & Leavenworth above shows why n = 14 is not
    # enough: its best rule (d = 4) fails an 80 % unit 13 % of the time.
    got = design(Thresholds(upper=0.80, lower=0.50, alpha=0.10, beta=0.10))
    assert (got.rule.n, got.rule.n - got.rule.d) == (19, 13)
    assert (got.alpha, got.beta) == (pytest.approx(0.07, abs=0.005), pytest.approx(0.08, abs=0.005))
    assert (got.rule.n, got.rule.d) == exact_design("0.80", "0.50", "0.10", "0.10")


def test_the_bolivia_yellow_fever_plan() -> None:
    # Pezzoli et al., Trop Med Int Health 2009;14(3):355-61 (doi:10.1111/j.1365-3156.2009.02231.x):
    # "35 individuals with six as decision value (alpha error 6% if true coverage 70%; beta error 6%
    # if true coverage 90%)". Their alpha is passing a 70 % district (our beta), their beta is
    # failing a 90 % one (our alpha); both published to the whole percent.
    r = risks(DecisionRule(35, 6), Thresholds(upper=0.90, lower=0.70, alpha=0.10, beta=0.10))
    assert r.alpha == pytest.approx(0.06, abs=0.005)
    assert r.beta == pytest.approx(0.06, abs=0.005)


@pytest.mark.parametrize(("upper", "lower", "d"), [(0.95, 0.80, 4), (0.90, 0.75, 7)])
def test_the_clustered_plans_of_50_meet_their_published_bounds(upper: float, lower: float, d: int) -> None:
    # Pezzoli et al., Trop Med Int Health 2010;15(5) "Clustered lot quality assurance sampling to
    # assess immunisation coverage": N = 50 (5 x 10) with d = 4 for a 95 % target and d = 7 for a
    # 90 % target, lower thresholds 15 points below, chosen so that (unclustered) the risk of
    # accepting a lot at the lower threshold is <= 5 % and of rejecting one at the upper <= 20 %.
    # The published plans are not the smallest sample (50 suits five clusters of ten), so only
    # their risks are checked.
    r = risks(DecisionRule(50, d), Thresholds(upper=upper, lower=lower, alpha=0.20, beta=0.05))
    assert r.alpha <= 0.20
    assert r.beta <= 0.05


def test_the_polio_independent_monitoring_rule() -> None:
    # GPEI, "Assessing Vaccination Coverage Levels Using Clustered LQAS, Field Manual" (version for
    # the Global Polio Eradication Initiative, 27 April 2012): lots of 60 children (6 clusters of
    # 10); a lot with at most 3 unvaccinated passes at 90 %. The manual states a rule, not our
    # thresholds, so its operating characteristic is checked against exact sums: a lot passes
    # almost only when its coverage is well above 90 %.
    rule = DecisionRule(60, 3)
    for rate in ("0.80", "0.85", "0.90", "0.95", "0.97"):
        assert pass_probability(rule, float(rate)) == pytest.approx(
            float(exact_pass(60, 3, Fraction(rate))), rel=1e-12)
    assert pass_probability(rule, 0.90) < 0.14
    assert pass_probability(rule, 0.80) < 0.002
    assert pass_probability(rule, 0.97) > 0.89


# --- Designs: exact risks, minimality, the default ------------------------------------------------

DESIGNS = [
    ("0.95", "0.70", "0.05", "0.10"),
    ("0.80", "0.50", "0.10", "0.10"),
    ("0.90", "0.60", "0.10", "0.10"),
    ("0.90", "0.70", "0.05", "0.10"),
    ("0.95", "0.80", "0.05", "0.10"),
    ("0.95", "0.75", "0.05", "0.10"),
    ("0.85", "0.60", "0.10", "0.10"),
    ("0.95", "0.70", "0.10", "0.10"),
]


@pytest.mark.parametrize("thresholds", DESIGNS)
def test_design_is_the_smallest_sample_and_its_strictest_rule(thresholds: tuple[str, str, str, str]) -> None:
    upper, lower, alpha, beta = thresholds
    got = design(Thresholds(float(upper), float(lower), float(alpha), float(beta)))
    assert (got.rule.n, got.rule.d) == exact_design(upper, lower, alpha, beta)
    n, d = got.rule.n, got.rule.d
    assert got.alpha == pytest.approx(float(1 - exact_pass(n, d, Fraction(upper))), rel=1e-9)
    assert got.beta == pytest.approx(float(exact_pass(n, d, Fraction(lower))), rel=1e-9)
    assert got.alpha <= float(alpha) and got.beta <= float(beta)


def test_the_table_of_designs_in_the_docs_is_what_design_gives() -> None:
    text = (Path(__file__).parents[4] / "docs" / "spot-checks.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) % \| (\d+) % \| ([\d.]+) \| ([\d.]+) \| (\d+) \| (\d+) \| ([\d.]+) \| ([\d.]+) \|$",
                      text, flags=re.MULTILINE)
    assert len(rows) >= 10
    for upper, lower, alpha, beta, n, d, alpha_exact, beta_exact in rows:
        got = design(Thresholds(int(upper) / 100, int(lower) / 100, float(alpha), float(beta)))
        assert (got.rule.n, got.rule.d) == (int(n), int(d))
        assert (round(got.alpha, 3), round(got.beta, 3)) == (float(alpha_exact), float(beta_exact))


def test_the_default_thresholds_give_16_and_2() -> None:
    got = design(DEFAULT_THRESHOLDS)
    assert (got.rule.n, got.rule.d) == (16, 2)
    # Exact: failing a 95 % unit, passing a 70 % unit.
    assert got.alpha == pytest.approx(float(1 - exact_pass(16, 2, Fraction(95, 100))), rel=1e-12)
    assert got.beta == pytest.approx(float(exact_pass(16, 2, Fraction(70, 100))), rel=1e-12)
    assert round(got.alpha, 4) == 0.0429 and round(got.beta, 4) == 0.0994


@pytest.mark.parametrize(("n", "d", "p"), [(16, 2, "0.05"), (19, 6, "0.5"), (60, 3, "0.1"), (37, 0, "0.001"),
                                           (400, 40, "0.12"), (25, 24, "0.99")])
def test_binomial_tails_equal_exact_sums(n: int, d: int, p: str) -> None:
    exact = exact_cdf(d, n, Fraction(p))
    assert binom_cdf(d, n, float(p)) == pytest.approx(float(exact), rel=1e-11, abs=1e-300)
    assert binom_sf(d, n, float(p)) == pytest.approx(float(1 - exact), rel=1e-11, abs=1e-300)


def test_tiny_risks_keep_their_digits() -> None:
    # Failing a unit whose claims are 99.9 % real with 16 checked and 2 allowed: about 5.6e-7, far
    # from where 1 - cdf would round it away.
    exact = 1 - exact_pass(16, 2, Fraction(999, 1000))
    got = risks(DecisionRule(16, 2), Thresholds(0.999, 0.5, 0.1, 0.1)).alpha
    assert got == pytest.approx(float(exact), rel=1e-9)


def test_a_large_explicit_rule_does_not_overflow() -> None:
    # math.comb(2000, 1000) is about 2e600, past any float.
    rule = DecisionRule(2000, 150)
    exact = exact_pass(2000, 150, Fraction(93, 100))
    assert pass_probability(rule, 0.93) == pytest.approx(float(exact), rel=1e-9)


def test_pass_probability_at_the_edges() -> None:
    rule = DecisionRule(16, 2)
    assert pass_probability(rule, 1.0) == 1.0
    assert pass_probability(rule, 0.0) == 0.0


@pytest.mark.parametrize(("thresholds", "field"), [
    (Thresholds(0.0, 0.0, 0.05, 0.1), "upper"),
    (Thresholds(1.2, 0.5, 0.05, 0.1), "upper"),
    (Thresholds(0.8, 0.8, 0.05, 0.1), "lower"),
    (Thresholds(0.8, -0.1, 0.05, 0.1), "lower"),
    (Thresholds(0.8, 0.5, 0.0, 0.1), "alpha"),
    (Thresholds(0.8, 0.5, 0.5, 0.1), "alpha"),
    (Thresholds(0.8, 0.5, 0.05, 0.0), "beta"),
])
def test_bad_thresholds_name_their_field(thresholds: Thresholds, field: str) -> None:
    with pytest.raises(DesignError) as caught:
        design(thresholds)
    assert caught.value.field == field
    with pytest.raises(DesignError):
        risks(DecisionRule(16, 2), thresholds)


def test_thresholds_too_close_for_any_sample() -> None:
    with pytest.raises(DesignError) as caught:
        design(Thresholds(0.95, 0.94, 0.05, 0.05), max_n=200)
    assert caught.value.field == "lower"


@pytest.mark.parametrize(("rule", "field"), [(DecisionRule(0, 0), "n"), (DecisionRule(5, 5), "d"),
                                             (DecisionRule(5, -1), "d")])
def test_bad_rules_name_their_field(rule: DecisionRule, field: str) -> None:
    with pytest.raises(DesignError) as caught:
        risks(rule, DEFAULT_THRESHOLDS)
    assert caught.value.field == field


# --- Clopper-Pearson --------------------------------------------------------------------------------

@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # Closed forms at the ends: 0 of n -> high = 1 - 0.025^(1/n); n of n -> low = 0.025^(1/n).
    (0, 10, 0.0, 1 - 0.025 ** (1 / 10)),
    (10, 10, 0.025 ** (1 / 10), 1.0),
    (16, 16, 0.025 ** (1 / 16), 1.0),
    # Textbook values (e.g. Clopper & Pearson 1934 charts; any exact-interval table): 0/10 ->
    # [0, 0.3085], 5/10 -> [0.1871, 0.8129].
    (0, 10, 0.0, 0.3085),
    (5, 10, 0.1871, 0.8129),
])
def test_clopper_pearson_known_values(k: int, n: int, low: float, high: float) -> None:
    got = estimate(k, n)
    assert got.rate == k / n
    assert got.low == pytest.approx(low, abs=5e-5)
    assert got.high == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize(("k", "n"), [(1, 16), (7, 16), (13, 19), (15, 16), (40, 60)])
def test_clopper_pearson_bounds_put_the_tails_at_2_5_percent(k: int, n: int) -> None:
    got = estimate(k, n, confidence=0.95)
    # At the lower bound seeing k or more is a 2.5 % event; at the upper, seeing k or fewer.
    low = Fraction(got.low)
    high = Fraction(got.high)
    assert float(1 - exact_cdf(k - 1, n, low)) == pytest.approx(0.025, abs=1e-9)
    assert float(exact_cdf(k, n, high)) == pytest.approx(0.025, abs=1e-9)


def test_estimate_without_trials_and_bad_counts() -> None:
    none = estimate(0, 0)
    assert (none.rate, none.low, none.high) == (None, 0.0, 1.0)
    with pytest.raises(ValueError):
        estimate(5, 4)
    with pytest.raises(ValueError):
        estimate(1, 4, confidence=1.0)
