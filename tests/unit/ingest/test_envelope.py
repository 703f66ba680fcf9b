import pytest

from tally06_ingest.envelope import parse_events
from tally06_ingest.exceptions import EnvelopeError


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, "body"),
        (b"[]", 422, "body"),
        (b'{"events": {}}', 422, "events"),
        (b'{"events": []}', 422, "events"),
        (b'{"events": [1], "extra": 1}', 422, "extra"),
        (b'{"events": [' + b",".join([b"{}"] * 501) + b"]}", 422, "events"),
    ],
)
def test_envelope_errors(body, status, field):
    with pytest.raises(EnvelopeError) as info:
        parse_events(body, 500)
    assert (info.value.status, info.value.field) == (status, field)


def test_items_are_passed_through_unchecked():
    assert parse_events(b'{"events": [1, {"a": 2}]}', 500) == [1, {"a": 2}]
