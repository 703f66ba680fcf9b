"""The org tree and sums of targets up the hierarchy, with exact figures."""

from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.targets import CampaignTarget
from tally06.imports.reference import demo_org
from tally06_wallboard.hierarchy import Tree, roll_up
from tally06_wallboard.targets import Goal, campaign_goals, daily_activation_targets, own_activation_targets

P, D, C, T = UnitKind.PROVINCE, UnitKind.DISTRICT, UnitKind.COMMUNE, UnitKind.TEAM

SMALL = Tree.of(OrgRegistry([
    Unit("P", "Province", P, None),
    Unit("D1", "District 1", D, "P"), Unit("D2", "District 2", D, "P"),
    Unit("C1", "Commune 1", C, "D1"), Unit("C2", "Commune 2", C, "D1"), Unit("C3", "Commune 3", C, "D2"),
    Unit("T1", "Team 1", T, "C1"), Unit("T2", "Team 2", T, "C1"),
    Unit("T3", "Team 3", T, "C2"), Unit("T4", "Team 4", T, "C2"),
    Unit("T5", "Team 5", T, "C3"),
]))


def test_tree_paths_children_and_subtrees():
    assert [u.code for u in SMALL.path("T3")] == ["P", "D1", "C2", "T3"]
    assert SMALL.kids("C1") == ("T1", "T2")
    assert SMALL.kids("T1") == ()
    assert sorted(SMALL.subtree("D1")) == ["C1", "C2", "D1", "T1", "T2", "T3", "T4"]
    assert SMALL.of_kind(UnitKind.TEAM, "D1") == ["T1", "T2", "T3", "T4"]
    assert SMALL.of_kind(UnitKind.COMMUNE) == ["C1", "C2", "C3"]
    assert [u.code for u in SMALL.roots()] == ["P"]
    # Children always come before their parents in the order sums are made in.
    order = SMALL.bottom_up
    assert all(order.index(code) < order.index(u.parent_code) for code, u in SMALL.units.items() if u.parent_code)


def test_sums_of_teams_up_to_the_province():
    sums = roll_up(SMALL, {"T1": 40, "T2": 15, "T3": 30, "T5": 7}, lambda a, b: a + b)
    assert sums == {"T1": 40, "T2": 15, "T3": 30, "T5": 7, "C1": 55, "C2": 30, "C3": 7, "D1": 85, "D2": 7, "P": 92}


def test_a_communes_own_target_replaces_the_sum_of_its_teams():
    sums = roll_up(SMALL, {"T1": 40, "T2": 15, "T3": 30, "T4": 30, "C2": 100}, lambda a, b: a + b)
    assert sums["C2"] == 100  # not 60
    assert sums["D1"] == 155
    assert sums["P"] == 155
    # Nothing below D2 has a target: it has none, which is not a target of 0.
    assert "D2" not in sums and "C3" not in sums


def test_a_target_of_zero_is_kept():
    assert roll_up(SMALL, {"T5": 0}, lambda a, b: a + b)["P"] == 0


def test_activation_targets_from_families_and_levels():
    rows = {
        ("T1", "activated"): 40,
        ("T2", "activated_l1"): 10, ("T2", "activated_l2"): 5,
        # The family covers both levels: the per-level target beside it is not added on top.
        ("T3", "activated"): 30, ("T3", "activated_l2"): 8,
        ("T4", "collected_l2"): 99,  # not an activation target
    }
    assert own_activation_targets(rows) == {"T1": 40, "T2": 15, "T3": 30}
    assert daily_activation_targets(SMALL, rows) == {"T1": 40, "T2": 15, "T3": 30, "C1": 55, "C2": 30, "D1": 85, "P": 85}


def test_campaign_goals_of_the_province_are_the_row_sums_of_appendix_1():
    from tally06.imports.reference import appendix1_targets

    tree = Tree.of(demo_org())
    goals = campaign_goals(tree, {t.unit_code: t for t in appendix1_targets()})
    # The printed totals row says 2,842,863 / 401,113; the rows sum to these.
    assert goals["TH"] == Goal(3_243_976, 2_842_865, 401_111)
    assert goals["TH-03"] == Goal(95_999, 81_917, 14_082)
    assert "TH-03-C01" not in goals  # Appendix I gives districts only


def test_goals_add_by_level():
    targets = {"T1": CampaignTarget("T1", "Team 1", 10, 7, 3), "T2": CampaignTarget("T2", "Team 2", 5, 1, 4)}
    assert campaign_goals(SMALL, targets)["P"] == Goal(15, 8, 7)


TWO_PROVINCES = [
    Unit("A", "Province A", P, None), Unit("A-C1", "Commune A1", C, "A"), Unit("A-C1-T1", "Team", T, "A-C1"),
    Unit("B", "Province B", P, None), Unit("B-D1", "District B1", D, "B"), Unit("B-D1-C1", "Commune B1", C, "B-D1"),
    Unit("B-D1-C1-T1", "Team", T, "B-D1-C1"),
]


def test_several_provinces_are_each_a_root_and_rank_what_sits_under_them():
    tree = Tree.of(OrgRegistry(TWO_PROVINCES))
    assert [u.code for u in tree.roots()] == ["A", "B"]
    assert tree.kinds() == [P, D, C, T]
    assert tree.ranked_kinds() == [D, C, T]  # provinces are roots: nothing ranks them
    assert [u.code for u in tree.path("A-C1-T1")] == ["A", "A-C1", "A-C1-T1"]
    assert tree.of_kind(C) == ["A-C1", "B-D1-C1"]
    assert tree.of_kind(D, "A") == []


def test_a_country_root_makes_provinces_a_ranked_level():
    tree = Tree.of(OrgRegistry([Unit("VN", "Việt Nam", UnitKind.COUNTRY, None),
                                *(Unit(u.code, u.name, u.kind, u.parent_code or "VN") for u in TWO_PROVINCES)]), 3)
    assert [u.code for u in tree.roots()] == ["VN"]
    assert tree.ranked_kinds() == [P, D, C, T]
    assert tree.map_id == 3
    assert [u.code for u in tree.path("B-D1-C1")] == ["VN", "B", "B-D1", "B-D1-C1"]
    goals = campaign_goals(tree, {"A-C1": CampaignTarget("A-C1", "Commune A1", 10, 6, 4),
                                  "B-D1": CampaignTarget("B-D1", "District B1", 30, 20, 10)})
    assert (goals["A"], goals["B"], goals["VN"]) == (Goal(10, 6, 4), Goal(30, 20, 10), Goal(40, 26, 14))


def test_an_empty_tree_before_any_map():
    tree = Tree.of_map(None)
    assert (tree.roots(), tree.kinds(), tree.map_id) == ([], [], None)
