"""``tally06 up``, ``migrate``, ``topics`` and ``rebuild``: the stack and its plumbing."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from tally06.cli.context import console, fail, progress_bar, settings
from tally06.imports.reference import DemoMap
from tally06.kit.exceptions import ComponentStartError
from tally06.kit.structured_logging import configure_logging
from tally06.kit.topic_admin import ensure_topics
from tally06.store.database import ensure_database, migrate


def up(
    demo: Annotated[bool, typer.Option(help="Also run the field-device simulator for the demo's 501 teams")] = False,
    demo_map: Annotated[DemoMap, typer.Option(
        help="The map the demo starts in: Thanh Hóa's two-tier map (166 communes under the province) "
             "or the 2023 map of 27 districts, which moves to the two-tier map after --switch-after")
    ] = DemoMap.TWO_TIER,
    switch_after: Annotated[float, typer.Option(
        help="With --demo-map 2023: seconds after the simulator caught up with now until the two-tier "
             "map is loaded, taking effect today (negative: stay in the 2023 map)")] = 30.0,
    registry_every: Annotated[float, typer.Option(
        help="With --demo: seconds between the national registry's extracts, imported as they come "
             "so claimed and confirmed part on the board (0: no registry)")] = 20.0,
    ingest_port: int = 8061,
    wallboard_port: int = 8062,
    aggregator_port: int = 8063,
    relay_port: int = 8064,
    notifier_port: int = 8065,
    pg_port: int = 55432,
    kafka_port: int = 19092,
    kafka_controller_port: int = 19093,
    home: Path = Path(".tally06"),
    seed: Annotated[int, typer.Option(help="Simulator seed")] = 6,
    speed: Annotated[float, typer.Option(help="Simulator clock speed while catching up with now")] = 1800.0,
    backfill_hours: Annotated[float, typer.Option(
        help="Simulated hours before now (a day and more, so the demo shows work at any hour)")] = 30.0,
) -> None:
    """Start PostgreSQL, the broker, topics, migrations and the services; Ctrl-C stops all."""
    # Imported here: the stack brings the simulator, httpx and the embedded launchers, which
    # every other command would pay for at start (~0.1 s).
    from tally06.stack.console import run_stack
    from tally06.stack.supervisor import Stack, StackConfig

    configure_logging(settings().log_level, json=False, service="stack")
    config = StackConfig(
        home=home, ingest_port=ingest_port, wallboard_port=wallboard_port, aggregator_port=aggregator_port,
        relay_port=relay_port, notifier_port=notifier_port, pg_port=pg_port, kafka_port=kafka_port,
        kafka_controller_port=kafka_controller_port,
        database_url=os.environ.get("DATABASE_URL"), kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP"),
        demo=demo, demo_map=demo_map, switch_after=switch_after, registry_every=registry_every,
    )
    try:
        asyncio.run(run_stack(Stack(config), console, demo=demo, seed=seed, speed=speed,
                              backfill_hours=backfill_hours))
    except ComponentStartError as exc:
        fail(str(exc), exc.exit_code)


def migrate_cmd() -> None:
    """Create the database if needed and apply pending migrations."""
    url = settings().database_url

    async def run() -> list[str]:
        await ensure_database(url)
        return await migrate(url)

    applied = asyncio.run(run())
    console.print(f"applied: {', '.join(applied) or 'nothing (up to date)'}")


def topics_cmd(replication_factor: int = 1) -> None:
    """Create the Kafka topics that do not exist yet (the broker must not auto-create them)."""
    created = asyncio.run(ensure_topics(settings().kafka_bootstrap, replication_factor))
    console.print(f"created: {', '.join(created) or 'nothing (all exist)'}")


def rebuild() -> None:
    """Rebuild the counters read model from the event store (pauses the live projection)."""
    # Imported here: the aggregator brings Faust, which every other command would pay for at start.
    from tally06_aggregator.rebuild import rebuild_counters

    url = settings().database_url
    with progress_bar("rebuilding counters") as bar:
        task = bar.add_task("rebuild", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = asyncio.run(rebuild_counters(url, progress=advance, rules=settings().reconcile_rules()))
    console.print(f"rebuilt from {result.events:,} events: {result.rows:,} counter rows, "
                  f"{len(result.positions)} keys, {result.claims_judged:,} activation claims judged")


__all__ = ["migrate_cmd", "rebuild", "topics_cmd", "up"]
