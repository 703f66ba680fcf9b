"""Held-back messages and the partitions read again for them: pure, no broker."""

from __future__ import annotations

from tally06_aggregator.reread import held_back, partitions_to_reread

P0, P1, P2 = ("facts", 0), ("facts", 1), ("facts", 2)


def test_the_messages_a_step_held_back_are_the_ones_its_gaps_name():
    step = [("TH-10-C01", 520), ("TH-10-C01", 1600), ("TH-13-C01", None), ("TH-13-C01", 720)]
    gaps = [("TH-10-C01", 1600, 520), ("TH-13-C01", 720, 0)]
    assert held_back(step, gaps) == [False, True, False, True]
    assert held_back(step, []) == [False] * 4


def test_partitions_with_held_back_messages_still_assigned_and_quiet_long_enough():
    assert partitions_to_reread({P0, P1}, {P0, P1, P2}, {}, 100.0, 5.0) == [P0, P1]
    assert partitions_to_reread({P1}, {P0, P2}, {}, 100.0, 5.0) == []  # P1 moved: its new worker reads it
    last = {P0: 97.0, P1: 90.0}
    assert partitions_to_reread({P0, P1}, {P0, P1}, last, 100.0, 5.0) == [P1]
    assert partitions_to_reread({P0}, {P0, P1}, last, 102.0, 5.0) == [P0]
