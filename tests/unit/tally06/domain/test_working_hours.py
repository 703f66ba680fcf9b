import datetime as dt

from tally06.domain.calendar import CAMPAIGN_HOURS, UnitHours, WorkingHours, hours_for
from tally06.imports.reference import PROVINCE_CODE, demo_org
from tally06.imports.working_hours_csv import parse_working_hours_csv

HEADER = "unit_code,starts,ends\n"


def test_valid_rows_for_any_kind_of_unit():
    rows, errors = parse_working_hours_csv(HEADER + "TH-03,06:30,21:00\nTH-03-C01-T1,8:00,17:30\n", demo_org())
    assert errors == []
    assert rows == [UnitHours("TH-03", WorkingHours(dt.time(6, 30), dt.time(21, 0))),
                    UnitHours("TH-03-C01-T1", WorkingHours(dt.time(8, 0), dt.time(17, 30)))]


def test_bad_rows_are_reported_with_row_and_field():
    text = HEADER + ("TH-03,06:30,21:00\n"
                     "TH-99,06:30,21:00\n"     # unknown unit
                     "TH-04,6h30,21:00\n"      # not HH:MM
                     "TH-05,07:00,24:00\n"     # not a time of day
                     "TH-06,22:00,07:00\n"     # across midnight
                     "TH-07,08:00,08:00\n"     # empty shift
                     "TH-03,07:00,20:00\n"     # duplicate unit
                     "TH-08,,\n")              # both times missing
    rows, errors = parse_working_hours_csv(text, demo_org())
    assert [r.unit_code for r in rows] == ["TH-03"]
    assert [(e.row, e.field) for e in errors] == [
        (3, "unit_code"), (4, "starts"), (5, "ends"), (6, "ends"), (7, "ends"), (8, "unit_code"),
        (9, "starts"), (9, "ends")]
    assert "row 2" in errors[5].message


def test_wrong_header():
    assert parse_working_hours_csv("unit,from,to\n", demo_org())[1][0].field == "header"


def test_hours_are_inherited_from_the_nearest_ancestor():
    org = demo_org()
    district = WorkingHours(dt.time(6, 0), dt.time(20, 0))
    team = WorkingHours(dt.time(9, 0), dt.time(17, 0))
    explicit = {"TH-03": district, "TH-03-C01-T2": team}
    assert hours_for("TH-03-C01-T2", explicit, org) == team
    assert hours_for("TH-03-C01-T1", explicit, org) == district
    assert hours_for("TH-03-C01", explicit, org) == district
    assert hours_for("TH-04-C01-T1", explicit, org) == CAMPAIGN_HOURS


def test_province_hours_reach_every_unit_and_unknown_units_get_the_campaign_hours():
    province = WorkingHours(dt.time(7, 0), dt.time(21, 0))
    assert hours_for("TH-27-C01-T3", {PROVINCE_CODE: province}, demo_org()) == province
    assert hours_for("XX-01", {PROVINCE_CODE: province}, demo_org()) == CAMPAIGN_HOURS
    assert hours_for("TH-01", {}, demo_org()) == CAMPAIGN_HOURS == WorkingHours(dt.time(7, 30), dt.time(22, 0))
