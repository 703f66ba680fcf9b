"""A spot check's items for the verifiers above the unit: the sampled claims with their citizens
(masked unless asked for in clear, every clear view and every export audited), the outcomes
verifiers record, drawing it again, and its spreadsheet."""

from __future__ import annotations

import io
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from tally06.domain.pii import mask_phone
from tally06.domain.spot_checks import AuditAction
from tally06.reports.appendix2 import mask_name
from tally06.reports.spot_check_writers import write_check_xlsx
from tally06.store.audit_log import record_export
from tally06.store.spot_checks import (
    CheckRow,
    SpotCheckConflict,
    SpotCheckError,
    contacts,
    get_check,
    items,
    record_outcome,
    replay,
)
from tally06_wallboard.deps import Runtime, User
from tally06_wallboard.exceptions import Forbidden, InvalidRequest
from tally06_wallboard.runtime import WallboardRuntime
from tally06_wallboard.schemas import ErrorBody
from tally06_wallboard.sessions import Principal
from tally06_wallboard.spot_check_schemas import SpotCheckItem, SpotCheckItems, SpotOutcomeRecorded, SpotReplay
from tally06_wallboard.spot_checks import (
    MAX_ID,
    MAX_RANK,
    Conflict,
    OutcomeBody,
    check_answer,
    outcome_vi,
    require_items,
    visible,
)

router = APIRouter(prefix="/v1/spot-checks/{check_id}", tags=["spot checks"],
                   responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}, 422: {"model": ErrorBody}})

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CheckId = Annotated[int, Path(ge=1, le=MAX_ID, description="the check's number")]
Clear = Annotated[bool, Query(description="citizens' names and phones in clear (audited)")]


async def _audit(conn: asyncpg.Connection, principal: Principal, check: CheckRow, action: str, clear: bool,
                 rows: int, target: str) -> None:
    # Codes and counts only: the entry names the check and the unit, never a citizen.
    await record_export(conn, actor=principal.username, role=principal.role.value, action=action, unit=check.unit,
                        period_from=check.period_from, period_to=check.period_to, clear_pii=clear, row_count=rows,
                        target=target, detail={"check": check.id})


async def _admitted(runtime: WallboardRuntime, conn: asyncpg.Connection, principal: Principal, check_id: int,
                    clear: bool = False, asked: AuditAction = AuditAction.VIEW) -> CheckRow:
    """The check, if the user may work its items: 404 when they may not know it exists, 403
    (a clear request logged) when they see its result only."""
    tree = runtime.reports.tree()
    check = visible(principal, tree, await get_check(conn, check_id), check_id)
    try:
        require_items(principal, tree, check)
    except Forbidden:
        if clear:
            await _audit(conn, principal, check, asked.refused, True, 0, f"spotcheck:{check.id}")
        raise
    return check


@router.get("/items", summary="The sampled claims and reserves, with what verifiers found (verifiers above the unit)")
async def check_items(check_id: CheckId, runtime: Runtime, principal: User, clear: Clear = False) -> SpotCheckItems:
    async with runtime.pool.acquire() as conn:
        check = await _admitted(runtime, conn, principal, check_id, clear)
        protector = runtime.protector()
        # The clear read and its audit entry are one transaction: no clear view without its entry.
        async with conn.transaction():
            rows = await items(conn, check.id)
            people = await contacts(conn, check.id, protector)
            if clear:
                await _audit(conn, principal, check, AuditAction.VIEW, True, len(rows), f"spotcheck:{check.id}")
    found = []
    for row in rows:
        person = people.get(row.rank)
        name = person.full_name if person else None
        phone = person.phone if person else None
        found.append(SpotCheckItem(
            rank=row.rank, reserve=row.reserve, active=row.active, team=row.team, officer=row.officer,
            level=row.level, occurred_at=row.occurred_at,
            full_name=name if clear or not name else mask_name(name),
            phone=phone if clear or not phone else mask_phone(phone),
            outcome=row.outcome, outcome_vi=outcome_vi(row.outcome), tries=row.tries, note=row.note,
            recorded_by=row.recorded_by, recorded_at=row.recorded_at))
    return SpotCheckItems(check=check_answer(check, runtime.reports.tree()), clear=clear, items=found)


@router.post("/items/{rank}/outcomes", status_code=201, summary="Record what a verifier found for one item",
             responses={201: {"model": SpotOutcomeRecorded}, 409: {"model": ErrorBody}})
async def post_outcome(check_id: CheckId, rank: Annotated[int, Path(ge=0, le=MAX_RANK)], body: OutcomeBody,
                       runtime: Runtime, principal: User) -> SpotOutcomeRecorded:
    async with runtime.pool.acquire() as conn:
        check = await _admitted(runtime, conn, principal, check_id)
        if rank >= check.drawn:
            raise InvalidRequest("rank", f"check {check.id} has items 0 to {check.drawn - 1}")
        note = (body.note or "").strip() or None
        try:
            result = await record_outcome(conn, check.id, rank, outcome_id=body.id, outcome=body.outcome, note=note,
                                          actor=principal.username)
        except SpotCheckConflict as exc:
            raise Conflict(exc.field, exc.message) from exc
        except SpotCheckError as exc:
            raise InvalidRequest(exc.field, exc.message) from exc
    return SpotOutcomeRecorded(recorded=result.recorded, check=check_answer(result.check, runtime.reports.tree()))


@router.get("/replay", summary="Draw the check again from its seed and the population as the event store has it now")
async def replay_check(check_id: CheckId, runtime: Runtime, principal: User) -> SpotReplay:
    async with runtime.pool.acquire() as conn:
        check = await _admitted(runtime, conn, principal, check_id)
        again = await replay(conn, check.id)
    return SpotReplay(same=again.same, digest_stored=again.digest_stored, digest_now=again.digest_now,
                      sample=list(again.sample_again))


@router.get("/export.xlsx", summary="The check as a spreadsheet for the file (every export audited)",
            responses={200: {"content": {XLSX: {}}}})
async def export_check(check_id: CheckId, runtime: Runtime, principal: User, clear: Clear = False) -> Response:
    async with runtime.pool.acquire() as conn:
        check = await _admitted(runtime, conn, principal, check_id, clear, AuditAction.EXPORT)
        protector = runtime.protector()
        name = f"kiem-tra-xac-suat_{check.id}_{check.unit}_{runtime.clock.now():%Y%m%dT%H%M}.xlsx"
        async with conn.transaction():
            rows = await items(conn, check.id)
            people = await contacts(conn, check.id, protector)
            await _audit(conn, principal, check, AuditAction.EXPORT, clear, len(rows), f"download:{name}")
    stream = io.BytesIO()
    unit = runtime.reports.tree().get(check.unit)
    write_check_xlsx(check, rows, people, stream, clear=clear, unit_name=unit.name if unit else None)
    return Response(stream.getvalue(), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
