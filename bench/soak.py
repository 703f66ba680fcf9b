"""Soak (not in CI): the whole stack for a long time at half the sustained ingest rate.

``python -m bench soak --minutes 60`` measures the sustained rate (closed-loop batches of 100)
unless ``--rate`` gives the load, then posts at half of it on a fixed schedule and every 30 s
samples the resident memory of every process (ingest, relay, aggregator, notifier and wallboard
where they run, PostgreSQL, the broker), the relay's backlog (stored events not yet published),
the aggregator's lag (stored events not yet counted), the freshness of the interval and the CPU
other processes used meanwhile. At the end it prints the growth of each figure and writes
``bench/results/soak.json``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import statistics
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson

from bench.components import Bench, ForeignLoad, Service, rss_mb
from bench.ingest import INGEST_WORKERS, Body, Workload, issue_tokens, open_loop_session, run_ingest
from bench.replay import start_optional_services
from tally06.contract.events import EVENT_METRICS

LAG_SQL = """
SELECT (SELECT last_seq FROM event_seq) AS stored,
       (SELECT position FROM relay_state) AS published,
       (SELECT coalesce(sum(t.credited + t.claims), 0)::bigint FROM unit_total t
          JOIN units u ON u.code = t.unit AND u.kind = 'province'
          WHERE t.metric = ANY($1::text[])) AS counted
"""


async def sustained_rate(bench: Bench, seconds: float = 15.0) -> float:
    measured = await run_ingest(bench, seconds=seconds, raw_events=0, modes=(("batch100", 100, 12),))
    return float(measured["batch100"]["eps"])  # type: ignore[index]


async def soak(bench: Bench, *, minutes: float, rate_eps: float, batch: int = 100, sample_s: float = 30.0,
               console: Any = None) -> dict[str, Any]:
    say = console.print if console is not None else print
    dsn = await bench.fresh_database()
    services: dict[str, Service] = {
        "ingest": bench.service("tally06_ingest", dsn, "TALLY06_INGEST_PORT", TALLY06_INGEST_WORKERS=INGEST_WORKERS),
        "relay": bench.service("tally06_ingest.relay", dsn, "TALLY06_RELAY_PORT"),
        "aggregator": bench.service("tally06_aggregator", dsn, "TALLY06_AGGREGATOR_PORT",
                                    TALLY06_AGGREGATOR_APP_ID=f"soak-{time.time_ns()}"),
    }
    notes: dict[str, str] = {}
    for name, service in start_optional_services(bench, dsn, console).items():
        if isinstance(service, Service):
            services[name] = service
        else:
            notes[name] = service
    conn = await asyncpg.connect(dsn)  # samples
    watch_conn = await asyncpg.connect(dsn)  # freshness: a connection runs one query at a time
    samples: list[dict[str, Any]] = []
    errors: list[str] = []
    try:
        for name in ("ingest", "relay", "aggregator"):
            await services[name].ready()
        workload = Workload(await issue_tokens(dsn))
        interval = batch / rate_eps
        pending: dict[tuple[str, int], float] = {}
        fresh: list[float] = []
        in_flight: set[asyncio.Task[None]] = set()
        posted = 0
        async with open_loop_session(services["ingest"].url) as client:

            async def post(body: Body, scheduled: float) -> None:
                nonlocal posted
                try:
                    async with client.post("/v1/events", data=body.content,
                                           headers=workload.headers(body)) as response:
                        response.raise_for_status()
                        answer = orjson.loads(await response.read())
                    posted += answer["totals"]["accepted"]
                    pending[(body.fact_key, max(r["seq"] for r in answer["results"]))] = scheduled
                except (aiohttp.ClientError, asyncio.TimeoutError, KeyError, ValueError) as exc:
                    errors.append(f"{time.strftime('%H:%M:%S')} {type(exc).__name__}: {exc}"[:300])

            async def sender(until: float) -> None:
                n, start = 0, time.perf_counter() + 0.5
                while (scheduled := start + n * interval) < until:
                    body = workload.bodies(1, batch)[0]  # made before its time comes
                    await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
                    task = asyncio.create_task(post(body, scheduled))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    n += 1

            async def watcher() -> None:
                while True:
                    rows = await watch_conn.fetch("SELECT key, position FROM projection_positions")
                    now = time.perf_counter()
                    positions = {r["key"]: r["position"] for r in rows}
                    for key in [k for k in pending if positions.get(k[0], 0) >= k[1]]:
                        fresh.append(now - pending.pop(key))
                    await asyncio.sleep(0.05)

            # Warm-up: the aggregator has joined its group and counts before the clock starts.
            warm = workload.bodies(1, batch)[0]
            await post(warm, time.perf_counter())
            watch_task = asyncio.create_task(watcher())
            warm_until = time.perf_counter() + 120
            while pending:
                if watch_task.done():
                    raise watch_task.exception() or RuntimeError("watcher ended")  # type: ignore[misc]
                if time.perf_counter() > warm_until:
                    raise TimeoutError(f"the warm-up post was not counted in 120 s (waiting for {pending})")
                await asyncio.sleep(0.1)
            fresh.clear()
            began = time.perf_counter()
            until = began + minutes * 60
            send_task = asyncio.create_task(sender(until))
            say(f"soak: {minutes:g} min at {rate_eps:,.0f} events/s (posts of {batch}), sample every {sample_s:g} s")
            foreign = ForeignLoad()
            foreign.start()
            next_sample = began
            while True:
                next_sample += sample_s
                await asyncio.sleep(max(0.0, next_sample - time.perf_counter()))
                row = await conn.fetchrow(LAG_SQL, sorted(EVENT_METRICS))
                other_cores = foreign.stop("interval")
                foreign.start()
                window, fresh[:] = sorted(fresh), []
                sample = {
                    "t_s": round(time.perf_counter() - began, 1),
                    "rss_mb": {**{n: _round(s.rss_mb()) for n, s in services.items()},
                               **{n: _round(rss_mb(pid)) for n, pid in bench.component_pids().items()}},
                    "stored": row["stored"], "relay_backlog": row["stored"] - row["published"],
                    "aggregator_lag": row["stored"] - row["counted"], "posted": posted,
                    "in_flight_posts": len(in_flight), "not_visible_posts": len(pending),
                    "fresh_p50_ms": _round(window[len(window) // 2] * 1000) if window else None,
                    "fresh_p99_ms": _round(window[int(len(window) * 0.99)] * 1000) if window else None,
                    "errors": len(errors), "other_processes_cores": round(other_cores, 2),
                    "dead": [n for n, s in services.items() if not s.alive],
                }
                samples.append(sample)
                say(_line(sample))
                for task in (send_task, watch_task):
                    if task.done() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                if send_task.done() and not in_flight and (not pending or time.perf_counter() > until + 120):
                    break
            watch_task.cancel()
            if send_task.exception() is not None:
                raise send_task.exception()  # type: ignore[misc]
    finally:
        await conn.close()
        await watch_conn.close()
        for service in reversed(services.values()):
            service.stop()
    return {"started": dt.datetime.now(dt.UTC).isoformat(), "minutes": minutes, "rate_eps": rate_eps,
            "events_per_post": batch, "sample_s": sample_s, "samples": samples, "growth": growth(samples),
            "errors": errors[:50], "error_count": len(errors), "notes": notes}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _line(s: dict[str, Any]) -> str:
    rss = " ".join(f"{n}={v:.0f}" if v is not None else f"{n}=–" for n, v in s["rss_mb"].items())
    return (f"t={s['t_s']:>7.0f}s stored={s['stored']:,} backlog={s['relay_backlog']:,} lag={s['aggregator_lag']:,} "
            f"fresh p50/p99={s['fresh_p50_ms']}/{s['fresh_p99_ms']} ms  RSS MB: {rss}"
            + f"  others={s['other_processes_cores']:.2f} cores"
            + (f"  errors={s['errors']}" if s["errors"] else "") + (f"  DEAD={s['dead']}" if s["dead"] else ""))


def _slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 3:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    try:
        return statistics.linear_regression(xs, ys).slope * 3600
    except statistics.StatisticsError:
        return None


def growth(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per figure: first, last, max and the trend over the second half (per hour); memory grows
    at start-up, so the second half tells a leak from a warm-up."""
    if not samples:
        return {}
    half = samples[len(samples) // 2:]
    out: dict[str, Any] = {"rss_mb": {}}
    for name in samples[0]["rss_mb"]:
        values = [(s["t_s"], s["rss_mb"][name]) for s in samples if s["rss_mb"].get(name) is not None]
        if values:
            second = [(t, v) for t, v in values if t >= half[0]["t_s"]]
            out["rss_mb"][name] = {"first": values[0][1], "last": values[-1][1], "max": max(v for _, v in values),
                                   "second_half_mb_per_hour": _round(_slope_per_hour(second))}
    for figure in ("relay_backlog", "aggregator_lag"):
        values = [s[figure] for s in samples]
        out[figure] = {"max": max(values), "last": values[-1],
                       "second_half_per_hour": _round(_slope_per_hour([(s["t_s"], s[figure]) for s in half]))}
    p99 = [s["fresh_p99_ms"] for s in samples if s["fresh_p99_ms"] is not None]
    out["fresh_p99_ms"] = {"max": max(p99) if p99 else None, "median": statistics.median(p99) if p99 else None}
    return out


def print_growth(result: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table("figure", "first", "last", "max", "trend, 2nd half", title="soak: growth")
    for name, g in result["growth"].get("rss_mb", {}).items():
        trend = g["second_half_mb_per_hour"]
        table.add_row(f"memory {name}" + (" (PSS of all its processes)" if name == "postgresql" else " (RSS)"),
                      f"{g['first']:.0f} MB", f"{g['last']:.0f} MB", f"{g['max']:.0f} MB",
                      "–" if trend is None else f"{trend:+.0f} MB/h")
    for figure in ("relay_backlog", "aggregator_lag"):
        g = result["growth"].get(figure)
        if g:
            trend = g["second_half_per_hour"]
            table.add_row(figure.replace("_", " "), "", f"{g['last']:,}", f"{g['max']:,}",
                          "–" if trend is None else f"{trend:+,.0f} events/h")
    f = result["growth"].get("fresh_p99_ms", {})
    if f.get("max") is not None:
        table.add_row(f"freshness p99 per {result['sample_s']:g} s", "", f"median {f['median']:.0f} ms",
                      f"{f['max']:.0f} ms", "")
    console.print(table)
    if result["error_count"]:
        console.print(f"[red]{result['error_count']} failed posts[/red], first: {result['errors'][:3]}")


def write(result: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str))
