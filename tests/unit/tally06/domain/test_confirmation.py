"""Claimed and confirmed from counter rows, the confirmation rate and when it is low."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from tally06.domain.confirmation import (
    REGISTRY_METRICS,
    Confirmation,
    LevelCounts,
    LowConfirmation,
    by_day,
    confirmation_of,
    summed,
)

D1, D2, D3 = dt.date(2024, 11, 4), dt.date(2024, 11, 5), dt.date(2024, 11, 6)


def test_counters_become_figures_per_level():
    found = confirmation_of({"activated_l1": 10, "activated_l2": 30, "confirmed_l1": 6, "confirmed_l2": 20,
                             "pending_l2": 4, "unconfirmed_l1": 2, "already_active_l1": 1, "level_differs_l1": 1,
                             "level_differs_l2": 6, "unclaimed_l2": 9, "collected_l1": 99})
    assert found.claimed == LevelCounts(10, 30) and found.claimed.total == 40
    assert found.confirmed == LevelCounts(6, 20)
    assert found.pending == LevelCounts(0, 4)
    assert found.unclaimed == LevelCounts(0, 9)
    # Judged: everything but pending. Level 1: 6 + 2 + 1 + 1 = 10; level 2: 20 + 6 = 26.
    assert (found.judged(1), found.judged(2), found.judged()) == (10, 26, 36)
    assert found.rate(1) == Fraction(6, 10)
    assert found.rate(2) == Fraction(20, 26)
    assert found.rate() == Fraction(26, 36)


def test_pending_claims_do_not_pull_the_rate_down():
    # 3 confirmed, 1 unconfirmed: 75 %, however many claims still wait for the registry.
    few = confirmation_of({"activated_l2": 4, "confirmed_l2": 3, "unconfirmed_l2": 1})
    many = confirmation_of({"activated_l2": 104, "confirmed_l2": 3, "unconfirmed_l2": 1, "pending_l2": 100})
    assert few.rate() == many.rate() == Fraction(3, 4)


def test_no_judged_claim_has_no_rate():
    assert confirmation_of({"activated_l1": 5, "pending_l1": 5}).rate() is None
    assert Confirmation().rate() is None


def test_days_are_filled_and_summed():
    rows = [
        {"day": D1, "metric": "activated_l1", "credited": 5}, {"day": D1, "metric": "confirmed_l1", "credited": 4},
        {"day": D1, "metric": "unconfirmed_l1", "credited": 1},
        {"day": D3, "metric": "activated_l2", "credited": 2}, {"day": D3, "metric": "pending_l2", "credited": 2},
        {"day": dt.date(2024, 11, 7), "metric": "activated_l2", "credited": 50},  # outside the period
    ]
    days = by_day(rows, D1, D3)
    assert list(days) == [D1, D2, D3]
    assert days[D1].rate() == Fraction(4, 5)
    assert days[D2] == Confirmation()
    assert days[D3].rate() is None and days[D3].pending.l2 == 2
    total = summed(days.values())
    assert total.claimed == LevelCounts(5, 2)
    assert total.confirmed == LevelCounts(4, 0)
    assert total.judged() == 5


@pytest.mark.parametrize(("confirmed", "unconfirmed", "low"), [
    (16, 4, False),  # exactly 80 % of 20: at the threshold is not below it
    (15, 5, True),   # 75 % of 20
    (3, 16, False),  # 16 % but only 19 judged: too few to speak of a pattern
    (3, 17, True),   # 15 % of 20 judged
    (40, 9, False),  # 81.6 %
    (40, 11, True),  # 78.4 %
])
def test_low_confirmation_needs_a_low_rate_and_enough_judged_claims(confirmed, unconfirmed, low):
    figures = confirmation_of({"confirmed_l1": confirmed, "unconfirmed_l2": unconfirmed, "pending_l1": 500})
    assert LowConfirmation(threshold=0.8, min_judged=20).is_low(figures) is low


def test_the_registry_metrics_are_the_reconcilers_counters():
    assert "confirmed_l1" in REGISTRY_METRICS and "unclaimed_l2" in REGISTRY_METRICS
    assert "activated_l1" not in REGISTRY_METRICS and "installed" not in REGISTRY_METRICS
    assert len(REGISTRY_METRICS) == 12
