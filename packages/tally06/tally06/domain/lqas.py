"""Lot quality assurance sampling: the decision rule a spot check uses, its risks and the estimate
it gives. Pure math on the exact binomial distribution (no approximations, no I/O).

A unit is a lot. Its true rate ``p`` is the share of its claimed activations that are real. A
sample of ``n`` claims is checked and the unit passes when at most ``d`` of them fail. The rule
``(n, d)`` follows from two thresholds and two risks set in advance by the province:

- ``upper``: a rate a unit doing its job reaches; failing such a unit is the risk ``alpha``;
- ``lower``: a rate that is clearly unacceptable; passing such a unit is the risk ``beta``.

The failures in a sample are Binomial(n, 1 - p): the sample is small beside the unit, and for a
small unit the binomial overstates both risks a little (sampling without replacement is kinder),
so the rule errs on the safe side. docs/spot-checks.md shows the published tables this follows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from tally06.exceptions import FieldError


class DesignError(FieldError):
    """Thresholds or risks no rule can meet (or that make no sense)."""


@dataclass(frozen=True)
class Thresholds:
    upper: float
    lower: float
    alpha: float
    beta: float

    def problem(self) -> tuple[str, str] | None:
        """The field at fault and why, or None when the thresholds make a design."""
        if not 0.0 < self.upper <= 1.0:
            return "upper", "must be above 0 and at most 1"
        if not 0.0 <= self.lower < self.upper:
            return "lower", "must be at least 0 and below upper"
        if not 0.0 < self.alpha < 0.5:
            return "alpha", "must be above 0 and below 0.5"
        if not 0.0 < self.beta < 0.5:
            return "beta", "must be above 0 and below 0.5"
        return None


@dataclass(frozen=True)
class DecisionRule:
    """Check ``n`` claims; the unit passes when at most ``d`` of them fail."""

    n: int
    d: int

    def problem(self) -> tuple[str, str] | None:
        if self.n < 1:
            return "n", "must be at least 1"
        if not 0 <= self.d < self.n:
            return "d", "must be at least 0 and below n"
        return None


@dataclass(frozen=True)
class Design:
    rule: DecisionRule
    # The exact risks of this rule at the thresholds (at most the ones asked for).
    alpha: float
    beta: float


def binom_pmf(k: int, n: int, p: float) -> float:
    """P(X = k) for X ~ Binomial(n, p), in logarithms: ``math.comb(n, k)`` alone overflows a
    float past n of about 1 030, and a rule given explicitly may be that large."""
    if k < 0 or k > n:
        return 0.0
    if p <= 0.0:
        return 1.0 if k == 0 else 0.0
    if p >= 1.0:
        return 1.0 if k == n else 0.0
    log = (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
           + k * math.log(p) + (n - k) * math.log1p(-p))
    return math.exp(log)


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return min(1.0, math.fsum(binom_pmf(i, n, p) for i in range(k + 1)))


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X > k), summed over the upper tail itself: ``1 - binom_cdf`` loses the small risks
    (of the order of 1e-17) to rounding."""
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    return min(1.0, math.fsum(binom_pmf(i, n, p) for i in range(k + 1, n + 1)))


def risk_fail_good(rule: DecisionRule, upper: float) -> float:
    """Probability that a unit whose true rate is ``upper`` fails (more than d failures)."""
    return binom_sf(rule.d, rule.n, 1.0 - upper)


def risk_pass_bad(rule: DecisionRule, lower: float) -> float:
    """Probability that a unit whose true rate is ``lower`` passes (at most d failures)."""
    return binom_cdf(rule.d, rule.n, 1.0 - lower)


def pass_probability(rule: DecisionRule, rate: float) -> float:
    """The operating characteristic: how often a unit with this true rate passes."""
    return binom_cdf(rule.d, rule.n, 1.0 - rate)


def design(thresholds: Thresholds, *, max_n: int = 400) -> Design:
    """The smallest sample whose risks are within those asked, and for it the strictest rule:
    the fewest failures allowed that keep the risk of failing a good unit within ``alpha``.

    Allowing more failures only lowers that risk and raises the risk of passing a bad unit, so
    the strictest such ``d`` is the one that gives the smallest ``beta``; when it misses ``beta``
    no ``d`` of that sample size can meet both. It is also the convention of the published health
    tables (Valadez et al.: 13 of 19 at an 80 % target, i.e. d = 6)."""
    problem = thresholds.problem()
    if problem is not None:
        raise DesignError(*problem)
    t = thresholds
    for n in range(1, max_n + 1):
        d = _strictest_d(n, t)
        if d is None:
            continue
        rule = DecisionRule(n, d)
        beta = risk_pass_bad(rule, t.lower)
        if beta <= t.beta:
            return Design(rule, risk_fail_good(rule, t.upper), beta)
    raise DesignError("lower", f"no sample of at most {max_n} separates {t.upper:.0%} from {t.lower:.0%} "
                               "at these risks; widen the gap or accept larger risks")


def _strictest_d(n: int, t: Thresholds) -> int | None:
    """The fewest failures allowed in a sample of n that keep the risk of failing a good unit
    within alpha: one pass over the upper tail (the design tries every n up to hundreds)."""
    pmf = [binom_pmf(i, n, 1.0 - t.upper) for i in range(n + 1)]
    tail = 0.0
    for d in range(n - 1, -1, -1):
        tail += pmf[d + 1]  # P(X > d)
        if tail > t.alpha:
            return d + 1 if d + 1 < n else None
    return 0


def risks(rule: DecisionRule, thresholds: Thresholds) -> Design:
    """The exact risks of a rule given explicitly, at the province's thresholds."""
    problem = rule.problem() or thresholds.problem()
    if problem is not None:
        raise DesignError(*problem)
    return Design(rule, risk_fail_good(rule, thresholds.upper), risk_pass_bad(rule, thresholds.lower))


@dataclass(frozen=True)
class Estimate:
    rate: float | None
    low: float
    high: float
    confidence: float


def _bisect(f: Callable[[float], float], target: float, increasing: bool) -> float:
    lo, hi = 0.0, 1.0
    # 1e-12 is far below any rate a person reads, and 40 halvings reach it.
    while hi - lo > 1e-12:
        mid = (lo + hi) / 2
        if (f(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def estimate(successes: int, trials: int, confidence: float = 0.95) -> Estimate:
    """The true rate's point estimate and its exact (Clopper-Pearson) interval: conservative,
    and right for the small samples of a spot check, where normal approximations are not."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    if trials <= 0:
        return Estimate(None, 0.0, 1.0, confidence)
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    tail = (1.0 - confidence) / 2
    k, n = successes, trials
    # low: the rate at which seeing k or more successes has probability `tail`.
    low = 0.0 if k == 0 else _bisect(lambda p: binom_sf(k - 1, n, p), tail, increasing=True)
    # high: the rate at which seeing k or fewer successes has probability `tail`.
    high = 1.0 if k == n else _bisect(lambda p: binom_cdf(k, n, p), tail, increasing=False)
    return Estimate(k / n, low, high, confidence)
