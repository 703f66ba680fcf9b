"""Shapes of the read API's answers (they make the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from tally06.domain.accounts import Role
from tally06.domain.org import UnitKind

# Percentages are exact 2-decimal values (tally06.domain.pace.completion_pct); JSON carries them as
# numbers so charts and sorting work without parsing strings.
Percent = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class UnitRef(_Frozen):
    code: str
    name: str
    kind: UnitKind = Field(description="the unit's kind; its words are in GET /v1/kinds")
    parent_code: str | None


class KindWords(_Frozen):
    vi: str = Field(description="one unit of the kind, e.g. 'Xã/phường'")
    vi_level: str = Field(description="the level when ranking all of them, e.g. 'Cấp xã'")
    en: str = Field(description="e.g. 'Commune'")
    en_level: str = Field(description="e.g. 'Communes'")


class KindInfo(_Frozen):
    kind: UnitKind
    rank: int = Field(description="0 for the country, growing downwards")
    words: KindWords
    in_map: bool = Field(description="the live map has units of this kind")
    ranked: bool = Field(description="a level GET /v1/leaderboard ranks: units of this kind sit under another unit")


class Kinds(_Frozen):
    map_id: int | None = Field(description="the map version the live figures are summed in")
    effective_from: dt.date | None = Field(description="the day that map took effect")
    kinds: list[KindInfo] = Field(description="every kind tally06 knows, from the top down")


class ByLevel(_Frozen):
    total: int
    level1: int
    level2: int


class PercentByLevel(_Frozen):
    total: Percent
    level1: Percent
    level2: Percent


class Today(_Frozen):
    day: dt.date = Field(description="the local day (Asia/Ho_Chi_Minh) the figures are for")
    activated: int = Field(description="accounts activated today (level 1 + level 2, credited)")
    target: int | None = Field(
        description="today's activation target: the unit's own, else the sum of its children's; null when none is set")
    completion_pct: Percent | None = Field(description="activated / target in percent; null without a target")
    expected_by_now: float | None = Field(
        description="what an even pace over working hours would have reached by as_of")
    share_of_working_day: float = Field(
        description="0..1 of the unit's working hours today (07:30-22:00 unless set per unit) passed at as_of")
    behind: bool = Field(description="behind pace: more than 20 % below expected_by_now, judged after a quarter of "
                                     "the day (tally06.domain.pace.assess_pace)")
    by_metric: dict[str, int] = Field(description="credited counts today per metric")


class Campaign(_Frozen):
    target: ByLevel | None = Field(
        description="campaign target in force: the unit's own, else the sum of its children's")
    activated: ByLevel = Field(description="cumulative activations (credited): what teams claim")
    confirmed: ByLevel = Field(description="cumulative activation claims the national registry confirmed")
    confirmation_rate: float | None = Field(
        description="confirmed / claims whose window has passed (pending claims are not judged yet); null when none")
    completion_pct: PercentByLevel | None
    remaining: ByLevel | None
    deadline: dt.date = Field(description="last day of the campaign (setting campaign_deadline)")
    days_left: int = Field(description="days from today to the deadline, both included; 0 once it has passed")
    required_daily_rate: int | None = Field(
        description="activations per day needed to finish by the deadline (today included)")
    run_rate: float = Field(description="mean activations per day over the run_rate_days whole days before today")
    run_rate_days: int
    forecast_completion: dt.date | None = Field(
        description="the day the target is met if the run rate holds; null if never")


class Claims(_Frozen):
    today: int = Field(description="duplicate claims today: events for a citizen and metric already credited")
    total: int


class UnitFigures(_Frozen):
    unit: UnitRef
    today: Today
    campaign: Campaign
    duplicate_claims: Claims
    as_of: dt.datetime = Field(description="the moment the figures were read")


class UnitProgress(UnitFigures):
    path: list[UnitRef] = Field(description="from the unit's root (a province, or the country) down to this unit")


class SpotCheckMark(_Frozen):
    """The check that marks a unit's figures "failed spot check" (store/spot_check_marks.py)."""

    id: int
    status: Literal["failed"]
    decided_at: dt.datetime


class RankedUnit(UnitFigures):
    rank: int = Field(description="1 is best; equal scores share a rank")
    rank_start_of_day: int = Field(description="rank at 00:00 local time (cumulative minus today's activations)")
    rank_change: int = Field(description="places climbed since the start of the day (negative: fell back)")
    spot_check: SpotCheckMark | None = Field(
        default=None, description="the unit's latest conclusive spot check failed and marks its figures; "
                                  "null otherwise (GET /v1/spot-checks/{id} tells more)")


class Ranking(_Frozen):
    parent: UnitRef | None
    level: UnitKind | None = Field(description="the kind of the ranked units; null when there are none")
    day: dt.date
    basis: Literal["claimed", "confirmed"] = Field(
        description="what is counted: the activations teams claim, or those the national registry confirmed")
    ranked_by: Literal["completion_pct", "activated"] = Field(
        description="completion of the campaign target when every ranked unit has one, else cumulative "
                    "activations; both counted on the basis")
    entries: list[RankedUnit]
    as_of: dt.datetime


class TrendDay(_Frozen):
    day: dt.date
    activated: int
    target: int | None
    claims: int


class Trend(_Frozen):
    unit: UnitRef
    days: list[TrendDay]
    as_of: dt.datetime


class Levels(_Frozen):
    l1: int
    l2: int
    total: int


class ConfirmationDay(_Frozen):
    day: dt.date = Field(description="the day of the claims (for unclaimed: of the registry activation)")
    claimed: int = Field(description="activations claimed that day (credited, both levels)")
    confirmed: int = Field(description="of those, confirmed by the national registry")
    rate: float | None = Field(description="confirmed / judged claims of that day; null while none is judged")


class UnitConfirmation(_Frozen):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    unit: UnitRef
    from_day: dt.date = Field(alias="from", description="first day of the claims counted")
    to_day: dt.date = Field(alias="to", description="last day of the claims counted")
    claimed: Levels = Field(description="credited activation claims")
    confirmed: Levels = Field(description="the registry shows the citizen activated at that level within the window")
    pending: Levels = Field(description="not in the registry yet, window still open: not judged")
    unconfirmed: Levels = Field(description="window passed, the registry shows no activation")
    already_active: Levels = Field(description="the registry shows the account active well before the claim")
    level_differs: Levels = Field(description="activated at another level than claimed")
    unclaimed: Levels = Field(description="registry activations of citizens living in the unit that no team claimed")
    judged: int = Field(description="claims whose window has passed: all states but pending")
    rate: float | None = Field(description="confirmed / judged (4 decimals); null when no claim is judged yet")
    days: list[ConfirmationDay]
    as_of: dt.datetime


class ActivityFlag(_Frozen):
    kind: Literal["hourly_activations", "spot_check"] = Field(
        default="hourly_activations", description="hourly_activations: more activations in an hour than a "
        "person can (ingest); spot_check: named in failing outcomes of a decided spot check")
    officer: str
    team: str
    local_hour: dt.datetime = Field(description="start of the local (Asia/Ho_Chi_Minh) hour, without offset "
                                                "(spot_check: the hour of the check's verdict)")
    activations: int | None = Field(description="credited activations by the officer in that hour "
                                                "(null for spot_check)")
    threshold: int | None = Field(description="null for spot_check")
    first_flagged_at: dt.datetime = Field(description="spot_check: when the check was decided")
    last_flagged_at: dt.datetime
    check_id: int | None = Field(default=None, description="spot_check: the check (GET /v1/spot-checks/{id})")
    check_status: Literal["passed", "failed", "inconclusive"] | None = Field(
        default=None, description="spot_check: the check's verdict")
    outcome: str | None = Field(default=None, description="spot_check: the failing outcome found "
                                                          "(GET /v1/spot-checks/outcomes names them)")
    count: int | None = Field(default=None, description="spot_check: items naming the officer with that outcome")


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: Annotated[str, Field(min_length=1, max_length=40)]
    password: Annotated[str, Field(min_length=1, max_length=200)]


class Me(_Frozen):
    username: str
    display_name: str
    role: Role
    unit: str = Field(description="the user reads this unit and everything below it")


class Session(_Frozen):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds")
    user: Me


class ErrorItem(_Frozen):
    field: str
    message: str


class ErrorBody(_Frozen):
    detail: list[ErrorItem]
