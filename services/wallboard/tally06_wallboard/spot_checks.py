"""Spot checks in the read API: who may see a check, its items and its citizens, and the answers'
shapes (docs/spot-checks.md, docs/access-control.md).

A check of a unit is invisible to that unit's own users until its verdict: an open check is
answered exactly like a check that does not exist (404), in lists too, so nobody attached to the
unit learns that a draw is coming. Once decided, its result is read like any figure of the unit;
its items and citizens stay with the verifiers above the unit (``domain.spot_checks``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tally06.domain.lqas import DecisionRule, Thresholds, pass_probability
from tally06.domain.spot_checks import (
    OUTCOME_TEXTS,
    STATUS_TEXTS,
    CheckStatus,
    Outcome,
    Population,
    sees_decided_check,
    sees_open_check,
)
from tally06.store.spot_checks import CheckRow
from tally06_wallboard.exceptions import Forbidden, InvalidRequest, NotFound, WallboardError
from tally06_wallboard.hierarchy import Tree
from tally06_wallboard.sessions import Principal
from tally06_wallboard.spot_check_schemas import CurvePoint, SpotCheck, SpotEstimate

MAX_NOTE = 500
# A check id or a rank past these is unknown anyway; bounded so no input overflows a bigint.
MAX_ID = 2**62
MAX_RANK = 100_000
MAX_N = 400  # as domain.lqas.design searches


class Conflict(WallboardError):
    """Another final outcome is already recorded for the item."""

    status = 409


def _printable(text: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL, and no other control character belongs in a note.
    if text is not None and any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise ValueError("must not contain control characters")
    return text


class DrawBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    unit: Annotated[str, Field(min_length=1, max_length=40)]
    population: Population = Population.CREDITED
    from_at: dt.datetime | None = Field(None, alias="from", description="start of the period (exclusive), with offset")
    to_at: dt.datetime | None = Field(None, alias="to", description="end of the period, with offset; default now")
    n: int | None = Field(None, ge=1, le=MAX_N, description="an explicit rule: check n items ...")
    d: int | None = Field(None, ge=0, le=MAX_N, description="... and pass with at most d failures (with n)")
    seed: str | None = Field(None, pattern="^[0-9a-fA-F]{32,128}$", description="hex, 16 to 64 bytes; default random")
    marks_figures: bool = True

    @field_validator("from_at", "to_at")
    @classmethod
    def _aware(cls, moment: dt.datetime | None) -> dt.datetime | None:
        if moment is not None and moment.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2023-04-30T17:00+07:00")
        return moment

    @property
    def rule(self) -> DecisionRule | None:
        """An explicit rule, if given; n and d go together (checked here to name the field)."""
        return explicit_rule(self.n, self.d)


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID = Field(description="made by the client once per outcome, so a retry records nothing twice")
    outcome: Outcome
    note: str | None = Field(None, max_length=MAX_NOTE, description="what was found; no names or numbers, please")

    @field_validator("note")
    @classmethod
    def _printable_note(cls, note: str | None) -> str | None:
        return _printable(note)


class ThresholdsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: Annotated[str | None, Field(None, min_length=1, max_length=40, description="default the user's own")]
    upper: float
    lower: float
    alpha: float
    beta: float

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.upper, self.lower, self.alpha, self.beta)


def chain(tree: Tree, unit: str) -> list[str]:
    """The unit, then each unit above it; a unit the live map no longer has stands alone."""
    return [u.code for u in reversed(tree.path(unit))] or [unit]


def sees_check(principal: Principal, tree: Tree, check: CheckRow) -> bool:
    if check.status == CheckStatus.OPEN:
        return sees_items(principal, tree, check.unit)
    return sees_decided_check(principal.unit, chain(tree, check.unit))


def sees_items(principal: Principal, tree: Tree, unit: str) -> bool:
    """Items and citizens of a check, before and after its verdict: verifiers above the unit."""
    return sees_open_check(principal.role, principal.unit, chain(tree, unit))


def visible(principal: Principal, tree: Tree, check: CheckRow | None, check_id: int) -> CheckRow:
    """The check if the user may see it; else the same 404 as for an id that never was."""
    if check is None or not sees_check(principal, tree, check):
        raise NotFound("id", f"no spot check {check_id}")
    return check


def require_items(principal: Principal, tree: Tree, check: CheckRow) -> None:
    if not sees_items(principal, tree, check.unit):
        raise Forbidden("role", f"a {principal.role} of {principal.unit} sees the result of this check, "
                                "not its items")


def require_drawer(principal: Principal, tree: Tree, unit: str) -> None:
    if not sees_items(principal, tree, unit):
        raise Forbidden("unit", f"a {principal.role} of {principal.unit} does not run spot checks of {unit}; "
                                "the district focal points and province operators above it do")


def check_answer(check: CheckRow, tree: Tree) -> SpotCheck:
    unit = tree.get(check.unit)
    return SpotCheck(
        id=check.id, unit=check.unit, unit_name=unit.name if unit else check.unit, population=check.population.value,
        from_at=check.period_from, to_at=check.period_to, n=check.n, d=check.d, upper=check.upper,
        lower=check.lower, alpha=check.alpha, beta=check.beta, alpha_actual=check.alpha_actual,
        beta_actual=check.beta_actual, seed=check.seed_hex, population_digest=check.population_digest,
        population_size=check.population_size, status=check.status.value,
        status_vi=STATUS_TEXTS[CheckStatus(check.status)][0], successes=check.successes, failures=check.failures,
        checked=check.checked,
        estimate=SpotEstimate(rate=check.estimate, low=check.ci_low, high=check.ci_high),
        drawn_by=check.drawn_by, drawn_at=check.drawn_at, decided_at=check.decided_at,
        marks_figures=check.marks_figures, tries=check.tries)


def outcome_vi(outcome: str | None) -> str | None:
    return OUTCOME_TEXTS[Outcome(outcome)][0] if outcome else None


def explicit_rule(n: int | None, d: int | None) -> DecisionRule | None:
    if n is None and d is None:
        return None
    if n is None:
        raise InvalidRequest("n", "is needed with d")
    if d is None:
        raise InvalidRequest("d", "is needed with n")
    problem = DecisionRule(n, d).problem()
    if problem is not None:
        raise InvalidRequest(*problem)
    return DecisionRule(n, d)


def curve(rule: DecisionRule) -> list[CurvePoint]:
    return [CurvePoint(rate=step / 20, pass_probability=pass_probability(rule, step / 20)) for step in range(21)]


def period(body: DrawBody, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime]:
    """The period drawn from; it ends by now, so the frozen population cannot grow after the draw."""
    to = body.to_at or now
    if to > now:
        raise InvalidRequest("to", "must not be in the future (claims still to come cannot be drawn)")
    if body.from_at is not None and body.from_at >= to:
        raise InvalidRequest("from", "must be before to")
    return body.from_at, to
