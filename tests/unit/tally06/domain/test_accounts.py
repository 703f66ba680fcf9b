"""Which units a role may be attached to, on the maps a deployment uses today."""

from tally06.domain.accounts import ROLE_UNIT_KINDS, Role, lock_seconds, role_fits, role_unit_problem
from tally06.domain.org import UnitKind

COUNTRY, PROVINCE, DISTRICT, COMMUNE, VILLAGE, TEAM = (UnitKind.COUNTRY, UnitKind.PROVINCE, UnitKind.DISTRICT,
                                                       UnitKind.COMMUNE, UnitKind.VILLAGE, UnitKind.TEAM)

# Written out per role, not derived from the table under test.
ALLOWED = {
    Role.TEAM_LEAD: {TEAM},
    Role.COMMUNE_FOCAL: {COMMUNE},
    Role.DISTRICT_FOCAL: {DISTRICT},
    Role.PROVINCE_OPERATOR: {PROVINCE, COUNTRY},
    Role.ADMIN: {PROVINCE, COUNTRY},
}


def test_every_role_fits_exactly_its_kinds():
    for role in Role:
        assert {kind for kind in UnitKind if role_fits(role, kind)} == ALLOWED[role], role


def test_a_national_view_is_a_province_operator_or_admin_at_the_country_root():
    assert role_unit_problem(Role.PROVINCE_OPERATOR, "VN", COUNTRY) is None
    assert role_unit_problem(Role.ADMIN, "VN", COUNTRY) is None
    assert role_unit_problem(Role.COMMUNE_FOCAL, "VN", COUNTRY) == (
        "a commune_focal belongs to a commune, and VN is a country")


def test_a_commune_focal_point_fits_a_commune_whatever_sits_above_it():
    # The kind is all the rule looks at: a commune under a district (2023) or under a two-tier province.
    assert role_fits(Role.COMMUNE_FOCAL, COMMUNE)
    assert not role_fits(Role.COMMUNE_FOCAL, VILLAGE)


def test_a_district_focal_point_needs_a_district():
    assert role_unit_problem(Role.DISTRICT_FOCAL, "TH-X001", COMMUNE) == (
        "a district_focal belongs to a district, and TH-X001 is a commune")
    assert role_unit_problem(Role.PROVINCE_OPERATOR, "TH-03", DISTRICT) == (
        "a province_operator belongs to a country or province, and TH-03 is a district")


def test_the_single_kind_each_role_was_made_for_is_one_of_its_kinds():
    assert set(ROLE_UNIT_KINDS) == set(Role)


def test_lockout_doubles_to_a_cap():
    assert [lock_seconds(n) for n in (0, 4, 5, 6, 7)] == [0, 0, 30, 60, 120]
    assert lock_seconds(40) == 15 * 60
