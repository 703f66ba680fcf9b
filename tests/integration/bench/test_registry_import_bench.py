"""The registry import benchmark's code path, small and untimed (`make bench` is not run by the suite)."""

from bench.registry_import import describe, run_registry_import


async def test_registry_section_imports_again_and_a_delta(database, tmp_path):
    result = await run_registry_import(database, 2_000, tmp_path)  # checks its own counts, raises if wrong
    assert result["rows"] == 2_000 and result["delta_rows"] == 200 and not result["full_size"]
    assert "NOT the full 3,000,000 rows" in describe(result)[0]
    assert list(tmp_path.glob("*.csv")) == []  # the made-up extract does not outlive the run
