"""Request and response bodies of the ingest API (documented in OpenAPI)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tally06.contract.events import DeviceEvent


class EventBatch(BaseModel):
    events: list[DeviceEvent] = Field(min_length=1, max_length=500)


class FieldErrorOut(BaseModel):
    field: str
    message: str


class ItemResult(BaseModel):
    index: int
    event_id: str | None
    status: str = Field(description="accepted | duplicate | rejected")
    errors: list[FieldErrorOut] = []
    seq: int | None = Field(None, description="position in the event store, once stored")
    credited: bool | None = Field(None, description="whether the event earned the credit")


class Totals(BaseModel):
    accepted: int
    duplicate: int
    rejected: int


class BatchResult(BaseModel):
    results: list[ItemResult]
    totals: Totals


class ErrorBody(BaseModel):
    detail: list[FieldErrorOut]
