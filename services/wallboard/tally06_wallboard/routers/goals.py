"""Backlog goals and the funnel of a unit, from the registry (docs/backlog-goals.md).

The shapes live here rather than in ``schemas.py``: they are this router's alone."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from tally06.contract.events import local_day
from tally06.store.backlog_goals import goals_progress
from tally06.store.funnel import unit_funnel
from tally06_wallboard.deps import Runtime, User
from tally06_wallboard.schemas import ErrorBody, Percent
from tally06_wallboard.scope import readable

router = APIRouter(prefix="/v1/units", tags=["goals"], responses={404: {"model": ErrorBody}, 403: {"model": ErrorBody}})

Code = Annotated[str, Path(description="unit code, e.g. TH, TH-03, TH-03-C01", max_length=40)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class GoalFigures(_Frozen):
    id: int
    list: Literal["approved_not_activated", "not_registered"]
    share: Percent = Field(description="percent of the baseline")
    due: dt.date = Field(description="the last day of the goal, included")
    baseline: int = Field(description="the list's size when the goal was set, frozen")
    target: int = Field(description="share × baseline, rounded up")
    done: int = Field(description="citizens the registry counts towards the goal now")
    remaining: int
    required_per_day: int = Field(description="citizens per day, today included, to meet the goal by its due day")
    forecast_day: dt.date | None = Field(description="when the goal is met at the pace since it was set; "
                                         "null while no pace is known")
    on_track: bool


class UnitGoals(_Frozen):
    unit: str
    goals: list[GoalFigures]


class Stage(_Frozen):
    stage: Literal["installed", "collected", "approved", "activated"]
    count: int


class StageGap(_Frozen):
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    days: float | None = Field(description="median days between the two registry dates; null without any")

    model_config = ConfigDict(frozen=True, populate_by_name=True)


class UnitFunnel(_Frozen):
    unit: str
    stages: list[Stage]
    median_days: list[StageGap]


@router.get("/{code}/goals", summary="Backlog goals of the unit: progress from the registry, rate needed, forecast")
async def unit_goals(code: Code, runtime: Runtime, principal: User) -> UnitGoals:
    reports = runtime.reports
    readable(reports, principal, code)
    tree = reports.tree()
    today = local_day(reports.clock.now())
    judged = await goals_progress(runtime.pool, today, code, tree.map_id)
    return UnitGoals(unit=code, goals=[
        GoalFigures(id=s.id, list=s.goal.list.value, share=s.goal.share, due=s.goal.due, baseline=s.goal.baseline,
                    target=p.target, done=p.done, remaining=p.remaining, required_per_day=p.required_per_day,
                    forecast_day=p.forecast_day, on_track=p.on_track)
        for s, p in judged])


@router.get("/{code}/funnel", summary="Installed → collected → approved → activated, with median days between")
async def funnel(code: Code, runtime: Runtime, principal: User) -> UnitFunnel:
    reports = runtime.reports
    readable(reports, principal, code)
    found = await unit_funnel(runtime.pool, code, reports.tree().map_id)
    return UnitFunnel(unit=code, stages=[Stage(stage=s, count=n) for s, n in found.stages()],
                      median_days=[StageGap(from_="collected", to="approved", days=found.collected_to_approved),
                                   StageGap(from_="approved", to="activated", days=found.approved_to_activated)])
