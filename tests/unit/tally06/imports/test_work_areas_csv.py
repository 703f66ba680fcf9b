"""Work areas from CSV: bad rows by row, field and reason; the good rows as areas."""

from __future__ import annotations

from tally06.domain.work_lists import WorkArea
from tally06.imports.row_errors import RowError
from tally06.imports.work_areas_csv import parse_work_areas_csv
from tests.unit.tally06.domain.test_work_lists import ORG


def test_rows_become_areas_and_bad_rows_are_reported():
    text = ("\ufeffvillage,team\n"
            "TH-03-C01-V1,TH-03-C01-V1-T1\n"
            ",TH-03-C01-T2\n"
            "\n"
            "TH-03-C02-V1,TH-03-C01-T2\n"
            "TH-03-C01-V1,TH-03-C01-T2\n"
            "Thôn Đông,TH-03-C02-T1\n"
            "Thôn Tây,\n")
    rows, errors = parse_work_areas_csv(text, ORG)
    assert rows == [WorkArea("TH-03-C01", "TH-03-C01-V1", "TH-03-C01-V1-T1"), WorkArea("TH-03-C01", "", "TH-03-C01-T2"),
                    WorkArea("TH-03-C02", "Thôn Đông", "TH-03-C02-T1")]
    assert [(e.row, e.field) for e in errors] == [(5, "village"), (6, "village"), (8, "team")]
    assert "already given on row 2" in errors[1].message


def test_a_wrong_header_is_one_error():
    assert parse_work_areas_csv("team,village\nA,B\n", ORG) == ([], [RowError(1, "header", "must be village,team")])
