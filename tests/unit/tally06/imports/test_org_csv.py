"""Map CSVs: every shape a deployment uses reads, and every bad row is reported with its row
number (the header is row 1), all of them at once."""

from pathlib import Path

import pytest

from tally06.domain.exceptions import OrgError
from tally06.domain.org import UnitKind
from tally06.imports.org_csv import parse_org_csv, read_org_csv, to_org_csv
from tally06.imports.reference import demo_org

HEADER = "code,name,kind,parent_code\n"


def test_demo_round_trip():
    text = to_org_csv(demo_org().units())
    assert parse_org_csv(text) == demo_org()


def test_parents_may_come_after_children():
    org = parse_org_csv(HEADER + "C1-T1,Tổ 1,team,C1\nC1,Xã Một,commune,TH\nTH,Tỉnh Thanh Hóa,province,\n")
    assert org.lineage("C1-T1").codes == ("TH", "C1", "C1-T1")
    assert org.get("C1").name == "Xã Một"


def test_village_level_and_country_root():
    org = parse_org_csv(HEADER + "VN,Việt Nam,country,\nTH,Thanh Hóa,province,VN\nPT,Phú Thọ,province,VN\n"
                        "TH-C1,Xã A,commune,TH\nTH-C1-V1,Thôn 1,village,TH-C1\nTH-C1-V1-T1,Tổ 1,team,TH-C1-V1\n"
                        "PT-C1,Xã B,commune,PT\nPT-C1-T1,Tổ 1,team,PT-C1\n")
    assert [u.code for u in org.roots()] == ["VN"]
    assert org.lineage("TH-C1-V1-T1").codes == ("VN", "TH", "TH-C1", "TH-C1-V1", "TH-C1-V1-T1")
    assert org.lineage("PT-C1-T1").codes == ("VN", "PT", "PT-C1", "PT-C1-T1")
    assert org.kinds() == [UnitKind.COUNTRY, UnitKind.PROVINCE, UnitKind.COMMUNE, UnitKind.VILLAGE, UnitKind.TEAM]


def test_byte_order_mark_blank_rows_and_kind_case_are_tolerated():
    org = parse_org_csv("\ufeff" + HEADER + "TH,Tỉnh,Province,\n,,,\nTH-C1,Xã,commune,TH\n")
    assert len(org) == 2


def errors_of(rows: str) -> list[tuple[int, str, str]]:
    registry, errors = read_org_csv(HEADER + rows)
    assert registry is None
    return [(e.row, e.field, e.message) for e in errors]


@pytest.mark.parametrize(
    ("rows", "row", "field", "message"),
    [
        ("TH,Tỉnh,province,\n,Xã,commune,TH\n", 3, "code", "is required"),
        ("TH,Tỉnh,province,\nth-c1,Xã,commune,TH\n", 3, "code", "'th-c1' is not a unit code"),
        ("TH,Tỉnh,province,\n-C1,Xã,commune,TH\n", 3, "code", "'-C1' is not a unit code"),
        ("TH,Tỉnh,province,\nC 1,Xã,commune,TH\n", 3, "code", "'C 1' is not a unit code"),
        ("TH,Tỉnh,province,\n" + "C" * 41 + ",Xã,commune,TH\n", 3, "code", "at most 40 characters"),
        ("TH,Tỉnh,province,\nC1,,commune,TH\n", 3, "name", "is required"),
        ("TH,Tỉnh,province,\nC1,Xã,ward,TH\n", 3, "kind", "'ward' is not one of country, province, district"),
        ("TH,Tỉnh,province,\nC1,Xã,commune,TH\nC1,Xã lại,commune,TH\n", 4, "code",
         "unit C1 is already given on row 3"),
        ("TH,Tỉnh,province,\nC1,Xã,commune,NOPE\n", 3, "parent_code", "parent 'NOPE' of C1 is not a unit of this file"),
        ("TH,Tỉnh,province,\nC1,Xã,commune,C1\n", 3, "parent_code", "C1 cannot be its own parent"),
        ("TH,Tỉnh,province,\nC1,Xã,commune,TH\nC2,Xã 2,commune,C1\n", 4, "parent_code",
         "a commune cannot sit under a commune (C1, row 3)"),
        ("D1,Huyện,district,C1\nTH,Tỉnh,province,\nC1,Xã,commune,TH\n", 2, "parent_code",
         "a district cannot sit under a commune (C1, row 4); a parent is of a higher level"),
        ("TH,Tỉnh,province,\nC1,Xã,commune,TH\nT1,Tổ,team,C1\nT2,Tổ con,team,T1\n", 5, "parent_code",
         "T2 cannot sit under T1 (row 4): a team has no units under it"),
        ("TH,Tỉnh,province,\nC1,Xã,commune,TH\nV1,Thôn,village,T1\nT1,Tổ,team,C1\n", 4, "parent_code",
         "V1 cannot sit under T1 (row 5): a team has no units under it"),
        ("TH,Tỉnh,province,\nT1,Tổ,team,\n", 3, "parent_code", "team T1 must sit under a unit, not at the root"),
        ("", 2, "code", "the file has no units"),
    ],
)
def test_each_bad_row_is_named(rows, row, field, message):
    errors = errors_of(rows)
    assert len(errors) == 1, errors
    assert errors[0][:2] == (row, field)
    assert message in errors[0][2]


def test_every_bad_row_is_reported_at_once():
    rows = ("TH,Tỉnh,province,\n"          # 2
            "C1,Xã,commune,TH\n"           # 3
            "C1,Xã,commune,TH\n"           # 4 repeats row 3
            "C2,Xã 2,commune,NOPE\n"       # 5 unknown parent
            "C3,,commune,TH\n"             # 6 no name
            "C1-T1,Tổ,team,C1\n"           # 7 fine
            "C1-T2,Tổ,squad,C1\n"          # 8 unknown kind
            "T9,Tổ,team,\n"                # 9 team at the root
            "D1,Huyện,district,C1\n")      # 10 under a lower level
    assert [(row, field) for row, field, _ in errors_of(rows)] == [
        (4, "code"), (5, "parent_code"), (6, "name"), (8, "kind"), (9, "parent_code"), (10, "parent_code")]


def test_a_unit_under_a_bad_row_is_not_blamed_for_it():
    # Row 3's kind is wrong; the team under it says nothing, row 3 says why.
    assert errors_of("TH,Tỉnh,province,\nC1,Xã,comune,TH\nC1-T1,Tổ,team,C1\n") == [
        (3, "kind", "'comune' is not one of country, province, district, commune, village, team")]


def test_wrong_header_is_row_1():
    registry, errors = read_org_csv("id,name\nTH,Tỉnh\n")
    assert registry is None
    assert [(e.row, e.field) for e in errors] == [(1, "header")]
    assert "code,name,kind,parent_code" in errors[0].message


def test_parse_org_csv_raises_with_every_row():
    with pytest.raises(OrgError) as raised:
        parse_org_csv(HEADER + "TH,Tỉnh,province,\nC1,Xã,ward,TH\nT1,Tổ,team,\n")
    assert str(raised.value) == ("row 3 (kind): 'ward' is not one of country, province, district, commune, village, "
                                 "team; row 4 (parent_code): team T1 must sit under a unit, not at the root")


def test_the_documented_maps_read():
    """docs/org-maps.md shows the format by example; every example map is a valid map."""
    doc = (Path(__file__).parents[4] / "docs" / "org-maps.md").read_text(encoding="utf-8")
    blocks = [b.split("```")[0].lstrip("\n") for b in doc.split("```csv")[1:]]
    maps = [parse_org_csv(b) for b in blocks if b.startswith(HEADER)]
    assert [sorted(k.value for k in m.kinds()) for m in maps] == [
        ["commune", "district", "province", "team"], ["commune", "province", "team"],
        ["commune", "province", "team", "village"], ["commune", "country", "district", "province", "team"]]
