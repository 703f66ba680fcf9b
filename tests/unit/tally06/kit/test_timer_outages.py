"""Timers that touch PostgreSQL skip a tick while it is away instead of ending for good."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tally06.kit.faust_app import waits_out_database_outages


@pytest.mark.parametrize("error", [asyncpg.CannotConnectNowError("the database system is starting up"),
                                   ConnectionRefusedError(111, "refused"), asyncio.TimeoutError()])
def test_a_database_away_skips_the_tick(error: Exception):
    calls = []

    @waits_out_database_outages
    async def tick() -> None:
        calls.append(1)
        raise error

    asyncio.run(tick())
    asyncio.run(tick())
    assert calls == [1, 1]
    assert tick.__name__ == "tick"  # Faust names the timer after it


def test_a_bug_still_surfaces():
    @waits_out_database_outages
    async def tick() -> None:
        raise KeyError("unit")

    with pytest.raises(KeyError):
        asyncio.run(tick())
