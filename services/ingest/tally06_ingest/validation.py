"""Per-item validation of posted events: pure, so it is tested without any server."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from tally06.contract.events import DeviceEvent
from tally06.domain.org import Lineage, OrgRegistry
from tally06.domain.org_maps import OrgMap, first_map

CAMPAIGN_START = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)

_ADAPTER = TypeAdapter(DeviceEvent)


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field of an event, as the answer names it to the field app."""

    field: str
    message: str


def _errors_of(exc: ValidationError) -> list[FieldError]:
    errors = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        # Cross-field checks report "field: message" with an empty location.
        if not field and ": " in message:
            field, message = message.split(": ", 1)
        errors.append(FieldError(field or "event", message))
    return errors


@dataclass(frozen=True)
class ValidEvent:
    event: DeviceEvent
    lineage: Lineage
    map_id: int = 0


def validate_event(
    raw: Any, *, registry: OrgMap | OrgRegistry, token_team: str, now: dt.datetime, future_tolerance: dt.timedelta
) -> ValidEvent | list[FieldError]:
    """Check one posted item against the contract, the map in force and the device's team."""
    org = registry if isinstance(registry, OrgMap) else first_map(registry)
    if not isinstance(raw, dict):
        return [FieldError("event", "must be a JSON object")]
    try:
        event = _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        return _errors_of(exc)
    errors = []
    lineage = org.lineage(event.team)
    if lineage is None:
        errors.append(FieldError("team", "is not a known team"))
    elif event.team != token_team:
        errors.append(FieldError("team", "this device is registered to another team"))
    if event.occurred_at > now + future_tolerance:
        minutes = round(future_tolerance.total_seconds() / 60)
        errors.append(FieldError("occurred_at", f"is more than {minutes} minutes in the future"))
    elif event.occurred_at < CAMPAIGN_START:
        errors.append(FieldError("occurred_at", "is before the campaign started (2022-01-01)"))
    if errors or lineage is None:
        return errors
    return ValidEvent(event, lineage, org.id)
