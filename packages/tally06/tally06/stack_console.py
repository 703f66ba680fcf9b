"""``tally06 up`` in a terminal: start the stack, show where things are and how events flow."""

from __future__ import annotations

import asyncio
import datetime
import contextlib
import signal

import asyncpg
from rich.console import Console
from rich.table import Table

from tally06.events import LOCAL_TZ
from tally06.stack import Stack
from tally06.tokens import issue_token


async def _demo_tokens(database_url: str) -> dict[str, str]:
    """One fresh token per demo team; tokens of an earlier demo run are revoked."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE device_tokens SET revoked_at = now() WHERE label = 'demo' AND revoked_at IS NULL")
        teams = [r["code"] for r in await conn.fetch("SELECT code FROM units WHERE kind = 'team' ORDER BY code")]
        return {team: (await issue_token(conn, team, "demo"))[1] for team in teams}
    finally:
        await conn.close()


async def _report(stack: Stack, console: Console, stop: asyncio.Event, every_s: float = 5.0) -> None:
    conn = await asyncpg.connect(stack.database_url)
    try:
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
            with contextlib.suppress(Exception):
                row = await conn.fetchrow(
                    "SELECT (SELECT last_seq FROM event_seq) AS stored, position, broker_epoch, "
                    "(SELECT count(*) FROM credits) AS credits, "
                    "(SELECT coalesce(sum(credited + claims), 0) FROM unit_total WHERE unit = 'TH') AS counted "
                    "FROM relay_state")
                console.print(
                    f"[dim]{datetime.datetime.now(LOCAL_TZ):%H:%M:%S}[/] stored [bold]{row['stored']:,}[/]"
                    f"  published [bold]{row['position']:,}[/]  counted [bold]{row['counted']:,}[/]"
                    f"  credited {row['credits']:,}"
                    f"  broker epoch {row['broker_epoch']}", soft_wrap=True)
    finally:
        await conn.close()


async def run_stack(stack: Stack, console: Console, *, demo: bool, seed: int, speed: float,
                    backfill_hours: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks: list[asyncio.Task] = []
    try:
        console.print("[bold]tally06[/] starting…")
        await stack.start()
        table = Table("component", "where", title="tally06 is up")
        table.add_row("ingest API", f"{stack.ingest_url}/v1/events  (docs {stack.ingest_url}/docs)")
        table.add_row("relay", f"http://{stack.config.host}:{stack.config.relay_port}/readyz")
        table.add_row("aggregator", f"http://{stack.config.host}:{stack.config.aggregator_port}/metrics")
        table.add_row("PostgreSQL", stack.database_url)
        table.add_row("Kafka", stack.kafka_bootstrap)
        table.add_row("logs", str(stack.config.home / "logs"))
        console.print(table)
        tasks.append(asyncio.create_task(stack.supervise(stop)))
        tasks.append(asyncio.create_task(_report(stack, console, stop)))
        if demo:
            from tally06.simulator import run_simulator

            tokens = await _demo_tokens(stack.database_url)
            console.print(f"simulator: {len(tokens)} team devices, clock {speed:g}× until it reaches now")
            tasks.append(asyncio.create_task(run_simulator(
                stack.ingest_url, tokens, seed=seed, speed=speed, backfill_hours=backfill_hours,
                stop=stop, max_events=None)))
        console.print("press Ctrl-C to stop")
        await stop.wait()
    finally:
        stop.set()
        console.print("stopping…")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await stack.stop()
        console.print("stopped")
