"""Mapping CSVs: rows keep their line numbers (reorganise names them), and every bad row is
reported with its row number and the problem."""

from pathlib import Path

import pytest

from tally06.domain.org_maps import Change, MappingRow
from tally06.imports.org_mapping_csv import parse_org_mapping_csv

HEADER = "old_code,new_code,change\n"


def test_rows_keep_their_line_numbers():
    rows, errors = parse_org_mapping_csv(HEADER + "TH-01,TH,dissolve\n\nTH-01-C02,TH-01-C01,merge\n"
                                         "TH-02-C01,TH-X1,split\nTH-02-C01,TH-X2,split\nTH-03-C01,TH-Y1,Rename\n")
    assert errors == []
    # The blank line is line 3 of the file.
    assert rows == [
        MappingRow(2, "TH-01", "TH", Change.DISSOLVE),
        MappingRow(4, "TH-01-C02", "TH-01-C01", Change.MERGE),
        MappingRow(5, "TH-02-C01", "TH-X1", Change.SPLIT),
        MappingRow(6, "TH-02-C01", "TH-X2", Change.SPLIT),
        MappingRow(7, "TH-03-C01", "TH-Y1", Change.RENAME),
    ]


def test_a_note_column_is_allowed_and_not_read():
    rows, errors = parse_org_mapping_csv("\ufeffold_code,new_code,change,note\n"
                                         "TH-05,TH,dissolve,\"Nghị quyết 1686/NQ-UBTVQH15, 2025\"\n"
                                         "TH-05-C01,TH-05-C02,move,\n")
    assert errors == []
    assert rows == [MappingRow(2, "TH-05", "TH", Change.DISSOLVE), MappingRow(3, "TH-05-C01", "TH-05-C02", Change.MOVE)]


def test_wrong_header_is_row_1():
    rows, errors = parse_org_mapping_csv("old,new,change\nA,B,merge\n")
    assert rows == []
    assert [(e.row, e.field) for e in errors] == [(1, "header")]
    assert "old_code,new_code,change" in errors[0].message


@pytest.mark.parametrize(
    ("lines", "row", "field", "message"),
    [
        (",TH,dissolve\n", 2, "old_code", "is required"),
        ("TH-01,,dissolve\n", 2, "new_code", "is required"),
        ("TH-01,TH,abolish\n", 2, "change", "'abolish' is not one of merge, split, rename, move, dissolve"),
        ("TH-01,TH,\n", 2, "change", "'' is not one of"),
        ("A,B,merge\nA,B,merge\n", 3, "new_code", "A → B is already given on row 2"),
        ("A,B,split\nA,B,merge\n", 3, "new_code", "A → B is already given on row 2"),
    ],
)
def test_each_bad_row_is_named(lines, row, field, message):
    _, errors = parse_org_mapping_csv(HEADER + lines)
    assert len(errors) == 1, errors
    assert (errors[0].row, errors[0].field) == (row, field)
    assert message in errors[0].message


def test_only_split_sends_one_old_unit_to_several():
    rows, errors = parse_org_mapping_csv(HEADER + "A,B,merge\n"      # 2
                                                  "A,C,merge\n"      # 3
                                                  "D,E,split\n"      # 4
                                                  "D,F,rename\n"     # 5
                                                  "D,G,split\n"      # 6
                                                  "H,I,split\n"      # 7 one split row alone is fine
                                                  "J,K,rename\n")    # 8
    assert [(e.row, e.field) for e in errors] == [(2, "change"), (3, "change"), (5, "change")]
    assert errors[0].message.startswith("A is also mapped on row 3: an old unit goes to one new unit by merge")
    assert errors[2].message.startswith("D is also mapped on rows 4, 6: an old unit goes to one new unit by rename")
    assert [r.row for r in rows] == [4, 6, 7, 8]


def test_every_bad_row_is_reported_at_once():
    _, errors = parse_org_mapping_csv(HEADER + "A,B,merge\n,B,merge\nC,D,fuse\nA,B,merge\nE,,rename\n")
    assert [(e.row, e.field) for e in errors] == [(3, "old_code"), (4, "change"), (5, "new_code"), (6, "new_code")]


def test_the_documented_mapping_reads():
    doc = (Path(__file__).parents[4] / "docs" / "org-maps.md").read_text(encoding="utf-8")
    block = doc.split("```csv\nold_code")[1].split("```")[0]
    rows, errors = parse_org_mapping_csv("old_code" + block.replace("...\n", ""))
    assert errors == []
    assert [r.change for r in rows] == [Change.DISSOLVE] * 3 + [Change.MERGE, Change.SPLIT, Change.SPLIT,
                                                                Change.RENAME, Change.RENAME]
