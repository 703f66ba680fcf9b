"""The spot-check benchmark's code path, small and untimed (`make bench` is not run by the suite)."""

import asyncpg

from bench.spot_checks import PERIOD_TO, describe, run_spot_checks
from tally06.domain.spot_checks import reserve_count


async def test_spot_check_section_draws_and_records_and_prints_its_figures(database):
    # Checks its own population sizes and verdict, raises if wrong.
    result = await run_spot_checks(database, claims=3_000, commune_claims=600, outcomes_each=20)

    province, commune, recording = result["province"], result["commune"], result["recording"]
    assert (province["claims"], commune["claims"], province["n"], province["d"]) == (3_000, 600, 16, 2)
    assert province["drawn"] == commune["drawn"] == 16 + reserve_count(16)
    for figure in (province["draw_s"], province["select_s"], commune["draw_s"], commune["select_s"],
                   *province["parts_s"].values()):
        assert figure > 0
    for figures in (recording["record_outcome"], recording["plain_insert_update"]):
        assert figures["outcomes"] == 40 and 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        assert figures["per_s"] > 0
    assert recording["vs_plain_per_s"] > 0 and not result["full_size"]

    lines = describe(result)
    assert "NOT the full 1,000,000 claims" in lines[0] and "3,000 credited claims" in lines[0]
    assert "600 credited claims" in lines[1] and "SELECTed (seqs only)" in lines[1]
    assert any("2 verifiers × 20" in line and "outcomes/s" in line for line in lines)
    assert any("plain INSERT + UPDATE" in line for line in lines)

    # Independently of the section: the database holds the events it says, of which exactly the
    # credited activations received in the period are what each draw froze, and the checks drawn.
    conn = await asyncpg.connect(database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM events") == result["events"] > 3_000
        assert await conn.fetchval("SELECT count(*) FROM events WHERE credited AND type = 'account_activated' "
                                   "AND received_at <= $1", PERIOD_TO) == 3_000
        sizes = await conn.fetch("SELECT population_size, n, status FROM spot_checks ORDER BY id")
        outcomes = await conn.fetchval("SELECT count(*) FROM spot_check_outcomes")
    finally:
        await conn.close()
    assert [r["population_size"] for r in sizes] == [3_000] * 3 + [600] * 4
    assert (sizes[-1]["n"], sizes[-1]["status"], outcomes) == (40, "passed", 40)
