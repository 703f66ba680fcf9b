"""POST /v1/events: a batch of field events, answered item by item."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from tally06_ingest.deps import AdmittedDevice, Registry, Runtime, Settings
from tally06_ingest.envelope import parse_events, read_body
from tally06_ingest.handlers import ingest_batch
from tally06_ingest.schemas import BatchResult, ErrorBody

router = APIRouter(tags=["events"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Malformed JSON",
        401: "No or bad device token",
        408: "The body did not arrive in time (15 s by default)",
        413: "Body larger than 1 MiB",
        415: "Not application/json",
        422: "Envelope is not {\"events\": [1..500 items]}",
        429: "A limit of the device token or of the client address was reached; retry after "
             "the Retry-After header's seconds (nothing was accepted)",
        503: "Event store unavailable; nothing was accepted, retry later",
    }.items()
}


@router.post(
    "/v1/events",
    response_model=BatchResult,
    responses=_ERRORS,
    summary="Post a batch of field events",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventBatch"}}},
        }
    },
)
async def post_events(
    request: Request, device: AdmittedDevice, runtime: Runtime, settings: Settings, registry: Registry
) -> Response:
    """Each item is accepted (durably stored), a duplicate of an earlier one, or rejected with
    the field and the reason; one bad item never sinks the batch."""
    body = await read_body(request, settings.max_body_bytes, settings.body_timeout_s or None)
    raw_events = parse_events(body, settings.max_batch_events)
    runtime.limits.admit_events(device.id, len(raw_events))
    answer = await ingest_batch(
        raw_events,
        device=device,
        registry=registry,
        store=runtime.store,
        now=dt.datetime.now(dt.UTC),
        future_tolerance=dt.timedelta(seconds=settings.future_tolerance_s),
        activity=runtime.activity,
    )
    return Response(orjson.dumps(answer), media_type="application/json")
