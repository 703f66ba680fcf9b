"""``python -m bench``: run the benchmarks, print a table, write bench/results/latest.json.

``python -m bench soak --minutes 60``: the soak (not in CI), writes bench/results/soak.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from bench.components import Bench, ForeignLoad, bench_components
from bench.freshness import measure_freshness
from bench.ingest import PHONES, run_ingest, token_limits
from bench.rebuild import run_rebuild
from bench.registry_import import describe as describe_registry
from bench.registry_import import run_registry_import
from bench.reorg import run_reorg
from bench.replay import run_replay
from bench.spot_checks import FULL_CLAIMS as SPOT_CLAIMS
from bench.spot_checks import describe as describe_spot_checks
from bench.spot_checks import run_spot_checks

app = typer.Typer(add_completion=False)
RESULTS = Path(__file__).parent / "results"

# Goals of issue 8.
GOAL_INGEST_RATIO = 0.3
GOAL_AGGREGATOR_VS_PEER = 1.0
GOAL_P99_LOAD20_MS = 1000.0
GOAL_REBUILD_EPS = 50_000
# Issue 16: a new map brings the live read model to it "within minutes" for a whole campaign.
GOAL_REORG_S = 120.0
# Other processes using more than this many cores during a section make its figures suspect.
FOREIGN_WARN_CORES = 0.25


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    events: int = typer.Option(1_000_000, help="facts replayed and events rebuilt"),
    ingest_seconds: float = typer.Option(20.0, help="measured window per ingest post shape"),
    fresh_seconds: float = typer.Option(30.0, help="window per freshness load"),
    peer: bool = typer.Option(True, help="run the Quix Streams and Kafka Streams peers"),
    registry_rows: int = typer.Option(3_000_000, help="rows of the registry extract imported (3,000,000: a "
                                                      "province's full extract, the size the goal is set for)"),
    spot_claims: int = typer.Option(SPOT_CLAIMS, help="credited claims of the province a spot check is drawn from"),
    wait_quiet: float = typer.Option(0.0, help="on a shared machine: wait up to this many minutes "
                                               "for other processes to leave the cores alone"),
) -> None:
    """Every benchmark, each next to its baseline measured in the same run."""
    if ctx.invoked_subcommand is not None:
        return
    console = _console()
    foreign = ForeignLoad()
    if wait_quiet > 0:
        give_up = time.perf_counter() + wait_quiet * 60
        while True:
            foreign.start()
            time.sleep(10)
            cores = foreign.stop("before")
            if cores <= FOREIGN_WARN_CORES or time.perf_counter() > give_up:
                break
            console.print(f"other processes use {cores:.2f} cores; waiting for a quiet machine …")
    began = time.perf_counter()

    def section(name: str, coroutine: Any) -> Any:
        foreign.start()
        try:
            return asyncio.run(coroutine)
        finally:
            cores = foreign.stop(name)
            if cores > FOREIGN_WARN_CORES:
                console.print(f"[yellow]warning: other processes used {cores:.2f} cores during {name}; "
                              "its figures are disturbed[/yellow]")

    with bench_components() as bench:
        console.print(f"replaying {events:,} facts: bare consumer, Quix Streams and Kafka Streams peers, "
                      "aggregator …")
        replay = section("replay", run_replay(bench, events, peer=peer, console=console))
        bench.restart_broker()
        console.print(f"rebuilding the counters from {events:,} stored events …")
        rebuilt, stored = section("rebuild", run_rebuild(bench, events))
        console.print(f"reorganisation: the read model of the {events:,} events brought from the 2023 map to the "
                      "two-tier map (switch_read_model) …")
        reorg = section("reorg", run_reorg(stored, rebuilt["rebuild_s"]))
        console.print(f"ingest: raw producer, then batches of 500, of 100 and single posts, {ingest_seconds:g} s each, "
                      f"from {PHONES} phones with a device token each, at ingest's production limits per token "
                      "({posts_per_s:g} posts/s, bursts of {posts_burst:,}, {events_per_minute:,} events/minute) …"
                      .format(**token_limits()))
        ingest = section("ingest", run_ingest(bench, seconds=ingest_seconds))
        console.print(f"registry extract: {registry_rows:,} rows imported, again, and a daily delta …")
        registry = section("registry", _registry(bench, registry_rows))
        console.print(f"spot checks: draws from {spot_claims:,} credited claims and from a commune's, two verifiers "
                      "recording outcomes at once …")
        spot_checks = section("spot_checks", _spot_checks(bench, spot_claims))
        bench.restart_broker()  # the freshness stack must not read the ingest run's facts
        sustained = ingest["batch100"]["eps"]
        loads = {"load20": 0.2 * sustained, "load80": 0.8 * sustained}
        console.print("freshness at " + ", ".join(f"{v:,.0f} events/s" for v in loads.values())
                      + f" (20 % and 80 % of the batch-100 rate), {fresh_seconds:g} s each …")
        fresh = section("freshness", measure_freshness(bench, loads=loads, seconds=fresh_seconds))
    result = assemble(events, replay, rebuilt, reorg, ingest, fresh, time.perf_counter() - began)
    result["registry_import"] = registry
    result["spot_checks"] = spot_checks
    result["machine"]["other_processes_cores"] = {k: v for k, v in foreign.sections.items() if k != "before"}
    disturbed = [f"{name} ({cores:.2f} cores)" for name, cores in result["machine"]["other_processes_cores"].items()
                 if cores > FOREIGN_WARN_CORES]
    if disturbed:
        result["notes"].append("other processes used the machine during: " + ", ".join(disturbed)
                               + "; those figures are not the machine's")
    console.print(table(result))
    for line in describe_registry(registry):
        console.print(line)
    for line in describe_spot_checks(spot_checks):
        console.print(line)
    for line in result["notes"]:
        console.print(f"note: {line}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2, default=str))
    console.print(f"written {RESULTS / 'latest.json'} ({result['run_s']:.0f} s)")


async def _registry(bench: Bench, rows: int) -> dict[str, Any]:
    return await run_registry_import(await bench.fresh_database(), rows, bench.workdir)


async def _spot_checks(bench: Bench, claims: int) -> dict[str, Any]:
    return await run_spot_checks(await bench.fresh_database(), claims)


def assemble(events: int, replay: dict[str, Any], rebuilt: dict[str, Any], reorg: dict[str, Any],
             ingest: dict[str, Any], fresh: dict[str, Any], run_s: float) -> dict[str, Any]:
    notes: list[str] = []
    peers = replay.get("peer_quix", {})
    count_peer, fold_peer = peers.get("count", {}), peers.get("fold", {})
    for work, peer in peers.items():
        if "error" in peer:
            notes.append(f"Quix Streams peer ({work}) failed: {peer['error']}")
    kstreams = replay.get("peer_kstreams", {})
    if "error" in kstreams:
        notes.append(f"Kafka Streams peer failed: {kstreams['error']}")
    optional = replay["optional_services"]
    for name, note in optional["notes"].items():
        notes.append(f"memory of the {name}: {note}")
    raw = ingest["raw_producer"]
    return {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
                    "memory_gb": _memory_gb()},
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "run_s": run_s,
        "ingest": {
            "batch500_eps": ingest["batch500"]["eps"],
            "batch100_eps": ingest["batch100"]["eps"],
            "single_eps": ingest["single"]["eps"],
            "raw_producer_eps": raw["eps"],
            "raw_producer_body500_eps": raw["body500_eps"],
            "details": {k: ingest[k] for k in ("batch500", "batch100", "single", "raw_producer")},
            "relay_catch_up_s": ingest["relay_catch_up_s"],
            "device_tokens": ingest["device_tokens"],
            "token_limits": ingest["token_limits"],
            "stored_events": ingest["stored_events"],
        },
        "aggregator": {
            "replay_eps": replay["replay_eps"],
            "bare_consumer_eps": replay["bare_consumer_eps"],
            "peer_quix_eps": count_peer.get("eps"),
            "peer_quix_with_startup_eps": count_peer.get("with_startup_eps"),
            "peer_quix_fold_eps": fold_peer.get("eps"),
            "replay_with_startup_eps": replay["replay_with_startup_eps"],
            "events": events,
            "peer_quix": peers,
            "peer_kstreams_eps": None if "error" in kstreams else kstreams.get("eps"),
            "peer_kstreams_with_startup_eps": None if "error" in kstreams else kstreams.get("with_startup_eps"),
            "peer_kstreams": kstreams,
        },
        "freshness_ms": {
            "load20": fresh["load20"], "load80": fresh["load80"], "visible_in": fresh["visible_in"],
            "sustained_eps": ingest["batch100"]["eps"], "sustained_from": "ingest.batch100_eps",
        },
        "memory_mb": {
            "ingest": ingest["memory_mb"],
            "aggregator": replay["memory_mb"],
            "notifier": optional["memory_mb"].get("notifier"),
            "wallboard": optional["memory_mb"].get("wallboard"),
            "relay": ingest["relay_memory_mb"],
            "after": {"ingest": f"its benchmark run ({ingest['stored_events']:,} events)",
                      "aggregator": f"the replay of {events:,} facts",
                      "notifier": f"reading what the replay of {events:,} facts left",
                      "wallboard": f"reading what the replay of {events:,} facts left",
                      "relay": f"the ingest run ({ingest['stored_events']:,} events)"},
        },
        "rebuild_1m_s": rebuilt["rebuild_s"] * 1_000_000 / events,
        "rebuild_eps": rebuilt["rebuild_eps"],
        "reorg": reorg,
        "notes": notes,
    }


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=170)


def _memory_gb() -> float | None:
    try:
        import psutil

        return round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        return None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _mark(ok: bool | None) -> str:
    return "" if ok is None else ("[green]met[/green]" if ok else "[red]missed[/red]")


def table(r: dict[str, Any]) -> Table:
    t = Table("figure", "value", "baseline (same run)", "ratio", "goal", "", title="tally06 benchmarks")
    ing, agg, fr, mem = r["ingest"], r["aggregator"], r["freshness_ms"], r["memory_mb"]
    raw = ing["raw_producer_eps"]
    for key, label in (("batch500_eps", "ingest, batches of 500"), ("batch100_eps", "ingest, batches of 100"),
                       ("single_eps", "ingest, single-event posts")):
        ratio = _ratio(ing[key], raw)
        goal = key != "single_eps"
        t.add_row(f"{label}, events/s", f"{ing[key]:,.0f}",
                  f"raw aiokafka producer {raw:,.0f}" if key == "batch500_eps" else "″",
                  f"{ratio:.3g}×", f"≥ {GOAL_INGEST_RATIO}×" if goal else "",
                  _mark(ratio >= GOAL_INGEST_RATIO) if goal else "")
    t.add_row("raw producer, one message per 500-event body", f"{ing['raw_producer_body500_eps']:,.0f}", "", "", "", "")
    t.add_row("aggregator replay, events/s", f"{agg['replay_eps']:,.0f}",
              f"bare aiokafka loop {agg['bare_consumer_eps']:,.0f}",
              f"{agg['replay_eps'] / agg['bare_consumer_eps']:.2f}×", "", "")
    peer = agg["peer_quix_eps"]
    ratio = _ratio(agg["replay_eps"], peer)
    t.add_row("aggregator replay, events/s", f"{agg['replay_eps']:,.0f}",
              f"Quix Streams peer {peer:,.0f}" if peer else "Quix Streams peer: failed",
              f"{ratio:.2f}×" if ratio else "–", f"≥ {GOAL_AGGREGATOR_VS_PEER}×",
              _mark(ratio >= GOAL_AGGREGATOR_VS_PEER) if ratio else "")
    if agg["peer_quix_fold_eps"]:
        t.add_row("Quix Streams doing the aggregator's fold in memory", f"{agg['peer_quix_fold_eps']:,.0f}",
                  "", "", "", "")
    ratio = _ratio(agg["replay_with_startup_eps"], agg["peer_quix_with_startup_eps"])
    t.add_row("the same including start-up and group join", f"{agg['replay_with_startup_eps']:,.0f}",
              f"Quix {agg['peer_quix_with_startup_eps']:,.0f}" if agg["peer_quix_with_startup_eps"] else "",
              f"{ratio:.2f}×" if ratio else "", "", "")
    kstreams = agg.get("peer_kstreams_eps")
    ratio = _ratio(agg["replay_eps"], kstreams)
    t.add_row("aggregator replay, events/s", f"{agg['replay_eps']:,.0f}",
              f"Kafka Streams peer {kstreams:,.0f}" if kstreams else "Kafka Streams peer: failed",
              f"{ratio:.2f}×" if ratio else "–", "", "")
    startup = agg.get("peer_kstreams_with_startup_eps")
    ratio = _ratio(agg["replay_with_startup_eps"], startup)
    t.add_row("the same including start-up and group join", f"{agg['replay_with_startup_eps']:,.0f}",
              f"Kafka Streams {startup:,.0f}" if startup else "", f"{ratio:.2f}×" if ratio else "", "", "")
    for load, share in (("load20", "20"), ("load80", "80")):
        f = fr[load]
        goal = load == "load20"
        t.add_row(f"freshness p50 / p95 / p99 at {f['rate_eps']:,.0f} ev/s ({share} %)",
                  f"{f['p50']:.0f} / {f['p95']:.0f} / {f['p99']:.0f} ms",
                  f"sustained {fr['sustained_eps']:,.0f} ev/s", "", "p99 < 1000 ms" if goal else "",
                  _mark(f["p99"] < GOAL_P99_LOAD20_MS) if goal else "")
    t.add_row(f"rebuild of {agg['events']:,} events", f"{r['rebuild_1m_s'] * agg['events'] / 1e6:.1f} s",
              f"{r['rebuild_eps']:,.0f} events/s", "", f"≥ {GOAL_REBUILD_EPS:,} events/s",
              _mark(r["rebuild_eps"] >= GOAL_REBUILD_EPS))
    reorg = r["reorg"]
    t.add_row(f"reorganisation: read model of {reorg['events']:,} events re-summed in a new map",
              f"{reorg['switch_s']:.2f} s ({reorg['switch_rows']:,} rows)",
              f"plain re-sum of the officer rows {reorg['plain_resum_s']:.2f} s; rebuild {reorg['rebuild_s']:.1f} s",
              f"{reorg['vs_plain_resum']:.2f}× / {reorg['vs_rebuild']:.2f}×", f"< {GOAL_REORG_S:g} s",
              _mark(reorg["switch_s"] < GOAL_REORG_S))
    for name in ("ingest", "relay", "aggregator", "notifier", "wallboard"):
        value = mem.get(name)
        t.add_row(f"memory (RSS) of the {name}", f"{value:,.0f} MB" if value is not None else "not available",
                  f"after {mem['after'][name]}", "", "", "")
    foreign = r["machine"].get("other_processes_cores", {})
    if foreign:
        t.add_row("cores used by other processes, per section", " / ".join(f"{v:.2f}" for v in foreign.values()),
                  " / ".join(foreign), "", f"≤ {FOREIGN_WARN_CORES}",
                  _mark(all(v <= FOREIGN_WARN_CORES for v in foreign.values())))
    return t


@app.command("soak")
def soak_command(
    minutes: float = typer.Option(60.0, help="how long to run"),
    rate: float = typer.Option(0.0, help="events/s to post; 0 = half the sustained rate measured first"),
    sample_seconds: float = typer.Option(30.0, help="sampling interval"),
) -> None:
    """An hour (by default) at half the sustained ingest rate: memory growth and lag."""
    from bench.soak import print_growth, soak, sustained_rate, write

    console = _console()
    with bench_components() as bench:
        if rate <= 0:
            console.print("measuring the sustained ingest rate (batches of 100, 15 s) …")
            sustained = asyncio.run(sustained_rate(bench))
            rate = sustained / 2
            console.print(f"sustained {sustained:,.0f} events/s; soaking at {rate:,.0f}")
            bench.restart_broker()
        result = asyncio.run(soak(bench, minutes=minutes, rate_eps=rate, sample_s=sample_seconds, console=console))
    result["machine"] = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()}
    print_growth(result, console)
    write(result, RESULTS / "soak.json")
    console.print(f"written {RESULTS / 'soak.json'}")


if __name__ == "__main__":
    app()
