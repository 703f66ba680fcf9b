"""Spot checks: the rule a province's thresholds design, drawing a sample, the checks a user may
see and each unit's latest result (docs/spot-checks.md). Items and outcomes are in
``spot_check_items``."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query

from tally06.domain.accounts import Role
from tally06.domain.lqas import Design, DesignError, Thresholds, design, risks
from tally06.domain.spot_checks import DEFAULT_THRESHOLDS, OUTCOME_TEXTS, RECORDABLE, CheckStatus
from tally06.exceptions import FieldError
from tally06.store.spot_checks import draw_check, get_check, last_decided, list_checks, set_thresholds, thresholds_for
from tally06_wallboard.deps import Runtime, User
from tally06_wallboard.exceptions import Forbidden, InvalidRequest
from tally06_wallboard.schemas import ErrorBody
from tally06_wallboard.scope import default_unit, readable
from tally06_wallboard.spot_check_schemas import SpotCheck, SpotDesign, SpotOutcomeWords, SpotThresholds, UnitSpotCheck
from tally06_wallboard.spot_checks import (
    MAX_ID,
    MAX_N,
    DrawBody,
    ThresholdsBody,
    chain,
    check_answer,
    curve,
    explicit_rule,
    period,
    require_drawer,
    sees_check,
    visible,
)

router = APIRouter(tags=["spot checks"], responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody},
                                                    422: {"model": ErrorBody}})

CheckId = Annotated[int, Path(ge=1, le=MAX_ID, description="the check's number")]
Unit = Annotated[str | None, Query(max_length=40, description="default the user's own unit")]
Rate = Annotated[float | None, Query(description="0..1; default the campaign's (domain.spot_checks)")]


async def _design(thresholds: Thresholds) -> Design:
    """The rule for thresholds, or 422 naming the one at fault. Thresholds close together make a
    long search: it runs off the event loop."""
    problem = thresholds.problem()
    if problem is not None:
        raise InvalidRequest(*problem)
    try:
        return await asyncio.to_thread(design, thresholds)
    except DesignError as exc:
        raise InvalidRequest(exc.field, exc.message) from exc


@router.get("/v1/spot-checks/design", summary="The LQAS rule thresholds design, or the risks of a rule given")
async def design_of(
    _: User, upper: Rate = None, lower: Rate = None, alpha: Rate = None, beta: Rate = None,
    n: Annotated[int | None, Query(ge=1, le=MAX_N, description="a rule given explicitly, with d")] = None,
    d: Annotated[int | None, Query(ge=0, le=MAX_N)] = None,
) -> SpotDesign:
    base = DEFAULT_THRESHOLDS
    thresholds = Thresholds(base.upper if upper is None else upper, base.lower if lower is None else lower,
                            base.alpha if alpha is None else alpha, base.beta if beta is None else beta)
    rule = explicit_rule(n, d)
    if rule is None:
        found = await _design(thresholds)
    else:
        problem = thresholds.problem()
        if problem is not None:
            raise InvalidRequest(*problem)
        found = risks(rule, thresholds)
    return SpotDesign(n=found.rule.n, d=found.rule.d, alpha=found.alpha, beta=found.beta, upper=thresholds.upper,
                      lower=thresholds.lower, curve=curve(found.rule))


@router.get("/v1/spot-checks/outcomes", summary="What a verifier may record for an item, with its words")
async def outcome_words(_: User) -> list[SpotOutcomeWords]:
    return [SpotOutcomeWords(outcome=o.value, vi=OUTCOME_TEXTS[o][0], en=OUTCOME_TEXTS[o][1], final=o.final,
                             failure=o.failure) for o in RECORDABLE]


@router.get("/v1/spot-checks/thresholds", summary="The thresholds a draw for the unit uses (its own or inherited)")
async def get_thresholds(runtime: Runtime, principal: User, unit: Unit = None) -> SpotThresholds:
    code = default_unit(principal, unit)
    readable(runtime.reports, principal, code, "unit")
    async with runtime.pool.acquire() as conn:
        thresholds = await thresholds_for(conn, chain(runtime.reports.tree(), code))
    found = await _design(thresholds)
    return SpotThresholds(unit=code, upper=thresholds.upper, lower=thresholds.lower, alpha=thresholds.alpha,
                          beta=thresholds.beta, n=found.rule.n, d=found.rule.d)


@router.put("/v1/spot-checks/thresholds", summary="Set the thresholds of a unit and below (province operator)")
async def put_thresholds(body: ThresholdsBody, runtime: Runtime, principal: User) -> SpotThresholds:
    code = default_unit(principal, body.unit)
    readable(runtime.reports, principal, code, "unit")
    if principal.role is not Role.PROVINCE_OPERATOR:
        raise Forbidden("role", f"a {principal.role} does not set spot-check thresholds; the province operator does")
    found = await _design(body.thresholds)
    async with runtime.pool.acquire() as conn, conn.transaction():
        await set_thresholds(conn, code, body.thresholds, actor=principal.username, role=principal.role.value)
    return SpotThresholds(unit=code, upper=body.upper, lower=body.lower, alpha=body.alpha, beta=body.beta,
                          n=found.rule.n, d=found.rule.d)


@router.post("/v1/spot-checks", status_code=201, summary="Draw a sample of a unit's claims (verifiers above it)",
             responses={201: {"model": SpotCheck}})
async def draw(body: DrawBody, runtime: Runtime, principal: User) -> SpotCheck:
    tree = runtime.reports.tree()
    readable(runtime.reports, principal, body.unit, "unit")
    require_drawer(principal, tree, body.unit)
    rule = body.rule
    period_from, period_to = period(body, runtime.clock.now())
    async with runtime.pool.acquire() as conn:
        thresholds = await thresholds_for(conn, chain(tree, body.unit))
        if rule is None:
            await _design(thresholds)
        try:
            check = await draw_check(
                conn, unit=body.unit, teams=tree.org.teams_under(body.unit), population=body.population,
                period_from=period_from, period_to=period_to, thresholds=thresholds, rule=rule,
                seed=bytes.fromhex(body.seed) if body.seed else None, actor=principal.username,
                marks_figures=body.marks_figures, map_version=tree.map_id, role=principal.role.value)
        except FieldError as exc:
            raise InvalidRequest(exc.field, exc.message) from exc
    return check_answer(check, tree)


@router.get("/v1/spot-checks", summary="The checks of a unit and below that the user may see, newest first")
async def checks(
    runtime: Runtime, principal: User, unit: Unit = None,
    status: Annotated[list[CheckStatus] | None, Query(max_length=4, description="only these; default all")] = None,
) -> list[SpotCheck]:
    code = default_unit(principal, unit)
    readable(runtime.reports, principal, code, "unit")
    tree = runtime.reports.tree()
    async with runtime.pool.acquire() as conn:
        found = await list_checks(conn, tree.subtree(code), statuses=status or None)
    # Open checks of the user's own units are left out exactly as if they did not exist.
    return [check_answer(c, tree) for c in found if sees_check(principal, tree, c)]


@router.get("/v1/spot-checks/{check_id}", summary="One check: its rule, population, result and estimate")
async def check(check_id: CheckId, runtime: Runtime, principal: User) -> SpotCheck:
    tree = runtime.reports.tree()
    async with runtime.pool.acquire() as conn:
        found = visible(principal, tree, await get_check(conn, check_id), check_id)
    return check_answer(found, tree)


@router.get("/v1/units/{code}/spot-check", summary="The unit's latest decided spot check (null when none)")
async def unit_spot_check(code: Annotated[str, Path(max_length=40)], runtime: Runtime,
                          principal: User) -> UnitSpotCheck:
    readable(runtime.reports, principal, code)
    async with runtime.pool.acquire() as conn:
        last = (await last_decided(conn, [code])).get(code)
    return UnitSpotCheck(unit=code, last=check_answer(last, runtime.reports.tree()) if last else None)
