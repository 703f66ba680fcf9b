"""The event contract shared by every service.

Two shapes cross a process boundary:

* ``DeviceEvent`` is what a field app posts. It carries the citizen's clear personal data and
  never leaves the ingest service.
* ``Fact`` is what the event store publishes after the event was accepted: personal data is
  replaced by a keyed hash, the unit hierarchy is derived by the server, and the credit
  decision is made. ``FactBatch`` groups facts of one message key for transport.

Both are immutable; a new field or meaning gets a new ``schema_version``. Field apps post
``DeviceEvent`` version 1. Facts are version 2: version 1 named a fixed province, district and
commune, which a two-tier map (no districts) or a village level cannot fill; version 2 carries
the team's ``lineage`` (codes from the root of the map down to the team) and the ``map`` it was
resolved in. Readers decode both (``decode_fact_rows`` lifts version 1 rows into version 2);
docs/org-maps.md has the upgrade path.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from typing import Annotated, Any, Final, Literal, NamedTuple
from zoneinfo import ZoneInfo

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

SCHEMA_VERSION: Final = 1
FACT_SCHEMA_VERSION: Final = 2
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,39}$")]
OfficerId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]

_CCCD = re.compile(r"^[0-9]{12}$")
# Vietnamese mobile numbers: 0 or +84 followed by nine digits.
_PHONE = re.compile(r"^(?:\+84|0)[0-9]{9}$")


class EventType(enum.StrEnum):
    APP_INSTALLED = "app_installed"
    REGISTRATION_COLLECTED = "registration_collected"
    APPLICATION_APPROVED = "application_approved"
    ACCOUNT_ACTIVATED = "account_activated"


class Metric(enum.StrEnum):
    INSTALLED = "installed"
    COLLECTED_L1 = "collected_l1"
    COLLECTED_L2 = "collected_l2"
    APPROVED_L1 = "approved_l1"
    APPROVED_L2 = "approved_l2"
    ACTIVATED_L1 = "activated_l1"
    ACTIVATED_L2 = "activated_l2"
    # What the national registry says of the activation claims (docs/registry.md): every
    # credited activation is in exactly one of these states, so per level they sum to
    # ``activated``. Unclaimed counts registry activations no team claimed, where the citizen
    # lives. These counters come from the reconciliation of extracts, not from events.
    CONFIRMED_L1 = "confirmed_l1"
    CONFIRMED_L2 = "confirmed_l2"
    PENDING_L1 = "pending_l1"
    PENDING_L2 = "pending_l2"
    UNCONFIRMED_L1 = "unconfirmed_l1"
    UNCONFIRMED_L2 = "unconfirmed_l2"
    ALREADY_ACTIVE_L1 = "already_active_l1"
    ALREADY_ACTIVE_L2 = "already_active_l2"
    LEVEL_DIFFERS_L1 = "level_differs_l1"
    LEVEL_DIFFERS_L2 = "level_differs_l2"
    UNCLAIMED_L1 = "unclaimed_l1"
    UNCLAIMED_L2 = "unclaimed_l2"


# The counters field events credit; every other metric is the registry's word on them (written
# by the reconciliation, not by events): a sum "of what was counted" sums these only.
EVENT_METRICS: Final = frozenset({
    Metric.INSTALLED, Metric.COLLECTED_L1, Metric.COLLECTED_L2, Metric.APPROVED_L1, Metric.APPROVED_L2,
    Metric.ACTIVATED_L1, Metric.ACTIVATED_L2,
})

_LEVELLED_PREFIX = {
    EventType.REGISTRATION_COLLECTED: "collected",
    EventType.APPLICATION_APPROVED: "approved",
    EventType.ACCOUNT_ACTIVATED: "activated",
}


def metric_of(event_type: EventType, level: int | None) -> Metric:
    """The counter an event of this type and level credits."""
    if event_type is EventType.APP_INSTALLED:
        return Metric.INSTALLED
    return Metric(f"{_LEVELLED_PREFIX[event_type]}_l{level}")


def local_day(moment: dt.datetime) -> dt.date:
    """The campaign day (Asia/Ho_Chi_Minh) a moment belongs to."""
    return moment.astimezone(LOCAL_TZ).date()


class Citizen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id_number: str = Field(description="CCCD: exactly 12 digits")
    full_name: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    phone: str | None = Field(default=None, description="0xxxxxxxxx or +84xxxxxxxxx")

    # Messages never echo the value: it is personal data and error bodies get logged.
    @field_validator("id_number")
    @classmethod
    def _cccd(cls, value: str) -> str:
        if not _CCCD.fullmatch(value):
            raise ValueError("must be exactly 12 digits")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = re.sub(r"[\s.-]", "", value)
        if not _PHONE.fullmatch(compact):
            raise ValueError("must be a Vietnamese mobile number (0 or +84 and 9 digits)")
        return "0" + compact[3:] if compact.startswith("+84") else compact


class DeviceEvent(BaseModel):
    """One event as a field app posts it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: uuid.UUID
    type: EventType
    level: Literal[1, 2] | None = None
    occurred_at: AwareDatetime
    team: UnitCode
    officer: OfficerId
    citizen: Citizen

    @model_validator(mode="after")
    def _level_matches_type(self) -> DeviceEvent:
        if self.type is EventType.APP_INSTALLED:
            if self.level is not None:
                raise ValueError("level: must be absent for app_installed")
        elif self.level is None:
            raise ValueError(f"level: required (1 or 2) for {self.type.value}")
        return self

    @property
    def metric(self) -> Metric:
        return metric_of(self.type, self.level)

    def canonical(self) -> bytes:
        """Content used to tell a retry from a reused id: same instant, same data.

        Stored digests are made of these bytes, so they must never change: this is
        ``model_dump(mode="json")`` with the instant in UTC and sorted keys, written out by hand
        because it runs for every posted event (the unit tests hold the two equal)."""
        return orjson.dumps({
            "schema_version": self.schema_version, "event_id": str(self.event_id), "type": self.type.value,
            "level": self.level, "occurred_at": self.occurred_at.astimezone(dt.UTC).isoformat(),
            "team": self.team, "officer": self.officer, "citizen": self.citizen_values(),
        }, option=orjson.OPT_SORT_KEYS)

    def citizen_values(self) -> dict[str, str | None]:
        """The citizen's clear values, as sealed into the event store."""
        citizen = self.citizen
        return {"id_number": citizen.id_number, "full_name": citizen.full_name, "phone": citizen.phone}


class Fact(BaseModel):
    """An accepted event as the event store publishes it: no clear personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[2] = FACT_SCHEMA_VERSION
    seq: int
    event_id: uuid.UUID
    type: EventType
    level: Literal[1, 2] | None
    metric: Metric
    occurred_at: dt.datetime
    day: dt.date
    received_at: dt.datetime
    team: str
    officer: str
    citizen_key: str
    credited: bool
    map: int = Field(description="the map version the lineage was resolved in (0: before versions)")
    lineage: tuple[str, ...] = Field(description="unit codes from the map's root down to the team")


# Facts travel in columns: a batch names the fields once and carries one array per fact.
# Parsing arrays is several times cheaper than objects, and consumers read by position.
FACT_FIELDS = (
    "seq", "event_id", "type", "level", "metric", "occurred_at", "day", "received_at",
    "team", "officer", "citizen_key", "credited", "map", "lineage",
)
_V1_FIELDS = (
    "seq", "event_id", "type", "level", "metric", "occurred_at", "day", "received_at",
    "province", "district", "commune", "team", "officer", "citizen_key", "credited",
)


class F:
    """Positions of the fields in a fact row (see ``FACT_FIELDS``)."""

    SEQ, EVENT_ID, TYPE, LEVEL, METRIC, OCCURRED_AT, DAY, RECEIVED_AT = range(8)
    TEAM, OFFICER, CITIZEN_KEY, CREDITED, MAP, LINEAGE = range(8, 14)


class FactBatch(BaseModel):
    """Facts of one message key, in sequence order: the unit of transport on the facts topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[2] = FACT_SCHEMA_VERSION
    key: str
    facts: tuple[Fact, ...]
    prev_seq: int | None = Field(
        default=None, description="sequence number of the key's fact just before this batch (0: none); "
        "a consumer whose position is below it has missed facts and must not apply the batch")

    @property
    def first_seq(self) -> int:
        return self.facts[0].seq

    @property
    def last_seq(self) -> int:
        return self.facts[-1].seq

    def to_bytes(self) -> bytes:
        rows = [[f.model_dump(mode="json")[name] for name in FACT_FIELDS] for f in self.facts]
        return encode_fact_rows(self.key, rows, self.prev_seq)

    @classmethod
    def from_bytes(cls, raw: bytes) -> FactBatch:
        key, rows, prev_seq = decode_fact_rows(raw)
        return cls(key=key, prev_seq=prev_seq,
                   facts=tuple(Fact.model_validate(dict(zip(FACT_FIELDS, r, strict=True))) for r in rows))


class UnknownFactSchema(ValueError):
    """A fact batch of another schema version or field layout than this code knows."""


class FactRows(NamedTuple):
    """A decoded fact batch: its key, its rows (indexed by ``F``) and the key's sequence number
    just before it (``None`` from producers that do not chain batches)."""

    key: str
    rows: list[list[Any]]
    prev_seq: int | None = None


def encode_fact_rows(key: str, rows: list[list[Any]], prev_seq: int | None = None) -> bytes:
    document: dict[str, Any] = {"schema_version": FACT_SCHEMA_VERSION, "key": key, "fields": FACT_FIELDS,
                                "rows": rows}
    if prev_seq is not None:
        document["prev_seq"] = prev_seq
    return orjson.dumps(document)


def decode_fact_rows(raw: bytes) -> FactRows:
    document = orjson.loads(raw)
    version, fields = document.get("schema_version"), tuple(document.get("fields", ()))
    if version == FACT_SCHEMA_VERSION and fields == FACT_FIELDS:
        return FactRows(document["key"], document["rows"], document.get("prev_seq"))
    if version == 1 and fields == _V1_FIELDS:
        return FactRows(document["key"], [_lift_v1(row) for row in document["rows"]], document.get("prev_seq"))
    raise UnknownFactSchema(f"fact batch schema_version {version!r}")


def _lift_v1(row: list[Any]) -> list[Any]:
    """A version 1 row (fixed province, district, commune) as a version 2 row in map 0."""
    return [*row[:8], row[11], row[12], row[13], row[14], 0, [row[8], row[9], row[10], row[11]]]


def fact_dicts(raw: bytes) -> list[dict[str, Any]]:
    """The facts of a batch as dictionaries, for readers that are not on a hot path."""
    return [dict(zip(FACT_FIELDS, row, strict=True)) for row in decode_fact_rows(raw).rows]


class MetricCount(BaseModel):
    model_config = ConfigDict(frozen=True)

    credited: int
    claims: int
    version: int = Field(description="grows with every change of this counter")


class ProgressChange(BaseModel):
    """A unit's counters after a change, for one local day and cumulative.

    Values are absolute, so a consumer that missed a message is healed by the next one; a
    metric absent from ``daily`` or ``total`` did not change. Keep the highest ``version``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    unit: str
    day: dt.date
    daily: dict[Metric, MetricCount]
    total: dict[Metric, MetricCount]
    as_of: dt.datetime
