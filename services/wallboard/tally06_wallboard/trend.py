"""Daily series for the trend chart. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


def window(today: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """First and last day of ``days`` days ending with ``today``."""
    return today - dt.timedelta(days=days - 1), today


def fill_days(values: Mapping[dt.date, int], first: dt.date, last: dt.date) -> list[tuple[dt.date, int]]:
    """One value per day from ``first`` to ``last``; a day without any row is a day of 0, so the
    chart's bars line up with the calendar instead of skipping quiet days."""
    span = (last - first).days + 1
    return [(day, values.get(day, 0)) for day in (first + dt.timedelta(days=n) for n in range(span))]


def whole_days_before(today: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """The ``days`` complete days before today: the window a run rate averages."""
    return today - dt.timedelta(days=days), today - dt.timedelta(days=1)
