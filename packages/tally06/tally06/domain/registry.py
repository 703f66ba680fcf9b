"""The national registry's word on a citizen, and what it makes of a team's activation claim.

Field apps claim; the national identification system knows. The provincial police receive
extracts of it (one row per citizen: the stage reached, the account level and the day of each
stage, where the citizen lives). A credited activation claim is judged against the citizen's
registry record within a window around the claim's day (docs/registry.md has the reasons):

* the activation code reaches the citizen one to three days after approval, and extracts come
  a day or more after that: a claim with no registry activation yet is *pending* until the
  registry has been extracted past the window's end, then *unconfirmed*;
* an account the registry shows activated well before the claim was not the team's work
  (*already active*); one activated at another level than claimed is *level differs*.

The judgement is pure: it depends on the claim, the record and how far the registry has been
extracted (``as_of``, a day), never on the wall clock, so a replay judges the same.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection
from dataclasses import dataclass

from tally06.contract.events import Metric


class RegistryStatus(enum.StrEnum):
    """The stage a citizen's application reached, as an extract states it."""

    COLLECTED = "collected"
    APPROVED = "approved"
    ACTIVATED = "activated"
    REJECTED = "rejected"


class ClaimState(enum.StrEnum):
    CONFIRMED = "confirmed"
    PENDING = "pending"
    UNCONFIRMED = "unconfirmed"
    ALREADY_ACTIVE = "already_active"
    LEVEL_DIFFERS = "level_differs"


def state_metric(state: ClaimState, level: int) -> Metric:
    """The counter a claim in this state adds to (per level, like ``activated_l1``)."""
    return Metric(f"{state.value}_l{level}")


def unclaimed_metric(level: int) -> Metric:
    return Metric(f"unclaimed_l{level}")


@dataclass(frozen=True)
class RegistryRecord:
    """One citizen as the registry last stated; the CCCD only as its keyed hash."""

    citizen_key: str
    status: RegistryStatus
    level: int
    commune: str
    village: str | None = None
    collected_on: dt.date | None = None
    approved_on: dt.date | None = None
    activated_on: dt.date | None = None
    rejected_on: dt.date | None = None

    @property
    def activated(self) -> bool:
        return self.activated_on is not None


@dataclass(frozen=True)
class ReconcileRules:
    """How far from a claim's day a registry activation still confirms it.

    ``before_days``: a device's clock may be off and claims are posted after the fact, so an
    activation a few days before the claim's day is the same one. ``after_days``: the code comes
    one to three days after approval and the extract a day or more later; a week covers both
    with room for a weekend. An activation earlier than the window is someone else's work.
    """

    before_days: int = 3
    after_days: int = 7

    def window(self, claim_day: dt.date) -> tuple[dt.date, dt.date]:
        return (claim_day - dt.timedelta(days=self.before_days), claim_day + dt.timedelta(days=self.after_days))


def claim_state(claim_day: dt.date, claim_level: int, record: RegistryRecord | None,
                as_of: dt.date | None, rules: ReconcileRules) -> ClaimState:
    """Judge one credited activation claim; ``as_of`` is the last day the registry was
    extracted to (None: no extract yet), so no extract is never taken for "not activated"."""
    start, end = rules.window(claim_day)
    activated_on = record.activated_on if record is not None else None
    if activated_on is None or record is None:
        return ClaimState.UNCONFIRMED if as_of is not None and as_of > end else ClaimState.PENDING
    if activated_on < start:
        return ClaimState.ALREADY_ACTIVE
    if activated_on > end:
        return ClaimState.UNCONFIRMED
    if record.level != claim_level:
        return ClaimState.LEVEL_DIFFERS
    return ClaimState.CONFIRMED


def residence_unit(commune: str, village: str | None, known: Collection[str]) -> str | None:
    """The most precise unit of the map a registry record lives in: its village or residential
    group when the map has it, else its commune; None when the map knows neither."""
    if village and village in known:
        return village
    return commune if commune in known else None
