"""Daily series: quiet days are days of 0, windows end today."""

import datetime as dt

from tally06_wallboard.trend import fill_days, whole_days_before, window

D = dt.date


def test_missing_days_are_filled_with_zero():
    values = {D(2024, 10, 20): 5, D(2024, 10, 23): 7}
    assert fill_days(values, D(2024, 10, 19), D(2024, 10, 24)) == [
        (D(2024, 10, 19), 0), (D(2024, 10, 20), 5), (D(2024, 10, 21), 0),
        (D(2024, 10, 22), 0), (D(2024, 10, 23), 7), (D(2024, 10, 24), 0),
    ]


def test_values_outside_the_window_are_left_out():
    assert fill_days({D(2024, 1, 1): 9, D(2024, 1, 3): 4}, D(2024, 1, 2), D(2024, 1, 3)) == [
        (D(2024, 1, 2), 0), (D(2024, 1, 3), 4)]


def test_a_window_across_a_month_end():
    first, last = window(D(2024, 11, 3), 14)
    assert (first, last) == (D(2024, 10, 21), D(2024, 11, 3))
    assert len(fill_days({}, first, last)) == 14


def test_the_run_rate_window_is_the_whole_days_before_today():
    assert whole_days_before(D(2024, 10, 25), 7) == (D(2024, 10, 18), D(2024, 10, 24))
