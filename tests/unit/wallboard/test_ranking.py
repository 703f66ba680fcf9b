"""Rankings and rank change since the start of the local day, with exact figures."""

from fractions import Fraction

from tally06_wallboard.ranking import Place, Standing, basis_for, competition_ranks, rank_units


def test_equal_scores_share_a_rank_and_the_next_rank_skips():
    assert competition_ranks({"a": 5, "b": 9, "c": 5, "d": 1}) == {"b": 1, "a": 2, "c": 2, "d": 4}
    assert competition_ranks({}) == {}


def test_districts_are_ranked_by_completion_of_their_target():
    standings = [
        # code, cumulative, today, target
        Standing("TH-01", 300, 0, 1000),    # 30 % all day
        Standing("TH-02", 250, 100, 500),   # 50 % now, 30 % at the start of the day
        Standing("TH-03", 200, 20, 2000),   # 10 % now, 9 % at the start
    ]
    basis, places = rank_units(standings)
    assert basis == "completion_pct"
    # Start of day: TH-01 and TH-02 both at 30 % share rank 1, TH-03 third.
    assert places == {
        "TH-02": Place(rank=1, rank_start_of_day=1, rank_change=0),
        "TH-01": Place(rank=2, rank_start_of_day=1, rank_change=-1),
        "TH-03": Place(rank=3, rank_start_of_day=3, rank_change=0),
    }


def test_climbing_past_others_today():
    standings = [Standing("a", 10, 0, 100), Standing("b", 9, 0, 100), Standing("c", 12, 8, 100)]
    _, places = rank_units(standings)
    assert places["c"] == Place(1, 3, 2)
    assert places["a"] == Place(2, 1, -1)
    assert places["b"] == Place(3, 2, -1)


def test_exact_fractions_tell_apart_what_rounds_to_the_same_percent():
    # 7.641 % and 7.644 % both print as 7.64 %, yet one is ahead.
    standings = [Standing("x", 7641, 0, 100_000), Standing("y", 7644, 0, 100_000)]
    assert rank_units(standings)[1]["y"].rank == 1
    assert Fraction(7644, 100_000) > Fraction(7641, 100_000)


def test_units_without_targets_are_ranked_by_activations():
    standings = [Standing("T1", 40, 30, None), Standing("T2", 25, 0, 50), Standing("T3", 25, 5, None)]
    assert basis_for(standings) == "activated"
    _, places = rank_units(standings)
    # Start of day: T2 25, T3 20, T1 10.
    assert places == {"T1": Place(1, 3, 2), "T2": Place(2, 1, -1), "T3": Place(2, 2, 0)}


def test_a_zero_target_means_no_completion_basis():
    assert basis_for([Standing("a", 1, 0, 0), Standing("b", 1, 0, 10)]) == "activated"
    assert basis_for([]) == "activated"
