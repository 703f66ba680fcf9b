"""Only counters that moved forward are passed on to boards."""

from tally06_wallboard.versions import NewestOnly


def change(unit, day, daily, total):
    return {"unit": unit, "day": day, "as_of": "x",
            "daily": {m: {"credited": c, "claims": 0, "version": v} for m, (c, v) in daily.items()},
            "total": {m: {"credited": c, "claims": 0, "version": v} for m, (c, v) in total.items()}}


def test_older_versions_are_dropped_per_counter():
    newest = NewestOnly()
    first = change("T1", "2026-11-20", {"activated_l1": (3, 10)}, {"activated_l1": (9, 11)})
    assert newest.newer(first) == first
    # Redelivered: nothing new.
    assert newest.newer(first) is None
    # One counter moved, one is old: only the moved one is passed on.
    mixed = change("T1", "2026-11-20", {"activated_l1": (2, 5)}, {"activated_l1": (10, 12)})
    assert newest.newer(mixed)["daily"] == {}
    assert newest.newer(change("T1", "2026-11-20", {}, {"activated_l1": (10, 12)})) is None


def test_days_and_units_are_kept_apart():
    newest = NewestOnly()
    assert newest.newer(change("T1", "2026-11-20", {"installed": (1, 7)}, {}))
    assert newest.newer(change("T1", "2026-11-19", {"installed": (1, 3)}, {}))  # another day
    assert newest.newer(change("T2", "2026-11-20", {"installed": (1, 3)}, {}))  # another unit


def test_the_memory_cap_forgets_rather_than_grows():
    newest = NewestOnly(max_entries=2)
    for n in range(5):
        newest.newer(change(f"T{n}", "d", {"installed": (1, 1)}, {}))
    assert len(newest._seen) <= 3
