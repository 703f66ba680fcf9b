import datetime as dt

from tally06.imports.reference import demo_org
from tally06_ingest.validation import FieldError, ValidEvent, validate_event
from tests.support import factories

NOW = dt.datetime(2024, 10, 25, 3, 0, tzinfo=dt.UTC)
TOLERANCE = dt.timedelta(minutes=10)


def check(body, team="TH-03-C01-T1"):
    return validate_event(body, registry=demo_org(), token_team=team, now=NOW, future_tolerance=TOLERANCE)


def fields(result):
    assert isinstance(result, list), result
    return {e.field for e in result}


def test_valid_event_gets_its_lineage():
    result = check(factories.event(occurred_at=NOW))
    assert isinstance(result, ValidEvent)
    assert result.lineage.district == "TH-03"


def test_unknown_team():
    assert fields(check(factories.event(team="TH-99-C01-T1", occurred_at=NOW))) == {"team"}


def test_team_of_another_device():
    result = check(factories.event(team="TH-01-C01-T1", occurred_at=NOW))
    assert result == [FieldError("team", "this device is registered to another team")]


def test_future_beyond_tolerance_and_within():
    assert fields(check(factories.event(occurred_at=NOW + dt.timedelta(minutes=11)))) == {"occurred_at"}
    assert isinstance(check(factories.event(occurred_at=NOW + dt.timedelta(minutes=9))), ValidEvent)


def test_missing_level_names_the_field():
    body = factories.event(occurred_at=NOW)
    body.pop("level")
    assert fields(check(body)) == {"level"}


def test_malformed_cccd_names_the_nested_field():
    body = factories.event(occurred_at=NOW, citizen_body={"id_number": "12345"})
    assert fields(check(body)) == {"citizen.id_number"}


def test_not_an_object():
    assert fields(check(["a"])) == {"event"}


def test_several_errors_at_once():
    body = factories.event(occurred_at=NOW, citizen_body={"id_number": "1"}, officer="")
    body.pop("team")
    assert fields(check(body)) == {"citizen.id_number", "officer", "team"}
