"""Alerts raised by the notifier, and their acknowledgement by focal points."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse

from tally06.domain.ack_links import ack_token_valid
from tally06.domain.alert_rules import Rule
from tally06.store.alerts import AlertView, acknowledge, get_alert, list_alerts
from tally06_wallboard import ack_page
from tally06_wallboard.deps import Runtime, User
from tally06_wallboard.exceptions import NotFound
from tally06_wallboard.schemas import ErrorBody
from tally06_wallboard.scope import default_unit, readable
from tally06_wallboard.sessions import Principal

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])

AlertId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the alert's id")]


@router.get("", summary="Alerts, newest first")
async def alerts(
    runtime: Runtime,
    principal: User,
    unit: Annotated[str | None, Query(max_length=40, description="only this unit and the units below it")] = None,
    status: Literal["open", "resolved"] | None = None,
    day: Annotated[dt.date | None, Query(description="local day the alert is about")] = None,
    rule: Rule | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertView]:
    unit = default_unit(principal, unit)
    readable(runtime.reports, principal, unit, "unit")  # 404 for an unknown unit rather than an empty list
    units = runtime.tree.subtree(unit)
    return await list_alerts(runtime.pool, units=units, status=status, day=day, rule=rule, limit=limit)


@router.get("/{alert_id}", summary="One alert with its notifications", responses={404: {"model": ErrorBody}})
async def alert(alert_id: AlertId, runtime: Runtime, principal: User) -> AlertView:
    return await _visible_alert(runtime, principal, alert_id)


async def _visible_alert(runtime: Runtime, principal: Principal, alert_id: int) -> AlertView:
    # Another unit's alert answers like a missing one: its id says nothing about it.
    found = await get_alert(runtime.pool, alert_id)
    if found is None or not principal.may_read(runtime.tree, found.unit):
        raise NotFound("alert_id", f"no alert {alert_id}")
    return found


@router.post("/{alert_id}/ack", summary="Acknowledge an alert (the first acknowledgement counts)",
             responses={404: {"model": ErrorBody}, 403: {"model": ErrorBody}})
async def ack(alert_id: AlertId, runtime: Runtime, principal: User) -> AlertView:
    """Recorded as acknowledged by the signed-in user."""
    visible = await _visible_alert(runtime, principal, alert_id)
    principal.require_acknowledge(runtime.tree, visible.unit)
    found = await acknowledge(runtime.pool, alert_id, principal.display_name, runtime.clock.now())
    if found is None:
        raise NotFound("alert_id", f"no alert {alert_id}")
    return found


@router.get("/{alert_id}/ack", summary="One-tap acknowledgement from a signed link in a message",
            response_class=HTMLResponse)
async def ack_link(
    alert_id: AlertId,
    runtime: Runtime,
    recipient: Annotated[int, Query(ge=1, le=2**63 - 1, description="focal point id the link was sent to")],
    token: Annotated[str, Query(max_length=64, description="signature of (alert, recipient)")],
) -> HTMLResponse:
    if runtime.ack_key is None:
        page = ack_page.refused("Không kiểm tra được liên kết", "links cannot be checked: no key set")
        return HTMLResponse(page, 503)
    if not ack_token_valid(runtime.ack_key, alert_id, recipient, token):
        return HTMLResponse(ack_page.refused("Liên kết không hợp lệ", "this link is not valid"), 403)
    name = await runtime.pool.fetchval("SELECT name FROM focal_points WHERE id = $1", recipient)
    if name is None:
        return HTMLResponse(ack_page.refused("Không tìm thấy người nhận", "unknown recipient"), 404)
    found = await acknowledge(runtime.pool, alert_id, name, runtime.clock.now())
    if found is None:
        return HTMLResponse(ack_page.refused("Không tìm thấy cảnh báo", f"no alert {alert_id}"), 404)
    return HTMLResponse(ack_page.confirmed(found, name, runtime.settings.public_url))
