import pytest

from tally06.domain.exceptions import OrgError
from tally06.domain.org import UnitKind
from tally06.imports.org_csv import parse_org_csv, to_org_csv
from tally06.imports.reference import appendix1, demo_org


def test_demo_org_has_the_27_districts_in_appendix_order():
    org = demo_org()
    districts = org.units(UnitKind.DISTRICT)
    assert [d.code for d in districts] == [f"TH-{n:02d}" for n in range(1, 28)]
    assert districts[2].name == "Thành phố Sầm Sơn"
    assert sum(d.target_total for d in appendix1()) == 3_243_976


def test_lineage_is_derived_from_the_team():
    lineage = demo_org().lineage("TH-03-C02-T3")
    assert (lineage.province, lineage.district, lineage.commune) == ("TH", "TH-03", "TH-03-C02")
    assert demo_org().lineage("TH-03-C02") is None  # a commune is not a team


def test_csv_round_trip():
    text = to_org_csv(demo_org().units())
    assert len(parse_org_csv(text)) == len(demo_org())


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("X,Xa,team,NOPE\n", "not a known unit"),
        ("P,Prov,province,\nC,Com,commune,P\nD,Dist,district,C\n", "district cannot sit under a commune"),
        ("P,Prov,province,\nT,Team,team,P\nU,Under,team,T\n", "a team has no units under it"),
        ("T,Team,team,\n", "a team must sit under a unit"),
        ("P,Prov,planet,\n", "kind 'planet'"),
        ("P,Prov,province,\nP,Again,province,\n", "duplicate"),
    ],
)
def test_bad_rows_are_reported(rows, message):
    with pytest.raises(OrgError, match=message):
        parse_org_csv("code,name,kind,parent_code\n" + rows)


def test_wrong_header_is_reported():
    with pytest.raises(OrgError, match="header"):
        parse_org_csv("id,name\n")
