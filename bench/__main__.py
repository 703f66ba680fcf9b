"""``python -m bench``: run the benchmarks, print a table, write bench/results/latest.json."""

from __future__ import annotations

import asyncio
import json
import platform
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bench.components import bench_components
from bench.freshness import measure_freshness
from bench.rebuild import run_rebuild
from bench.replay import run_replay

app = typer.Typer(add_completion=False)
RESULTS = Path(__file__).parent / "results"


@app.command()
def main(events: int = 1_000_000, fresh_seconds: float = 20.0, fresh_rate: float = 500.0) -> None:
    console = Console()
    with bench_components() as bench:
        console.print(f"replaying {events:,} facts …")
        replay = asyncio.run(run_replay(bench, events))
        bench.broker.restart()
        from tally06.topics import ensure_topics

        asyncio.run(ensure_topics(bench.broker.bootstrap))
        console.print(f"rebuilding the counters from {events:,} stored events …")
        rebuilt = asyncio.run(run_rebuild(bench, events))
        console.print(f"freshness at {fresh_rate:g} events/s for {fresh_seconds:g} s …")
        fresh = asyncio.run(measure_freshness(bench, rate_eps=fresh_rate, seconds=fresh_seconds))
    table = Table("figure", "value", "baseline (same run)", "ratio", title="tally06 benchmarks")
    table.add_row("aggregator replay, events/s", f"{replay['replay_eps']:,.0f}",
                  f"bare aiokafka loop {replay['bare_consumer_eps']:,.0f}",
                  f"{replay['replay_eps'] / replay['bare_consumer_eps']:.2f}×")
    table.add_row("aggregator replay incl. start-up, events/s", f"{replay['replay_with_startup_eps']:,.0f}", "", "")
    table.add_row(f"freshness p50 / p95 / p99 at {fresh_rate:g} ev/s",
                  f"{fresh['p50']:.0f} / {fresh['p95']:.0f} / {fresh['p99']:.0f} ms", "goal p99 < 1000 ms", "")
    table.add_row(f"rebuild of {events:,} events", f"{rebuilt['rebuild_s']:.1f} s ({rebuilt['rebuild_eps']:,.0f} events/s)",
                  "goal ≥ 50,000 events/s", "")
    table.add_row("aggregator memory after replay", f"{replay['memory_mb']:.0f} MB", "", "")
    console.print(table)
    RESULTS.mkdir(exist_ok=True)
    result = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": __import__("os").cpu_count()},
        "aggregator": {"replay_eps": replay["replay_eps"], "bare_consumer_eps": replay["bare_consumer_eps"],
                       "replay_with_startup_eps": replay["replay_with_startup_eps"], "events": events},
        "freshness_ms": {"load_demo": {k: fresh[k] for k in ("p50", "p95", "p99")}},
        "memory_mb": {"aggregator": replay["memory_mb"]},
        "rebuild_1m_s": rebuilt["rebuild_s"] * 1_000_000 / events,
    }
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2))
    console.print(f"written {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    app()
