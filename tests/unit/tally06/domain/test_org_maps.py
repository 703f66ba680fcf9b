"""Reorganisations: which team of the new map holds the work of every team code ever used, and
the problems a mapping must not hide. Expected holders and lineages are written out by hand."""

import datetime as dt

import pytest

from tally06.domain.exceptions import OrgError
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.org_maps import BEGINNING, Change, MappingRow, OrgMap, first_map, in_force, reorganise


def registry(*rows: str) -> OrgRegistry:
    """Units from 'code kind parent' strings (parent '-' for a root)."""
    units = []
    for row in rows:
        code, kind, parent = row.split()
        units.append(Unit(code, f"name of {code}", UnitKind(kind), None if parent == "-" else parent))
    return OrgRegistry(units)


def mapping(*rows: str, first_row: int = 2) -> list[MappingRow]:
    """Rows from 'old new change' strings, numbered as lines of a file after its header."""
    found = []
    for number, row in enumerate(rows, start=first_row):
        old, new, change = row.split()
        found.append(MappingRow(number, old, new, Change(change)))
    return found


# 2023: a province with two districts and five communes.
MAP_2023 = first_map(registry(
    "P province -",
    "D1 district P", "C1 commune D1", "C1-T1 team C1", "C1-T2 team C1", "C2 commune D1", "C2-T1 team C2",
    "D2 district P", "C3 commune D2", "C3-T1 team C3", "C3-T2 team C3", "C4 commune D2", "C4-T1 team C4",
    "C5 commune D2", "C5-T1 team C5",
))

# Two-tier: districts gone; C2 merged into C1; C3 split by team into C3A and C3B; C4 renamed C4N;
# the team C5-T1 renamed C5-T9.
TWO_TIER = registry(
    "P province -",
    "C1 commune P", "C1-T1 team C1", "C1-T2 team C1", "C2-T1 team C1",
    "C3A commune P", "C3-T1 team C3A",
    "C3B commune P", "C3-T2 team C3B",
    "C4N commune P", "C4-T1 team C4N",
    "C5 commune P", "C5-T9 team C5",
)
TWO_TIER_MAPPING = mapping(
    "D1 P dissolve", "D2 P dissolve", "C2 C1 merge", "C3 C3A split", "C3 C3B split", "C4 C4N rename",
    "C5-T1 C5-T9 rename",
)


def test_two_tier_reorganisation_holders_and_lineages():
    holders = reorganise(MAP_2023, TWO_TIER, TWO_TIER_MAPPING)
    assert holders == {"C5-T1": "C5-T9"}  # every other team kept its code
    new = OrgMap(1, dt.date(2025, 7, 1), TWO_TIER, holders)
    expected = {
        "C1-T1": ("P", "C1", "C1-T1"), "C1-T2": ("P", "C1", "C1-T2"), "C2-T1": ("P", "C1", "C2-T1"),
        "C3-T1": ("P", "C3A", "C3-T1"), "C3-T2": ("P", "C3B", "C3-T2"), "C4-T1": ("P", "C4N", "C4-T1"),
        "C5-T1": ("P", "C5", "C5-T9"), "C5-T9": ("P", "C5", "C5-T9"),
    }
    assert {team: new.lineage(team).codes for team in expected} == expected
    # The merged commune holds the work of the communes merged into it.
    assert TWO_TIER.teams_under("C1") == ["C1-T1", "C1-T2", "C2-T1"]
    assert new.lineage("C5-T1").district is None


def test_holders_compose_across_three_maps():
    map2 = OrgMap(2, dt.date(2025, 7, 1), TWO_TIER, reorganise(MAP_2023, TWO_TIER, TWO_TIER_MAPPING))
    # Map 3: C5 (whose team was renamed in map 2) merged into C4N, and its team renamed once more.
    map3_units = registry("P province -", "C1 commune P", "C1-T1 team C1", "C1-T2 team C1", "C2-T1 team C1",
                          "C3A commune P", "C3-T1 team C3A", "C3B commune P", "C3-T2 team C3B",
                          "C4N commune P", "C4-T1 team C4N", "C4N-T2 team C4N")
    holders = reorganise(map2, map3_units, mapping("C5 C4N merge", "C5-T9 C4N-T2 rename"))
    assert holders == {"C5-T1": "C4N-T2", "C5-T9": "C4N-T2"}
    map3 = OrgMap(3, dt.date(2026, 1, 1), map3_units, holders)
    assert map3.lineage("C5-T1").codes == ("P", "C4N", "C4N-T2")  # the 2023 code still resolves
    assert map3.lineage("C5-T9").codes == ("P", "C4N", "C4N-T2")
    assert map3.lineage("C4-T1").codes == ("P", "C4N", "C4-T1")


def test_a_merge_keeping_the_team_codes_composes_too():
    map2 = OrgMap(2, dt.date(2025, 7, 1), TWO_TIER, reorganise(MAP_2023, TWO_TIER, TWO_TIER_MAPPING))
    map3_units = registry("P province -", "C1 commune P", "C1-T1 team C1", "C1-T2 team C1", "C2-T1 team C1",
                          "C3A commune P", "C3-T1 team C3A", "C3B commune P", "C3-T2 team C3B",
                          "C4N commune P", "C4-T1 team C4N", "C5-T9 team C4N")
    map3 = OrgMap(3, dt.date(2026, 1, 1), map3_units, reorganise(map2, map3_units, mapping("C5 C4N merge")))
    assert map3.holders == {"C5-T1": "C5-T9"}
    assert map3.lineage("C5-T1").codes == ("P", "C4N", "C5-T9")


def test_a_team_renamed_into_a_team_that_exists_gives_it_its_work():
    # C1-T2 joins C1-T1: its code is gone, the rename row names the team that took over.
    joined = registry(*(f"{u.code} {u.kind.value} {u.parent_code or '-'}" for u in TWO_TIER.units()
                        if u.code != "C1-T2"))
    holders = reorganise(MAP_2023, joined, [*TWO_TIER_MAPPING, *mapping("C1-T2 C1-T1 rename", first_row=9)])
    assert holders == {"C5-T1": "C5-T9", "C1-T2": "C1-T1"}
    assert OrgMap(2, dt.date(2025, 7, 1), joined, holders).lineage("C1-T2").codes == ("P", "C1", "C1-T1")


def test_unchanged_codes_need_no_mapping():
    same = registry(*(f"{u.code} {u.kind.value} {u.parent_code or '-'}" for u in MAP_2023.registry.units()))
    assert reorganise(MAP_2023, same, []) == {}


def problems(new: OrgRegistry, rows: list[MappingRow], old: OrgMap = MAP_2023) -> str:
    with pytest.raises(OrgError) as raised:
        reorganise(old, new, rows)
    return str(raised.value)


def test_mapping_naming_unknown_units():
    message = problems(TWO_TIER, [*TWO_TIER_MAPPING, *mapping("C9 C1 merge", "C2 C7 merge", first_row=9)])
    assert "mapping row 9: old unit 'C9' is not in the map in force" in message
    assert "mapping row 10: new unit 'C7' is not in the new map" in message


def test_an_old_unit_dropped_without_a_mapping_row():
    message = problems(TWO_TIER, [r for r in TWO_TIER_MAPPING if r.old_code != "D2"])
    assert "unit D2 (name of D2) is not in the new map and the mapping does not say what became of it" in message


def test_a_team_without_a_team_in_the_new_map():
    without = registry(*(f"{u.code} {u.kind.value} {u.parent_code or '-'}" for u in TWO_TIER.units()
                         if u.code != "C4-T1"))
    message = problems(without, TWO_TIER_MAPPING)
    assert "team C4-T1 has no team in the new map" in message


def test_a_renamed_team_must_map_to_a_team():
    rows = [r for r in TWO_TIER_MAPPING if r.old_code != "C5-T1"] + mapping("C5-T1 C5 rename", first_row=8)
    message = problems(TWO_TIER, rows)
    assert "team C5-T1 has no team in the new map" in message
    assert "mapping row 8: team C5-T1 must map to a team" in message


def test_a_merge_whose_teams_now_sit_elsewhere():
    # C2-T1 is put under C3A, but row 4 says C2 was merged into C1.
    elsewhere = registry(*(f"{u.code} {u.kind.value} {'C3A' if u.code == 'C2-T1' else u.parent_code or '-'}"
                           for u in TWO_TIER.units()))
    message = problems(elsewhere, TWO_TIER_MAPPING)
    assert TWO_TIER_MAPPING[2].row == 4
    assert "mapping row 4: team C2-T1 of C2 now sits under C3A, not under C1" in message


def test_in_force_is_the_latest_map_that_took_effect():
    first = first_map(MAP_2023.registry)
    july = OrgMap(2, dt.date(2025, 7, 1), TWO_TIER)
    july_again = OrgMap(3, dt.date(2025, 7, 1), TWO_TIER)
    later = OrgMap(4, dt.date(2026, 1, 1), TWO_TIER)
    maps = [first, july, july_again, later]
    assert first.effective_from == BEGINNING
    assert in_force(maps, dt.date(2025, 6, 30)) is first
    assert in_force(maps, dt.date(2025, 7, 1)) is july_again  # two loads for one day: the later wins
    assert in_force(maps, dt.date(2025, 12, 31)) is july_again
    assert in_force(maps, dt.date(2026, 1, 1)) is later
    assert in_force([july], dt.date(2025, 1, 1)) is None
    assert in_force([], dt.date(2025, 1, 1)) is None


def _chain_maps():
    """Map 1: P → C → A; map 2 renames team A to B."""
    first = OrgMap(1, dt.date(2024, 1, 1), OrgRegistry([
        Unit("P", "P", UnitKind.PROVINCE, None), Unit("C", "C", UnitKind.COMMUNE, "P"),
        Unit("A", "A", UnitKind.TEAM, "C")]))
    second_units = OrgRegistry([Unit("P", "P", UnitKind.PROVINCE, None), Unit("C", "C", UnitKind.COMMUNE, "P"),
                                Unit("B", "B", UnitKind.TEAM, "C")])
    holders = reorganise(first, second_units, [MappingRow(2, "A", "B", Change.RENAME)])
    return OrgMap(2, dt.date(2025, 7, 1), second_units, holders)


def test_a_new_team_may_not_reuse_the_code_of_a_renamed_one():

    second = _chain_maps()
    third = OrgRegistry([Unit("P", "P", UnitKind.PROVINCE, None), Unit("C", "C", UnitKind.COMMUNE, "P"),
                         Unit("B", "B", UnitKind.TEAM, "C"), Unit("A", "A again", UnitKind.TEAM, "C")])
    with pytest.raises(OrgError, match="team A of the new map reuses the code of an earlier team whose work B holds"):
        reorganise(second, third, [])


def test_a_mapping_row_naming_an_earlier_maps_code_is_refused():

    second = _chain_maps()
    third = OrgRegistry([Unit("P", "P", UnitKind.PROVINCE, None), Unit("C", "C", UnitKind.COMMUNE, "P"),
                         Unit("D", "D", UnitKind.TEAM, "C")])
    with pytest.raises(OrgError, match="mapping row 2: A is a code of an earlier map, whose work B holds now; map B"):
        reorganise(second, third, [MappingRow(2, "A", "D", Change.RENAME)])
    assert reorganise(second, third, [MappingRow(2, "B", "D", Change.RENAME)]) == {"A": "D", "B": "D"}
