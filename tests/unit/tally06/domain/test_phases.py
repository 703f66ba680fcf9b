"""Campaign phases: import rows, inheritance down the hierarchy, the deadline they set."""

from __future__ import annotations

import datetime as dt

from tally06.domain.calendar import Phase, deadline_for, phases_for
from tally06.domain.pace import PLAN70_PHASES
from tally06.imports.phases_csv import parse_phases_csv
from tally06.imports.reference import demo_org

ORG = demo_org()
PLAN70_CSV = "unit_code,phase,starts,ends,goal\n" + "".join(
    f"TH,{p.name},{p.start},{p.end},{p.goal}\n" for p in PLAN70_PHASES)


def test_plan70_phases_round_trip_and_set_the_province_deadline():
    phases, errors = parse_phases_csv(PLAN70_CSV, ORG)
    assert errors == []
    assert phases == {"TH": list(PLAN70_PHASES)}
    assert deadline_for("TH", phases, ORG) == dt.date(2023, 6, 30)
    # Every unit below follows the province, unless it has phases of its own.
    assert deadline_for("TH-03-C01-T1", phases, ORG) == dt.date(2023, 6, 30)
    own = {**phases, "TH-03": [Phase("Sầm Sơn", dt.date(2024, 10, 25), dt.date(2024, 11, 30), 3935)]}
    assert deadline_for("TH-03-C01-T1", own, ORG) == dt.date(2024, 11, 30)
    assert phases_for("TH-04", own, ORG) == list(PLAN70_PHASES)
    assert deadline_for("TH-04", {}, ORG) is None


def test_bad_rows_are_reported_with_field_and_reason():
    text = ("unit_code,phase,starts,ends,goal\n"
            "XX-99,P1,2023-03-24,2023-04-30,10\n"
            "TH,P1,24/03/2023,2023-04-30,10\n"
            "TH,P1,2023-04-30,2023-03-24,10\n"
            "TH,P1,2023-03-24,2023-04-30,-5\n"
            "TH,P1,2023-03-24,2023-04-30,10\n"
            "TH,P2,2023-04-15,2023-05-31,10\n")
    phases, errors = parse_phases_csv(text, ORG)
    assert [(e.row, e.field) for e in errors] == [(2, "unit_code"), (3, "starts"), (4, "ends"), (5, "goal"), (7, "starts")]
    assert "overlaps P1" in errors[-1].message
    assert phases == {"TH": [Phase("P1", dt.date(2023, 3, 24), dt.date(2023, 4, 30), 10)]}
    assert parse_phases_csv("unit,phase\n", ORG)[1][0].field == "header"
