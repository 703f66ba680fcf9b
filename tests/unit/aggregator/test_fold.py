import datetime as dt

import orjson
import pytest

from tally06.contract.events import FACT_FIELDS, FactRows, ProgressChange
from tally06_aggregator.decode import decode_batch
from tally06_aggregator.exceptions import UnknownSchema
from tally06_aggregator.fold import Step, expand, fold
from tally06_aggregator.progress import progress_messages, snapshot_messages


def fact(seq, *, team="TH-03-C01-T1", officer="CA-1", day="2024-10-25", metric="activated_l1", credited=True):
    commune = team.rsplit("-", 1)[0]
    district = commune.rsplit("-", 1)[0]
    values = {"seq": seq, "event_id": "e", "type": "account_activated", "level": 1, "metric": metric,
              "occurred_at": f"{day}T09:00:00+07:00", "day": day, "received_at": f"{day}T02:00:00+00:00",
              "team": team, "officer": officer, "citizen_key": "c", "credited": credited, "map": 1,
              "lineage": ["TH", district, commune, team]}
    return [values[name] for name in FACT_FIELDS]


def test_counts_every_level_of_the_hierarchy():
    deltas, moved = fold([FactRows("TH-03", [fact(1), fact(2, credited=False)])], {})
    for unit in ("TH", "TH-03", "TH-03-C01", "TH-03-C01-T1"):
        assert deltas.unit_daily[(unit, "2024-10-25", "activated_l1")] == [1, 1]
        assert deltas.unit_total[(unit, "activated_l1")] == [1, 1]
    assert deltas.officer_total[("TH-03-C01-T1", "CA-1", "activated_l1")] == [1, 1]
    assert moved == {"TH-03": 2}


def test_facts_at_or_below_the_position_are_skipped():
    batch = FactRows("TH-03", [fact(4), fact(5), fact(9)])
    deltas, moved = fold([batch], {"TH-03": 5})
    assert (deltas.applied, deltas.skipped) == (1, 2)
    assert moved == {"TH-03": 9}


def test_a_redelivered_batch_in_the_same_step_counts_once():
    batch = FactRows("TH-03", [fact(1), fact(2)])
    deltas, moved = fold([batch, batch], {})
    assert deltas.unit_total[("TH", "activated_l1")] == [2, 0]
    assert deltas.skipped == 2


def test_keys_have_their_own_positions():
    deltas, moved = fold([FactRows("TH-03", [fact(7)]), FactRows("TH-01", [fact(3, team="TH-01-C01-T1")])], {"TH-03": 6, "TH-01": 0})
    assert moved == {"TH-03": 7, "TH-01": 3}
    assert deltas.unit_total[("TH", "activated_l1")] == [2, 0]


def test_late_events_count_on_their_own_day():
    deltas, _ = fold([FactRows("TH-03", [fact(1, day="2024-10-20"), fact(2)])], {})
    assert deltas.unit_daily[("TH-03", "2024-10-20", "activated_l1")] == [1, 0]
    assert deltas.unit_daily[("TH-03", "2024-10-25", "activated_l1")] == [1, 0]


def test_a_batch_after_facts_never_seen_is_held_back():
    # Position 5, but the batch follows fact 7 of the key: fact 7 (and maybe more) was missed.
    deltas, moved = fold([FactRows("TH-03", [fact(9), fact(12)], prev_seq=7)], {"TH-03": 5})
    assert (deltas.applied, deltas.skipped, moved) == (0, 2, {})
    assert deltas.gaps == [("TH-03", 7, 5)]


def test_chained_batches_apply_in_one_step_and_overlaps_are_skipped():
    batches = [FactRows("TH-03", [fact(6), fact(7)], prev_seq=5), FactRows("TH-03", [fact(9)], prev_seq=7),
               FactRows("TH-03", [fact(6), fact(7), fact(9), fact(11)], prev_seq=5)]
    deltas, moved = fold(batches, {"TH-03": 5})
    assert (deltas.applied, deltas.skipped, deltas.gaps) == (4, 3, [])
    assert moved == {"TH-03": 11}


def test_a_held_back_batch_counts_once_the_missing_facts_came():
    late = FactRows("TH-03", [fact(9)], prev_seq=7)
    deltas, moved = fold([late, FactRows("TH-03", [fact(6), fact(7)], prev_seq=5), late], {"TH-03": 5})
    assert (deltas.applied, len(deltas.gaps), moved) == (3, 1, {"TH-03": 9})


def test_nothing_new_is_falsy():
    deltas, moved = fold([FactRows("TH-03", [fact(1)])], {"TH-03": 1})
    assert not deltas and moved == {}


def test_decode_refuses_unknown_schema():
    with pytest.raises(UnknownSchema):
        decode_batch(orjson.dumps({"schema_version": 3, "key": "TH-03", "fields": FACT_FIELDS, "rows": []}))
    with pytest.raises(UnknownSchema):
        decode_batch(orjson.dumps({"schema_version": 1, "key": "TH-03", "fields": ["seq"], "rows": []}))


def test_progress_messages_match_the_contract():
    day = dt.date(2024, 10, 25)
    daily = [{"unit": "TH-03", "day": day, "metric": "activated_l1", "credited": 5, "claims": 1, "version": 9}]
    total = [{"unit": "TH-03", "metric": "activated_l1", "credited": 50, "claims": 2, "version": 10}]
    [(key, value)] = progress_messages(daily, total, dt.datetime(2024, 10, 25, 3, tzinfo=dt.UTC))
    change = ProgressChange.model_validate_json(value)
    assert key == b"TH-03"
    assert change.daily["activated_l1"].credited == 5
    assert change.total["activated_l1"].version == 10


def test_a_snapshot_gives_every_unit_with_or_without_work_today():
    day = dt.date(2025, 7, 1)
    daily = [{"unit": "TH-M01", "day": day, "metric": "activated_l1", "credited": 2, "claims": 0, "version": 31}]
    total = [{"unit": "TH-M01", "metric": "activated_l1", "credited": 70, "claims": 3, "version": 32},
             {"unit": "TH", "metric": "activated_l1", "credited": 900, "claims": 9, "version": 33}]
    changes = [ProgressChange.model_validate_json(value)
               for _, value in snapshot_messages(daily, total, day, dt.datetime(2025, 7, 1, 3, tzinfo=dt.UTC))]
    assert [(c.unit, c.day) for c in changes] == [("TH", day), ("TH-M01", day)]
    assert changes[0].daily == {} and changes[0].total["activated_l1"].credited == 900
    assert changes[1].daily["activated_l1"].credited == 2 and changes[1].total["activated_l1"].claims == 3


def test_a_step_folds_on_arrival_from_the_positions_the_worker_expects():
    step = Step()
    first = FactRows("TH-03", [fact(4), fact(5)])
    step.add([first], [b"first"], {"TH-03": 3})
    step.add([FactRows("TH-03", [fact(5), fact(7)]), FactRows("TH-05", [fact(2, team="TH-05-C01-T1")])],
             [b"second", b"third"], {"TH-03": 99})  # expected positions of keys already in the step are ignored
    assert step.start == {"TH-03": 3, "TH-05": 0}
    assert step.end == {"TH-03": 7, "TH-05": 2}
    assert (step.raw, step.facts) == ([b"first", b"second", b"third"], 5)
    deltas = expand(step.counted)
    assert (deltas.applied, deltas.skipped) == (4, 1)
    assert deltas.unit_total[("TH", "activated_l1")] == [4, 0]


def test_step_and_one_fold_agree():
    batches = [FactRows("TH-03", [fact(s, credited=s % 3 > 0, day=f"2024-10-2{s % 5}") for s in range(1, 40)]),
               FactRows("TH-03", [fact(s) for s in range(30, 45)], prev_seq=29),
               FactRows("TH-07", [fact(s, team="TH-07-C02-T3") for s in range(5, 9)], prev_seq=4)]
    step = Step()
    for batch in batches:
        step.add([batch], [b""], {"TH-07": 4})
    whole, moved = fold(batches, {"TH-07": 4})
    assert expand(step.counted) == whole
    assert step.end == moved
