from tally06.contract.events import Metric
from tally06.domain.metrics import metrics_of
from tally06.domain.targets import DailyTarget
from tally06.imports.daily_targets_csv import parse_daily_targets_csv
from tally06.imports.reference import demo_org
from tally06.simulator.plan import demo_daily_targets

HEADER = "unit_code,metric,target\n"


def test_families_and_single_metrics():
    assert metrics_of("activated") == (Metric.ACTIVATED_L1, Metric.ACTIVATED_L2)
    assert metrics_of("approved_l2") == (Metric.APPROVED_L2,)


def test_valid_rows():
    targets, errors = parse_daily_targets_csv(HEADER + "TH-03-C01-T1,activated,40\nTH-03-C01,collected_l2,120\n", demo_org())
    assert errors == []
    assert targets == [DailyTarget("TH-03-C01-T1", "activated", 40), DailyTarget("TH-03-C01", "collected_l2", 120)]


def test_any_level_may_have_a_daily_target():
    text = HEADER + "TH,activated,9000\nTH-03,activated,400\nTH-03-C01,activated,40\nTH-03-C01-T1,activated,12\n"
    targets, errors = parse_daily_targets_csv(text, demo_org())
    assert errors == []
    assert [t.unit_code for t in targets] == ["TH", "TH-03", "TH-03-C01", "TH-03-C01-T1"]


def test_bad_rows_are_reported_with_row_and_field():
    text = HEADER + ("TH-03-C01-T1,activated,40\n"
                     "TH-99,activated,40\n"          # not a unit of the map
                     "TH-03-C01-T2,coffee,5\n"
                     "TH-03-C01-T3,activated,-1\n"
                     "TH-03-C01-T1,activated,41\n")
    targets, errors = parse_daily_targets_csv(text, demo_org())
    assert [t.unit_code for t in targets] == ["TH-03-C01-T1"]
    assert [(e.row, e.field) for e in errors] == [(3, "unit_code"), (4, "metric"), (5, "target"), (6, "unit_code")]
    assert errors[0].message == "'TH-99' is not a known unit"


def test_wrong_header():
    assert parse_daily_targets_csv("team,target\n", demo_org())[1][0].field == "header"


def test_demo_targets_cover_every_team_within_the_planned_range():
    targets = demo_daily_targets()
    assert len(targets) == 501
    assert all(round(15 * 0.75) <= t.target <= round(80 * 0.75) and t.metric == "activated" for t in targets)
