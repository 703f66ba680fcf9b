"""The demo's two-tier map of Thanh Hóa: 166 communes under the province, the 2023 teams under
them, a mapping the domain accepts, and commune targets that add up to Appendix I."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import pytest

from tally06.domain.org import UnitKind
from tally06.domain.org_maps import Change, first_map, reorganise
from tally06.imports import reference
from tally06.imports.reference import (
    PROVINCE_CODE,
    appendix1,
    apportion,
    commune_targets,
    demo_org,
    two_tier_communes,
    two_tier_mapping,
    two_tier_org,
    two_tier_targets,
)


def old_commune_of(team: str) -> str:
    return team.rsplit("-", 1)[0]  # TH-03-C02-T3 → TH-03-C02, by the 2023 demo's code scheme


def test_166_communes_directly_under_the_province_and_no_districts():
    org = two_tier_org()
    assert [u.code for u in org.roots()] == [PROVINCE_CODE]
    assert org.kinds() == [UnitKind.PROVINCE, UnitKind.COMMUNE, UnitKind.TEAM]
    communes = org.units(UnitKind.COMMUNE)
    assert len(communes) == 166
    assert all(c.parent_code == PROVINCE_CODE for c in communes)
    assert len({c.name for c in communes}) == 166
    assert all(c.name.split()[0] in ("Xã", "Phường") for c in communes)


def test_every_2023_team_keeps_its_code_under_a_commune_of_its_district():
    old, new = demo_org(), two_tier_org()
    old_teams = {t.code for t in old.units(UnitKind.TEAM)}
    assert {t.code for t in new.units(UnitKind.TEAM)} == old_teams
    assert len(old_teams) == 501
    by_code = {c.code: c for c in two_tier_communes()}
    for team in old_teams:
        commune = new.lineage(team).commune
        assert old_commune_of(team) in by_code[commune].old_communes
        assert by_code[commune].district == old.lineage(team).district


def test_communes_per_district_follow_the_number_of_2023_communes():
    """Largest remainder: each district gets the floor of its quota or one more, and 166 in all."""
    old = demo_org()
    counts = {d.code: len(old.children(d.code)) for d in appendix1()}
    made = Counter(c.district for c in two_tier_communes())
    for district, n in counts.items():
        quota = Fraction(166 * n, sum(counts.values()))
        assert made[district] in (math.floor(quota), math.ceil(quota)), district
    assert sum(made.values()) == 166
    # Every 2023 commune goes into exactly one new commune of its own district.
    parts = [old_c for c in two_tier_communes() for old_c in c.old_communes]
    assert sorted(parts) == sorted(u.code for u in old.units(UnitKind.COMMUNE))
    assert all(p.startswith(c.district + "-") for c in two_tier_communes() for p in c.old_communes)
    # Runs of equal size, so no new commune is more than one 2023 commune larger than another
    # of the same district.
    for district in counts:
        sizes = [len(c.old_communes) for c in two_tier_communes() if c.district == district]
        assert max(sizes) - min(sizes) <= 1


def test_generated_names_come_from_the_district():
    samson = [c for c in two_tier_communes() if c.district == "TH-03"]
    assert [c.name for c in samson] == [f"Phường Sầm Sơn {n}" for n in range(1, len(samson) + 1)]
    assert all(c.name.startswith("Xã Mường Lát ") for c in two_tier_communes() if c.district == "TH-04")


def test_the_mapping_is_accepted_and_dissolves_merges_and_renames():
    rows = two_tier_mapping()
    holders = reorganise(first_map(demo_org()), two_tier_org(), rows)
    assert holders == {}  # every team keeps its code
    changes = Counter(r.change for r in rows)
    assert changes[Change.DISSOLVE] == 27 and changes[Change.MERGE] >= 2 and changes[Change.RENAME] >= 1
    assert {r.old_code for r in rows if r.change is Change.DISSOLVE} == {d.code for d in appendix1()}
    assert {r.new_code for r in rows if r.change is Change.DISSOLVE} == {PROVINCE_CODE}
    # A merge row's new commune holds several 2023 communes, a rename row's exactly one.
    into = Counter(r.new_code for r in rows if r.change is not Change.DISSOLVE)
    assert all(into[r.new_code] > 1 for r in rows if r.change is Change.MERGE)
    assert all(into[r.new_code] == 1 for r in rows if r.change is Change.RENAME)
    assert [r.row for r in rows] == list(range(2, len(rows) + 2))  # lines under a CSV header


def test_commune_targets_sum_to_appendix1_per_district_and_in_all():
    targets = commune_targets()
    assert [t.code for t in targets] == [c.code for c in two_tier_communes()]
    assert sum(t.target_total for t in targets) == 3_243_976
    for district in appendix1():
        mine = [t for t in targets if t.district == district.code]
        assert sum(t.target_total for t in mine) == district.target_total
        assert sum(t.target_level1 for t in mine) == district.target_level1
        assert sum(t.target_level2 for t in mine) == district.target_level2
        assert sum(t.activated_total for t in mine) == district.activated_total
        assert sum(t.remaining for t in mine) == district.remaining
    assert all(t.target_total == t.target_level1 + t.target_level2 for t in targets)


def test_commune_targets_follow_the_teams():
    """Each level's target is within one of the commune's exact share by teams."""
    org = two_tier_org()
    teams = {c.code: len(org.teams_under(c.code)) for c in org.units(UnitKind.COMMUNE)}
    districts = {d.code: d for d in appendix1()}
    in_district = Counter()
    for t in commune_targets():
        in_district[t.district] += teams[t.code]
    for t in commune_targets():
        d = districts[t.district]
        for mine, whole in ((t.target_level1, d.target_level1), (t.target_level2, d.target_level2)):
            assert abs(mine - Fraction(whole * teams[t.code], in_district[t.district])) < 1
    rows = two_tier_targets()
    assert [(r.unit_code, r.unit_name, r.total) for r in rows] == [
        (t.code, t.name, t.target_total) for t in commune_targets()]


def test_two_tier_functions_are_deterministic():
    first = (two_tier_communes(), two_tier_mapping(), commune_targets(), two_tier_org())
    for function in (reference.two_tier_communes, reference.two_tier_mapping, reference.commune_targets,
                     reference.two_tier_org):
        function.cache_clear()
    assert (two_tier_communes(), two_tier_mapping(), commune_targets(), two_tier_org()) == first


@pytest.mark.parametrize(("total", "weights", "expected"), [
    (10, [1, 1, 1], [4, 3, 3]),
    (7, [5, 0, 2], [5, 0, 2]),
    (100, [3, 3, 1], [43, 43, 14]),
    (0, [2, 5], [0, 0]),
])
def test_apportion_by_largest_remainder(total, weights, expected):
    assert apportion(total, weights) == expected


def test_apportion_needs_a_weight():
    with pytest.raises(ValueError, match="weights"):
        apportion(5, [0, 0])
