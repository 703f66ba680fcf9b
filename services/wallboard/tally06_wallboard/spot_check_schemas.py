"""The answers of the spot-check routes (/v1/spot-checks, /v1/units/{code}/spot-check;
docs/spot-checks.md)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import ConfigDict, Field

from tally06_wallboard.schemas import _Frozen


class SpotEstimate(_Frozen):
    rate: float | None = Field(description="confirmed / judged items; null before any is judged")
    low: float | None = Field(description="exact (Clopper-Pearson) 95 % interval")
    high: float | None


class SpotCheck(_Frozen):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: int
    unit: str
    unit_name: str
    population: Literal["credited", "unconfirmed"]
    from_at: dt.datetime | None = Field(alias="from", description="start of the period (exclusive); null: from the "
                                                                  "beginning")
    to_at: dt.datetime = Field(alias="to", description="end of the period (inclusive)")
    n: int = Field(description="items checked")
    d: int = Field(description="the unit passes when at most d of them fail")
    upper: float
    lower: float
    alpha: float = Field(description="risk asked for of failing a unit at the upper rate")
    beta: float = Field(description="risk asked for of passing a unit at the lower rate")
    alpha_actual: float = Field(description="the rule's exact risk at the upper rate")
    beta_actual: float = Field(description="the rule's exact risk at the lower rate")
    seed: str = Field(description="hex; with the frozen population it draws the same sample again")
    population_digest: str = Field(description="SHA-256 of the population's claim numbers, one per line, ascending")
    population_size: int
    status: Literal["open", "passed", "failed", "inconclusive"]
    status_vi: str
    successes: int
    failures: int
    checked: int
    estimate: SpotEstimate
    drawn_by: str
    drawn_at: dt.datetime
    decided_at: dt.datetime | None
    marks_figures: bool = Field(description="a failure marks the unit's figures in rankings and Appendix I")
    tries: int = Field(description="tries that reach nobody before a citizen counts as unreachable")


class SpotCheckItem(_Frozen):
    rank: int = Field(description="0 = first drawn; ranks from n on are reserves")
    reserve: bool
    active: bool = Field(description="part of the sample now (a reserve replaces an unreachable citizen)")
    team: str
    officer: str
    level: int
    occurred_at: dt.datetime
    full_name: str | None = Field(description="clear with clear=true, masked otherwise")
    phone: str | None = Field(description="clear with clear=true, masked otherwise")
    outcome: str | None
    outcome_vi: str | None
    tries: int = Field(description="tries that reached nobody")
    note: str | None
    recorded_by: str | None
    recorded_at: dt.datetime | None


class SpotCheckItems(_Frozen):
    check: SpotCheck
    clear: bool
    items: list[SpotCheckItem]


class SpotOutcomeRecorded(_Frozen):
    recorded: bool = Field(description="false for a retry of an outcome id already recorded")
    check: SpotCheck


class SpotOutcomeWords(_Frozen):
    outcome: str
    vi: str
    en: str
    final: bool = Field(description="settles the item (no_answer is one try)")
    failure: bool = Field(description="counts against the unit")


class CurvePoint(_Frozen):
    rate: float = Field(description="a unit's true rate of real claims")
    pass_probability: float


class SpotDesign(_Frozen):
    n: int
    d: int
    alpha: float = Field(description="exact risk of failing a unit at the upper rate")
    beta: float = Field(description="exact risk of passing a unit at the lower rate")
    upper: float
    lower: float
    curve: list[CurvePoint] = Field(description="the operating characteristic, rates 0 to 1 by 0.05")


class SpotThresholds(_Frozen):
    unit: str
    upper: float
    lower: float
    alpha: float
    beta: float
    n: int = Field(description="the rule these thresholds design")
    d: int


class UnitSpotCheck(_Frozen):
    unit: str
    last: SpotCheck | None = Field(description="the unit's latest decided check; null when none")


class SpotReplay(_Frozen):
    same: bool = Field(description="the population and the sample are drawn again identically")
    digest_stored: str
    digest_now: str
    sample: list[int] = Field(description="claim numbers drawn again from the seed, sample then reserves")
