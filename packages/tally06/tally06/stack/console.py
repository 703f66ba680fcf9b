"""``tally06 up`` in a terminal: start the stack, show where things are and how events flow."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from collections.abc import Callable

import asyncpg
from rich.console import Console
from rich.table import Table

from tally06.contract.events import EVENT_METRICS, LOCAL_TZ
from tally06.domain.org import KIND_WORDS, OrgRegistry, UnitKind
from tally06.imports.reference import DemoMap
from tally06.kit.clock import OffsetClock
from tally06.stack.demo_maps import Reorganisation, mapping_summary, reorganise_demo
from tally06.stack.registry_feed import RegistryFeed, run_registry_feed
from tally06.stack.spot_check_feed import SpotCheckFeed, run_spot_check_feed
from tally06.stack.supervisor import Stack, demo_clock_offset
from tally06.store.device_tokens import issue_token


async def _demo_tokens(database_url: str) -> dict[str, str]:
    """One fresh token per demo team; tokens of an earlier demo run are revoked."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("UPDATE device_tokens SET revoked_at = now() WHERE label = 'demo' AND revoked_at IS NULL")
        teams = [r["code"] for r in await conn.fetch("SELECT code FROM units WHERE kind = 'team' ORDER BY code")]
        return {team: (await issue_token(conn, team, "demo"))[1] for team in teams}
    finally:
        await conn.close()


async def _print_alerts(conn: asyncpg.Connection, console: Console, after: int, show: int = 5) -> int:
    """Messages sent since ``after`` (a notification id), a few in full; returns the last id."""
    rows = await conn.fetch(
        "SELECT n.id, n.subject, f.name FROM notifications n JOIN focal_points f ON f.id = n.recipient_id "
        "WHERE n.id > $1 AND n.state = 'sent' ORDER BY n.id", after)
    for row in rows[:show]:
        console.print(f"  [yellow]🔔 {row['name']}[/]: {row['subject']}", soft_wrap=True)
    if len(rows) > show:
        console.print(f"  [yellow]🔔 … and {len(rows) - show} more alerts sent[/] (notifier log: "
                      "logs/notifier.log)")
    return rows[-1]["id"] if rows else after


async def _report(stack: Stack, console: Console, stop: asyncio.Event, every_s: float = 5.0) -> None:
    conn = await asyncpg.connect(stack.database_url)
    last_alert = 0
    try:
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
            with contextlib.suppress(Exception):
                row = await conn.fetchrow(
                    "SELECT (SELECT last_seq FROM event_seq) AS stored, position, broker_epoch, "
                    "(SELECT count(*) FROM credits) AS credits, "
                    "(SELECT coalesce(sum(credited + claims), 0) FROM officer_total "
                    " WHERE metric = ANY($1::text[])) AS counted "
                    "FROM relay_state", sorted(EVENT_METRICS))
                console.print(
                    f"[dim]{dt.datetime.now(LOCAL_TZ):%H:%M:%S}[/] stored [bold]{row['stored']:,}[/]"
                    f"  published [bold]{row['position']:,}[/]  counted [bold]{row['counted']:,}[/]"
                    f"  credited {row['credits']:,}"
                    f"  broker epoch {row['broker_epoch']}", soft_wrap=True)
                last_alert = await _print_alerts(conn, console, last_alert)
    finally:
        await conn.close()


async def _start_notifier_later(stack: Stack, console: Console, ready: asyncio.Event, stop: asyncio.Event) -> None:
    await asyncio.wait([asyncio.ensure_future(ready.wait()), asyncio.ensure_future(stop.wait())],
                       return_when=asyncio.FIRST_COMPLETED)
    if not stop.is_set():
        await stack.start_service("notifier")
        console.print("notifier: judging pace, silence and daily targets; alerts appear below")


def _map_line(org: OrgRegistry, map_id: int) -> str:
    """"map 2: province → commune → team, 166 communes under TH"."""
    levels = " → ".join(KIND_WORDS[k].en.lower() for k in org.kinds())
    below = [k for k in org.kinds() if k not in (UnitKind.PROVINCE, UnitKind.TEAM)][0:1]
    counts = ", ".join(f"{len(org.units(k))} {KIND_WORDS[k].en_level.lower()}" for k in below)
    return f"map {map_id}: {levels}" + (f", {counts} under {org.roots()[0].code}" if counts else "")


def _print_reorganisation(console: Console, done: Reorganisation) -> None:
    switch = done.switch
    resummed = (f"{switch.rows:,} unit rows re-summed in {switch.seconds:.2f} s" if switch is not None
                else "re-summed by the aggregator's timer first")
    console.print(f"[bold]reorganised[/]: map {done.previous_map} → map {done.new_map} in force from "
                  f"{done.effective_from} ({mapping_summary()}); {resummed}; {done.seconds:.1f} s in all",
                  soft_wrap=True)
    parts = " + ".join(f"{code} {n:,}" for code, n in done.merged_parts_before.items())
    console.print(f"  history carried over: {done.merged} = {parts} just before, {done.merged_after:,} just after",
                  soft_wrap=True)
    before, after = done.before, done.after
    verdict = "[green]unchanged[/]" if done.report_unchanged else "[red]CHANGED[/]"
    console.print(f"  Appendix I of {before.unit_code} in map {done.previous_map} (2023) as of "
                  f"{done.cutoff.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M:%S%z}, before the switch: {verdict} — "
                  f"before {len(before.rows)} rows, {before.total.activated_total:,} activated; "
                  f"after {len(after.rows)} rows, {after.total.activated_total:,} activated", soft_wrap=True)
    for username, password, role, unit in done.users:
        console.print(f"  new wallboard user: {username} / {password} ({role}, reads {unit})", soft_wrap=True)


async def _reorganise_later(stack: Stack, console: Console, clock: OffsetClock, caught_up: asyncio.Event,
                            stop: asyncio.Event) -> None:
    """From the 2023 map to the two-tier map, ``switch_after`` seconds after the simulator
    caught up with now, while it keeps posting."""
    await asyncio.wait([asyncio.ensure_future(caught_up.wait()), asyncio.ensure_future(stop.wait())],
                       return_when=asyncio.FIRST_COMPLETED)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), stack.config.switch_after)
    if stop.is_set():
        return
    console.print("loading the two-tier map of Thanh Hóa, taking effect today, while the devices keep posting …")
    conn = await asyncpg.connect(stack.database_url)
    try:
        done = await reorganise_demo(conn, clock.now().astimezone(LOCAL_TZ).date())
    except Exception as exc:  # noqa: BLE001 - the demo goes on in the 2023 map; say why
        console.print(f"[red]the reorganisation failed[/]: {exc}", soft_wrap=True)
        return
    finally:
        await conn.close()
    _print_reorganisation(console, done)


def _registry_feed(stack: Stack, clock: OffsetClock, tokens: dict[str, str], *, seed: int,
                   backfill_hours: float) -> RegistryFeed | None:
    """The demo's national registry, hearing the simulator's teams from the start of its day."""
    if stack.config.registry_every <= 0:
        return None
    start = clock.now() - dt.timedelta(hours=max(0.0, backfill_hours))
    return RegistryFeed.for_demo(stack.env, stack.config.home, clock.now, seed=seed, start=start,
                                 teams=sorted(tokens))


def _spot_check_feed(stack: Stack, clock: OffsetClock, tokens: dict[str, str], feed: RegistryFeed | None, *,
                     seed: int, backfill_hours: float) -> SpotCheckFeed | None:
    """The demo's spot checks, whose citizens answer as the registry feed's registry says."""
    if stack.config.spot_check_every <= 0:
        return None
    start = feed.truth.start if feed is not None else clock.now() - dt.timedelta(hours=max(0.0, backfill_hours))
    return SpotCheckFeed.for_demo(stack.env, seed=seed, start=start, teams=sorted(tokens),
                                  registry=feed.truth if feed is not None else None)


def _observers(*feeds: RegistryFeed | SpotCheckFeed | None) -> Callable[[list[dict]], None] | None:
    """The simulator's ``on_recorded``: every feed hears the events, the registry first."""
    hearing = [f for f in feeds if f is not None]
    if not hearing:
        return None

    def observe(events: list[dict]) -> None:
        for f in hearing:
            f.observe(events)
    return observe


async def run_stack(stack: Stack, console: Console, *, demo: bool, seed: int, speed: float,
                    backfill_hours: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks: list[asyncio.Task] = []
    offset = demo_clock_offset(dt.datetime.now(dt.UTC)) if demo else dt.timedelta(0)
    if offset:
        stack.config.clock = f"offset:{offset.total_seconds():.0f}"
    try:
        console.print("[bold]tally06[/] starting…")
        # The demo's notifier waits until the simulator has caught up with today: judged on a
        # half-replayed morning, every team would look behind.
        await stack.start(defer=("notifier",) if demo else ())
        table = Table("component", "where", title="tally06 is up")
        table.add_row("wallboard", f"{stack.wallboard_url}/  (read API docs {stack.wallboard_url}/docs)")
        table.add_row("ingest API", f"{stack.ingest_url}/v1/events  (docs {stack.ingest_url}/docs)")
        table.add_row("relay", f"http://{stack.config.host}:{stack.config.relay_port}/readyz")
        table.add_row("aggregator", f"http://{stack.config.host}:{stack.config.aggregator_port}/metrics")
        table.add_row("PostgreSQL", stack.database_url)
        started = stack.broker_started
        table.add_row("Kafka", stack.kafka_bootstrap + (
            f"  (Apache Kafka, log in {stack.config.home / 'kafka'}; started in {started.seconds:.1f} s, "
            f"{started.rss_mb} MB)" if started else "  (external)"))
        table.add_row("logs", str(stack.config.home / "logs"))
        console.print(table)
        if stack.demo_users:
            people = Table("sign in as", "password", "role", "reads",
                           title="wallboard users (new passwords each start)")
            for username, password, role, unit in stack.demo_users:
                people.add_row(username, password, str(role), unit)
            console.print(people)
        start = stack.demo_start
        live = start.live if start is not None else None
        if live is not None:
            console.print(f"organisation: {_map_line(live.registry, live.id)} (the read model's)")
        if start is not None and start.note:
            console.print(f"[yellow]note[/]: {start.note}")
        tasks.append(asyncio.create_task(stack.supervise(stop)))
        tasks.append(asyncio.create_task(_report(stack, console, stop)))
        if demo:
            from tally06.simulator import run_simulator

            tokens = await _demo_tokens(stack.database_url)
            clock = OffsetClock(offset)
            if offset:
                console.print(f"demo clock: {clock.now().astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} "
                              "(a working afternoon; the real time is outside working hours)")
            console.print(f"simulator: {len(tokens)} team devices, clock {speed:g}× until it reaches now")
            caught_up = asyncio.Event()
            feed = _registry_feed(stack, clock, tokens, seed=seed, backfill_hours=backfill_hours)
            spot = _spot_check_feed(stack, clock, tokens, feed, seed=seed, backfill_hours=backfill_hours)
            tasks.append(asyncio.create_task(run_simulator(
                stack.ingest_url, tokens, seed=seed, speed=speed, backfill_hours=backfill_hours,
                stop=stop, max_events=None, now=clock.now, caught_up=caught_up, org=live.registry if live else None,
                on_recorded=_observers(feed, spot))))
            if feed is not None:
                tasks.append(asyncio.create_task(run_registry_feed(
                    feed, stack.database_url, console, every_s=stack.config.registry_every, caught_up=caught_up,
                    stop=stop)))
            if spot is not None:
                tasks.append(asyncio.create_task(run_spot_check_feed(
                    spot, stack.database_url, console, every_s=stack.config.spot_check_every, caught_up=caught_up,
                    stop=stop)))
            tasks.append(asyncio.create_task(_start_notifier_later(stack, console, caught_up, stop)))
            cfg = stack.config
            if (cfg.demo_map is DemoMap.Y2023 and cfg.switch_after >= 0 and start is not None
                    and start.can_reorganise):
                console.print(f"reorganisation: the two-tier map is loaded {cfg.switch_after:g} s after the "
                              "simulator caught up with now")
                tasks.append(asyncio.create_task(_reorganise_later(stack, console, clock, caught_up, stop)))
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
