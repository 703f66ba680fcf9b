"""The ingest use case: validate every item, store the valid ones, answer per item."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prometheus_client import Counter

from tally06.domain.org_maps import OrgMap
from tally06.store.device_tokens import DeviceToken
from tally06_ingest.activity_flags import credited_activations
from tally06_ingest.activity_watch import ActivityWatch
from tally06_ingest.group_commit import GroupAppender
from tally06_ingest.store import Candidate, Outcome, Status
from tally06_ingest.validation import FieldError, validate_event

EVENTS = Counter("tally06_ingest_events_total", "Posted events by outcome", ["status"])


def _event_id_of(raw: Any) -> str | None:
    value = raw.get("event_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and len(value) <= 64 else None


async def ingest_batch(
    raw_events: list[Any],
    *,
    device: DeviceToken,
    registry: OrgMap,
    store: GroupAppender,
    now: dt.datetime,
    future_tolerance: dt.timedelta,
    activity: ActivityWatch | None = None,
) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    candidates: list[Candidate] = []
    for index, raw in enumerate(raw_events):
        checked = validate_event(
            raw, registry=registry, token_team=device.team, now=now, future_tolerance=future_tolerance
        )
        if isinstance(checked, list):
            results.append(_rejected(index, _event_id_of(raw), checked))
        else:
            candidates.append(Candidate(index, checked, device.id))
    by_index = {c.index: c for c in candidates}
    outcomes = await store.append(candidates)
    for outcome in outcomes:
        event_id = str(by_index[outcome.index].valid.event.event_id)
        results.append(_answer(outcome, event_id))
    if activity is not None and activity.enabled:
        # Committed by now; only new events count (a resent batch answers "duplicate").
        activity.note(credited_activations(
            (by_index[o.index].valid.event, bool(o.credited)) for o in outcomes if o.status is Status.ACCEPTED
        ))
    results.sort(key=lambda r: r["index"])
    totals = {s.value: 0 for s in Status}
    for r in results:
        totals[r["status"]] += 1
    for status, count in totals.items():
        if count:
            EVENTS.labels(status).inc(count)
    return {"results": results, "totals": totals}


def _rejected(index: int, event_id: str | None, errors: list[FieldError]) -> dict[str, Any]:
    return {
        "index": index, "event_id": event_id, "status": Status.REJECTED.value,
        "errors": [{"field": e.field, "message": e.message} for e in errors],
    }


def _answer(outcome: Outcome, event_id: str) -> dict[str, Any]:
    if outcome.status is Status.REJECTED:
        return _rejected(outcome.index, event_id, [FieldError("event_id", outcome.reason or "")])
    return {
        "index": outcome.index, "event_id": event_id, "status": outcome.status.value,
        "errors": [], "seq": outcome.seq, "credited": outcome.credited,
    }
