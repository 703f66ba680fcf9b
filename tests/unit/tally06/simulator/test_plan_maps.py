"""Team plans in both demo maps: the pace comes from the district's Appendix I row in the 2023
map and from the commune's share of it in the two-tier map, so a team keeps its pace."""

from __future__ import annotations

from tally06.imports.reference import appendix1, commune_targets, demo_org, two_tier_org
from tally06.simulator.plan import CAMPAIGN_DAYS, demo_daily_targets, plan_teams


def test_two_tier_plans_draw_their_pace_from_the_commune():
    communes = {t.code: t for t in commune_targets()}
    org = two_tier_org()
    plans = plan_teams(org, seed=6)
    assert len(plans) == 501
    for plan in plans:
        assert plan.area == plan.commune == org.lineage(plan.team).commune
        target = communes[plan.area]
        assert plan.level2_share == round(target.target_level2 / target.target_total, 4)
    # Unclamped, a team's base is its commune's remaining over its teams and the campaign days.
    sample = next(p for p in plans if 15 < p.daily_target < 80)
    target = communes[sample.area]
    base = target.remaining / len(org.teams_under(sample.area)) / CAMPAIGN_DAYS
    assert 0.85 * base - 0.5 <= sample.daily_target <= 1.15 * base + 0.5


def test_2023_plans_draw_their_pace_from_the_district():
    districts = {d.code: d for d in appendix1()}
    for plan in plan_teams(demo_org(), seed=6):
        assert plan.area == plan.team[:5] and plan.area in districts


def test_a_team_keeps_its_role_officers_and_nearly_its_target_across_the_maps():
    old, new = plan_teams(demo_org(), seed=6), plan_teams(two_tier_org(), seed=6)
    assert [p.team for p in old] == [p.team for p in new]
    for a, b in zip(old, new, strict=True):
        assert (a.role, a.rate_factor, a.officers) == (b.role, b.rate_factor, b.officers)
        assert abs(a.daily_target - b.daily_target) <= 1  # commune shares are rounded to accounts
    assert len(demo_daily_targets(org=two_tier_org())) == len(demo_daily_targets()) == 501
