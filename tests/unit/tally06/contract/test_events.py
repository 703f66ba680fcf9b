import datetime as dt
import uuid

import orjson
import pytest
from pydantic import ValidationError

from tally06.contract.events import DeviceEvent, EventType, Fact, FactBatch, Metric, local_day, metric_of
from tests.support import factories


def test_metric_of_each_type_and_level():
    assert metric_of(EventType.APP_INSTALLED, None) is Metric.INSTALLED
    assert metric_of(EventType.REGISTRATION_COLLECTED, 2) is Metric.COLLECTED_L2
    assert metric_of(EventType.APPLICATION_APPROVED, 1) is Metric.APPROVED_L1
    assert metric_of(EventType.ACCOUNT_ACTIVATED, 2) is Metric.ACTIVATED_L2


def test_local_day_is_vietnam_time():
    late_utc = dt.datetime(2024, 10, 25, 17, 30, tzinfo=dt.UTC)  # 00:30 on the 26th in Hà Nội
    assert local_day(late_utc) == dt.date(2024, 10, 26)


def test_valid_event_parses_and_normalises_phone():
    body = factories.event(citizen_body=factories.citizen(phone="+84 912 345 678"))
    event = DeviceEvent.model_validate(body)
    assert event.citizen.phone == "0912345678"
    assert event.metric is Metric.ACTIVATED_L1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"level": None}, "level"),
        ({"type": "app_installed", "level": 2}, "level"),
        ({"occurred_at": "2024-10-25T10:00:00"}, "occurred_at"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"type": "coffee_drunk"}, "type"),
        ({"level": 3}, "level"),
    ],
)
def test_invalid_fields_are_named(change, field):
    body = factories.event()
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    with pytest.raises(ValidationError) as info:
        DeviceEvent.model_validate(body)
    text = str(info.value)
    assert field in text


@pytest.mark.parametrize("bad", ["12345678901", "1234567890123", "03812345678a", ""])
def test_cccd_must_be_12_digits_and_is_never_echoed(bad):
    body = factories.event(citizen_body={"id_number": bad})
    with pytest.raises(ValidationError) as info:
        DeviceEvent.model_validate(body)
    errors = info.value.errors(include_input=False)
    assert errors[0]["loc"] == ("citizen", "id_number")
    assert "12 digits" in errors[0]["msg"]


def test_canonical_content_ignores_offset_of_the_same_instant():
    body = factories.event(occurred_at=dt.datetime(2024, 10, 25, 3, 0, tzinfo=dt.UTC))
    same_instant = dict(body, occurred_at="2024-10-25T10:00:00+07:00")
    assert DeviceEvent.model_validate(body).canonical() == DeviceEvent.model_validate(same_instant).canonical()


@pytest.mark.parametrize("changes", [
    {}, {"type": "app_installed", "level": None}, {"level": 2},
    {"citizen_body": {"id_number": "038095001234"}},  # no name, no phone
    {"citizen_body": {"id_number": "038095001234", "full_name": "  Lê Thị Hoa ", "phone": "+84 912 345 678"}},
    {"occurred_at": dt.datetime(2024, 10, 25, 23, 59, 59, 123456, tzinfo=dt.timezone(dt.timedelta(hours=7))),
     "officer": "CA.th-03_x"},
])
def test_canonical_bytes_are_the_json_dump_that_stored_digests_were_made_of(changes):
    """Digests of events stored before the hand-written form must still match their retries."""
    event = DeviceEvent.model_validate(factories.event(**changes))
    body = event.model_dump(mode="json")
    body["occurred_at"] = event.occurred_at.astimezone(dt.UTC).isoformat()
    assert event.canonical() == orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    assert event.citizen_values() == event.citizen.model_dump()


def test_events_are_immutable():
    event = DeviceEvent.model_validate(factories.event())
    with pytest.raises(ValidationError):
        event.team = "TH-01-C01-T1"  # type: ignore[misc]


def test_fact_batch_round_trip():
    fact = Fact(
        seq=7, event_id=uuid.uuid4(), type=EventType.ACCOUNT_ACTIVATED, level=1,
        metric=Metric.ACTIVATED_L1, occurred_at=dt.datetime(2024, 10, 25, 3, tzinfo=dt.UTC),
        day=dt.date(2024, 10, 25), received_at=dt.datetime(2024, 10, 25, 3, 1, tzinfo=dt.UTC),
        team="TH-03-C01-T1", officer="CA-1", citizen_key="ab" * 32, credited=True, map=2,
        lineage=("TH", "TH-C07", "TH-C07-T1"),
    )
    batch = FactBatch(key="TH-03", facts=(fact,))
    assert FactBatch.from_bytes(batch.to_bytes()) == batch
    assert batch.first_seq == batch.last_seq == 7
