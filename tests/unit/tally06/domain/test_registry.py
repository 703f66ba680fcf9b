"""The registry's judgement of a claim, case by case, against the windows docs/registry.md
states (3 days before the claim's day, 7 after; passed once an extract is of a later day)."""

from __future__ import annotations

import datetime as dt

import pytest

from tally06.contract.events import Metric
from tally06.domain.metrics import FAMILIES
from tally06.domain.registry import (
    ClaimState,
    ReconcileRules,
    RegistryRecord,
    RegistryStatus,
    claim_state,
    residence_unit,
    state_metric,
    unclaimed_metric,
)

CLAIM = dt.date(2024, 11, 10)
RULES = ReconcileRules()


def activated(on: dt.date | None, level: int = 2) -> RegistryRecord:
    status = RegistryStatus.ACTIVATED if on else RegistryStatus.APPROVED
    return RegistryRecord("k", status, level, "C1", approved_on=dt.date(2024, 11, 1), activated_on=on)


@pytest.mark.parametrize(("record", "as_of", "state"), [
    (None, None, ClaimState.PENDING),  # no extract yet: nothing is known
    (None, dt.date(2024, 11, 17), ClaimState.PENDING),  # the window's last day
    (None, dt.date(2024, 11, 18), ClaimState.UNCONFIRMED),  # extracted past it
    (activated(None), dt.date(2024, 11, 12), ClaimState.PENDING),  # approved, code on its way
    (activated(None), dt.date(2024, 11, 30), ClaimState.UNCONFIRMED),
    (activated(dt.date(2024, 11, 10)), dt.date(2024, 11, 11), ClaimState.CONFIRMED),
    (activated(dt.date(2024, 11, 7)), dt.date(2024, 11, 11), ClaimState.CONFIRMED),  # first day of the window
    (activated(dt.date(2024, 11, 6)), dt.date(2024, 11, 11), ClaimState.ALREADY_ACTIVE),
    (activated(dt.date(2023, 5, 1)), None, ClaimState.ALREADY_ACTIVE),
    (activated(dt.date(2024, 11, 17)), dt.date(2024, 11, 20), ClaimState.CONFIRMED),  # code came a week later
    (activated(dt.date(2024, 11, 18)), dt.date(2024, 11, 20), ClaimState.UNCONFIRMED),  # not this claim's work
    (activated(dt.date(2024, 11, 11), level=1), dt.date(2024, 11, 12), ClaimState.LEVEL_DIFFERS),
])
def test_a_level_2_claim_is_judged_by_its_window(record, as_of, state):
    assert claim_state(CLAIM, 2, record, as_of, RULES) is state


def test_windows_are_settings():
    narrow = ReconcileRules(before_days=0, after_days=1)
    assert claim_state(CLAIM, 2, activated(dt.date(2024, 11, 9)), None, narrow) is ClaimState.ALREADY_ACTIVE
    assert claim_state(CLAIM, 2, None, dt.date(2024, 11, 12), narrow) is ClaimState.UNCONFIRMED
    assert narrow.window(CLAIM) == (CLAIM, dt.date(2024, 11, 11))


def test_every_state_has_a_counter_per_level_and_a_family():
    for state in ClaimState:
        assert FAMILIES[state.value] == (state_metric(state, 1), state_metric(state, 2))
    assert FAMILIES["unclaimed"] == (unclaimed_metric(1), unclaimed_metric(2))
    assert state_metric(ClaimState.CONFIRMED, 2) is Metric.CONFIRMED_L2


def test_a_citizen_lives_in_the_most_precise_unit_the_map_knows():
    assert residence_unit("C1", "V1", {"C1", "V1"}) == "V1"
    assert residence_unit("C1", "V9", {"C1", "V1"}) == "C1"
    assert residence_unit("C1", None, {"C1"}) == "C1"
    assert residence_unit("C7", "V7", {"C1"}) is None
