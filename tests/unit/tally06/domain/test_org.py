import pytest

from tally06.domain.exceptions import OrgError
from tally06.domain.org import OrgRegistry, Unit, UnitKind
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


def units(*rows: str) -> list[Unit]:
    """Units from 'code kind parent' strings (parent '-' for a root); the name is the code."""
    found = []
    for row in rows:
        code, kind, parent = row.split()
        found.append(Unit(code, code, UnitKind(kind), None if parent == "-" else parent))
    return found


TWO_TIER = units("TH province -", "C1 commune TH", "C1-T1 team C1", "C1-T2 team C1", "C2 commune TH",
                 "C2-T1 team C2")


def test_two_tier_province_commune_team():
    org = OrgRegistry(TWO_TIER)
    lineage = org.lineage("C1-T2")
    assert lineage.codes == ("TH", "C1", "C1-T2")
    assert lineage.kinds == (UnitKind.PROVINCE, UnitKind.COMMUNE, UnitKind.TEAM)
    assert (lineage.province, lineage.district, lineage.commune, lineage.team) == ("TH", None, "C1", "C1-T2")
    assert lineage.key_unit == "C1"
    assert org.kinds() == [UnitKind.PROVINCE, UnitKind.COMMUNE, UnitKind.TEAM]
    assert [u.code for u in org.roots()] == ["TH"]
    assert org.teams_under("TH") == ["C1-T1", "C1-T2", "C2-T1"]
    assert org.teams_under("C2") == ["C2-T1"]
    assert org.teams_under("C2-T1") == ["C2-T1"]  # a team is under itself
    assert [u.code for u in org.children("TH")] == ["C1", "C2"]
    assert org.ancestors("C2-T1") == ["C2-T1", "C2", "TH"]


def test_village_between_commune_and_team():
    org = OrgRegistry(units("TH province -", "C1 commune TH", "V1 village C1", "V2 village C1",
                            "V1-T1 team V1", "V2-T1 team V2", "V2-T2 team V2"))
    lineage = org.lineage("V2-T2")
    assert lineage.codes == ("TH", "C1", "V2", "V2-T2")
    assert lineage.of_kind(UnitKind.VILLAGE) == "V2"
    assert lineage.of_kind(UnitKind.DISTRICT) is None
    assert lineage.key_unit == "C1"  # the commune, not the village just above the team
    assert org.kinds() == [UnitKind.PROVINCE, UnitKind.COMMUNE, UnitKind.VILLAGE, UnitKind.TEAM]
    assert org.teams_under("C1") == ["V1-T1", "V2-T1", "V2-T2"]
    assert org.teams_under("V2") == ["V2-T1", "V2-T2"]


def test_key_unit_without_a_commune_level_is_the_unit_above_the_team():
    org = OrgRegistry(units("P province -", "D district P", "D-T1 team D", "P-T1 team P"))
    assert org.lineage("D-T1").key_unit == "D"
    assert org.lineage("P-T1").key_unit == "P"
    assert org.lineage("P-T1").codes == ("P", "P-T1")


def test_several_provinces_one_with_districts_one_two_tier():
    org = OrgRegistry(units("CT province -", "CT-D1 district CT", "CT-D1-C1 commune CT-D1", "CT-T1 team CT-D1-C1",
                            "TH province -", "TH-C1 commune TH", "TH-T1 team TH-C1"))
    assert [u.code for u in org.roots()] == ["CT", "TH"]
    assert org.lineage("CT-T1").codes == ("CT", "CT-D1", "CT-D1-C1", "CT-T1")
    assert org.lineage("TH-T1").codes == ("TH", "TH-C1", "TH-T1")
    assert org.lineage("TH-T1").district is None and org.lineage("CT-T1").district == "CT-D1"
    assert org.teams_under("CT") == ["CT-T1"]
    assert org.teams_under("TH") == ["TH-T1"]
    assert org.kinds() == [UnitKind.PROVINCE, UnitKind.DISTRICT, UnitKind.COMMUNE, UnitKind.TEAM]


def test_country_root_above_provinces():
    org = OrgRegistry(units("VN country -", "TH province VN", "TH-C1 commune TH", "TH-T1 team TH-C1",
                            "PT province VN", "PT-C1 commune PT", "PT-T1 team PT-C1", "PT-T2 team PT-C1"))
    assert [u.code for u in org.roots()] == ["VN"]
    assert org.kinds()[0] is UnitKind.COUNTRY
    lineage = org.lineage("PT-T2")
    assert lineage.codes == ("VN", "PT", "PT-C1", "PT-T2")
    assert (lineage.of_kind(UnitKind.COUNTRY), lineage.province, lineage.key_unit) == ("VN", "PT", "PT-C1")
    assert org.teams_under("VN") == ["PT-T1", "PT-T2", "TH-T1"]


def test_demo_org_kinds_and_roots():
    org = demo_org()
    assert org.kinds() == [UnitKind.PROVINCE, UnitKind.DISTRICT, UnitKind.COMMUNE, UnitKind.TEAM]
    assert [u.code for u in org.roots()] == ["TH"]
    assert org.teams_under("TH-03-C02") == ["TH-03-C02-T1", "TH-03-C02-T2", "TH-03-C02-T3"]
    assert org.lineage("TH-03-C02-T3").key_unit == "TH-03-C02"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (("P province -", "C commune P", "D district C"), "district cannot sit under a commune"),
        (("P province -", "C commune P", "C2 commune C"), "commune cannot sit under a commune"),
        (("P province -", "T team P", "U team T"), "a team has no units under it"),
        (("T team -",), "a team must sit under a unit"),
        (("P province -", "C commune NOPE"), "not a known unit"),
        (("P province -", "P commune P"), "duplicate"),
    ],
)
def test_registry_refuses_what_is_not_a_forest_of_levels(rows, message):
    with pytest.raises(OrgError, match=message):
        OrgRegistry(units(*rows))
