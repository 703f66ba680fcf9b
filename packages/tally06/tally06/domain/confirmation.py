"""Claimed and confirmed side by side: what the registry made of a unit's activation claims. Pure.

The reconciler puts every credited activation claim in one state per level (``confirmed``,
``pending``, ``unconfirmed``, ``already_active``, ``level_differs``: domain/registry.py) and adds
it to that state's counter, on the claim's day, next to the claim's own ``activated`` counter.
This module reads those counters back: per unit, level and day, and the confirmation rate.

The rate judges only claims whose window has passed: a *pending* claim is not a failure yet (the
activation code takes days to arrive, the extract longer), so it is neither in the numerator nor
in the denominator. A unit whose claims are all pending has no rate (None), not a rate of 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from tally06.contract.events import EVENT_METRICS, Metric
from tally06.domain.metrics import ACTIVATED_FAMILY, FAMILIES

LEVELS = (1, 2)
# The registry's states of a claim, and the states that are a verdict (the window has passed).
STATES = ("confirmed", "pending", "unconfirmed", "already_active", "level_differs")
JUDGED = ("confirmed", "unconfirmed", "already_active", "level_differs")
# Everything a confirmation answer shows: the claims, their states, and the activations no team claimed.
FIGURES = ("claimed", *STATES, "unclaimed")
# Counters the reconciler writes, not field events: they say nothing about a team being at work.
REGISTRY_METRICS: frozenset[str] = frozenset(m.value for m in Metric if m not in EVENT_METRICS)


def _family(figure: str) -> str:
    return ACTIVATED_FAMILY if figure == "claimed" else figure


@dataclass(frozen=True)
class LevelCounts:
    l1: int = 0
    l2: int = 0

    @property
    def total(self) -> int:
        return self.l1 + self.l2

    def of(self, level: int) -> int:
        return self.l1 if level == 1 else self.l2


def rate(confirmed: int, judged: int) -> Fraction | None:
    """Confirmed share of the judged claims, exact; None when no claim has been judged."""
    return Fraction(confirmed, judged) if judged > 0 else None


@dataclass(frozen=True)
class Confirmation:
    """One unit's claims and their states (for one day, a period or the whole campaign)."""

    claimed: LevelCounts = LevelCounts()
    confirmed: LevelCounts = LevelCounts()
    pending: LevelCounts = LevelCounts()
    unconfirmed: LevelCounts = LevelCounts()
    already_active: LevelCounts = LevelCounts()
    level_differs: LevelCounts = LevelCounts()
    unclaimed: LevelCounts = LevelCounts()

    def judged(self, level: int | None = None) -> int:
        """Claims whose window has passed (every state but pending), of one level or both."""
        counts = (getattr(self, state) for state in JUDGED)
        return sum(c.total if level is None else c.of(level) for c in counts)

    def rate(self, level: int | None = None) -> Fraction | None:
        confirmed = self.confirmed.total if level is None else self.confirmed.of(level)
        return rate(confirmed, self.judged(level))


def confirmation_of(counters: Mapping[str, int]) -> Confirmation:
    """From counters by metric (``activated_l1``, ``confirmed_l2``, ...); absent metrics are 0."""
    figures = {}
    for figure in FIGURES:
        l1, l2 = (counters.get(m.value, 0) for m in FAMILIES[_family(figure)])
        figures[figure] = LevelCounts(l1, l2)
    return Confirmation(**figures)


def confirmation_metrics() -> tuple[str, ...]:
    """Every counter ``confirmation_of`` reads."""
    return tuple(m.value for figure in FIGURES for m in FAMILIES[_family(figure)])


def by_day(rows: Iterable[Mapping], first: dt.date, last: dt.date) -> dict[dt.date, Confirmation]:
    """``unit_daily`` rows of one unit (``day``, ``metric``, ``credited``) as one Confirmation per
    day from ``first`` to ``last``, days without rows included (all zero)."""
    per_day: dict[dt.date, dict[str, int]] = {}
    for row in rows:
        if first <= row["day"] <= last:
            counters = per_day.setdefault(row["day"], {})
            counters[row["metric"]] = counters.get(row["metric"], 0) + int(row["credited"])
    span = (last - first).days + 1
    days = (first + dt.timedelta(days=n) for n in range(span))
    return {day: confirmation_of(per_day.get(day, {})) for day in days}


def summed(parts: Iterable[Confirmation]) -> Confirmation:
    """The sum of several days' (or units') figures."""
    totals = {f: [0, 0] for f in FIGURES}
    for part in parts:
        for figure in FIGURES:
            counts: LevelCounts = getattr(part, figure)
            totals[figure][0] += counts.l1
            totals[figure][1] += counts.l2
    return Confirmation(**{f: LevelCounts(*v) for f, v in totals.items()})


@dataclass(frozen=True)
class LowConfirmation:
    """When a unit's confirmation rate is low enough to tell someone.

    ``threshold``: plan 70 counts only activations the registry confirms; a unit whose claims are
    confirmed less than 4 times in 5 overstates its work by a quarter or more, a gap campaign
    audits call serious. ``min_judged``: with few judged claims one unlucky claim (a citizen who
    mistyped the code) moves the rate by several points; 20 judged claims keep a single claim
    under 5 points of rate, so the alert speaks of a pattern, not of chance.
    """

    threshold: float = 0.8
    min_judged: int = 20

    @property
    def limit(self) -> Fraction:
        # Through the decimal text: Fraction(0.8) is a hair above 4/5, and 4 of 5 is not low.
        return Fraction(str(self.threshold))

    def is_low(self, figures: Confirmation) -> bool:
        judged = figures.judged()
        found = figures.rate()
        return judged >= self.min_judged and found is not None and found < self.limit
