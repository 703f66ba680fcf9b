"""The ``tally06`` command: run the stack, manage the org registry, tokens and topics."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from tally06.database import ensure_database, migrate
from tally06.exceptions import ComponentStartError, OrgError
from tally06.org import parse_org_csv, to_org_csv
from tally06.org_store import save_org
from tally06.reference import demo_org
from tally06.settings import CommonSettings
from tally06.structured_logging import configure_logging
from tally06.tokens import issue_token, revoke_token
from tally06.topics import ensure_topics

app = typer.Typer(help="tally06: live progress of the electronic-identity drive (Đề án 06).",
                  no_args_is_help=True)
token_app = typer.Typer(help="Device tokens: one per field device, bound to its team.", no_args_is_help=True)
org_app = typer.Typer(help="The organisation registry (province → district → commune → team).", no_args_is_help=True)
app.add_typer(token_app, name="token")
targets_app = typer.Typer(help="Campaign targets (Appendix I), versioned.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(targets_app, name="targets")

T = TypeVar("T")

console = Console()
err = Console(stderr=True)


def _settings() -> CommonSettings:
    return CommonSettings()


def _on_db(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``work`` with a connection to the configured database, closed afterwards."""

    async def run() -> T:
        conn = await asyncpg.connect(_settings().database_url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def _print_row_errors(errors: list) -> None:
    if errors:
        table = Table("row", "field", "problem", title="rows not imported")
        for e in errors:
            table.add_row(str(e.row), e.field, e.message)
        err.print(table)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@app.command()
def up(
    demo: Annotated[bool, typer.Option(help="Also run the field-device simulator for the 27 districts")] = False,
    ingest_port: int = 8061,
    aggregator_port: int = 8063,
    relay_port: int = 8064,
    pg_port: int = 55432,
    kafka_port: int = 19092,
    home: Path = Path(".tally06"),
    seed: Annotated[int, typer.Option(help="Simulator seed")] = 6,
    speed: Annotated[float, typer.Option(help="Simulator clock speed while catching up with now")] = 600.0,
    backfill_hours: Annotated[float, typer.Option(help="Simulated hours before now (a day and more, so the demo shows work at any hour)")] = 30.0,
) -> None:
    """Start PostgreSQL, the broker, topics, migrations and the services; Ctrl-C stops all."""
    from tally06.stack import Stack, StackConfig

    settings = _settings()
    configure_logging(settings.log_level, json=False, service="stack")
    config = StackConfig(
        home=home, ingest_port=ingest_port, aggregator_port=aggregator_port, relay_port=relay_port, pg_port=pg_port, kafka_port=kafka_port,
        database_url=os.environ.get("DATABASE_URL"), kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP"),
        demo=demo,
    )
    from tally06.stack_console import run_stack

    try:
        asyncio.run(run_stack(Stack(config), console, demo=demo, seed=seed, speed=speed,
                              backfill_hours=backfill_hours))
    except ComponentStartError as exc:
        _fail(str(exc), exc.exit_code)


@app.command("migrate")
def migrate_cmd() -> None:
    """Create the database if needed and apply pending migrations."""
    url = _settings().database_url

    async def run() -> list[str]:
        await ensure_database(url)
        return await migrate(url)

    applied = asyncio.run(run())
    console.print(f"applied: {', '.join(applied) or 'nothing (up to date)'}")


@app.command("topics")
def topics_cmd(replication_factor: int = 1) -> None:
    """Create the Kafka topics that do not exist yet (the broker must not auto-create them)."""
    created = asyncio.run(ensure_topics(_settings().kafka_bootstrap, replication_factor))
    console.print(f"created: {', '.join(created) or 'nothing (all exist)'}")


@app.command()
def rebuild() -> None:
    """Rebuild the counters read model from the event store (pauses the live projection)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tally06_aggregator.rebuild import rebuild_counters

    url = _settings().database_url
    with Progress(TextColumn("rebuilding counters"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("rebuild", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = asyncio.run(rebuild_counters(url, progress=advance))
    console.print(f"rebuilt from {result.events:,} events: {result.rows:,} counter rows, "
                  f"{len(result.positions)} keys")


@targets_app.command("import")
def targets_import(
    path: Path,
    valid_from: Annotated[str | None, typer.Option(help="When the targets take effect (ISO 8601); default now")] = None,
    partial: Annotated[bool, typer.Option(help="Save the valid rows even when some rows are bad")] = False,
) -> None:
    """Import campaign targets from CSV or an Appendix I workbook (.xlsx), with a per-row report."""
    import datetime as dt

    from tally06.org_store import load_org
    from tally06.targets_import import TargetsImportError, parse_targets_csv, parse_targets_xlsx
    from tally06.targets_store import save_campaign_targets

    moment = dt.datetime.fromisoformat(valid_from) if valid_from else dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        _fail("--valid-from needs a UTC offset, e.g. 2023-03-24T00:00:00+07:00")

    async def work(conn: asyncpg.Connection) -> tuple[object, int]:
        org = await load_org(conn)
        if path.suffix.lower() == ".xlsx":
            report = parse_targets_xlsx(path, org)
        else:
            report = parse_targets_csv(path.read_text(encoding="utf-8-sig"), org)
        saved = 0
        if report.targets and (partial or not report.errors):
            async with conn.transaction():
                saved = await save_campaign_targets(conn, report.targets, source=path.name, valid_from=moment)
        return report, saved

    try:
        report, saved = _on_db(work)
    except TargetsImportError as exc:
        _fail(str(exc))
    _print_row_errors(report.errors)
    if report.totals_row is not None and not report.totals_row.agrees:
        err.print("[yellow]the totals row disagrees with its rows:[/] " + "; ".join(report.totals_row.disagreements))
    console.print(f"{len(report.targets)} valid rows, {len(report.errors)} bad rows; saved {saved} "
                  f"targets in force from {moment.isoformat()}")
    if report.errors and not partial:
        raise typer.Exit(1)


@targets_app.command("daily")
def targets_daily(
    path: Path,
    valid_from: Annotated[str | None, typer.Option("--from", help="First local day (YYYY-MM-DD); default today")] = None,
    partial: Annotated[bool, typer.Option(help="Save the valid rows even when some rows are bad")] = False,
) -> None:
    """Import daily targets per team or commune (CSV: unit_code,metric,target)."""
    import datetime as dt

    from tally06.daily_targets import parse_daily_targets_csv, save_daily_targets
    from tally06.events import LOCAL_TZ
    from tally06.org_store import load_org

    day = dt.date.fromisoformat(valid_from) if valid_from else dt.datetime.now(LOCAL_TZ).date()

    async def work(conn: asyncpg.Connection) -> tuple[list, list, int]:
        targets, errors = parse_daily_targets_csv(path.read_text(encoding="utf-8"), await load_org(conn))
        saved = 0
        if targets and (partial or not errors):
            async with conn.transaction():
                saved = await save_daily_targets(conn, targets, source=path.name, valid_from=day)
        return targets, errors, saved

    targets, errors, saved = _on_db(work)
    _print_row_errors(errors)
    console.print(f"{len(targets)} valid rows, {len(errors)} bad rows; saved {saved} daily targets from {day}")
    if errors and not partial:
        raise typer.Exit(1)


@org_app.command("load")
def org_load(path: Path) -> None:
    """Load units from a CSV with columns code,name,kind,parent_code."""
    try:
        registry = parse_org_csv(path.read_text(encoding="utf-8"))
    except OrgError as exc:
        _fail(str(exc))

    async def work(conn: asyncpg.Connection) -> int:
        return await save_org(conn, registry)

    console.print(f"{_on_db(work)} units loaded")


@org_app.command("demo-csv")
def org_demo_csv() -> None:
    """Print the demo org (27 real districts of Thanh Hóa, generated communes and teams)."""
    sys.stdout.write(to_org_csv(demo_org().units()))


@token_app.command("issue")
def token_issue(team: Annotated[str, typer.Option(help="Team code, e.g. TH-03-C01-T1")],
                label: Annotated[str | None, typer.Option(help="Who holds the device")] = None) -> None:
    """Print a new device token for a team (shown once; only its hash is stored)."""

    async def work(conn: asyncpg.Connection) -> tuple[str, str]:
        return await issue_token(conn, team, label)

    try:
        token_id, token = _on_db(work)
    except ValueError as exc:
        _fail(str(exc))
    err.print(f"token id {token_id} for team {team}")
    print(token)


@token_app.command("revoke")
def token_revoke(token_id: str) -> None:
    """Revoke a device token by its id; ingest stops accepting it within a minute."""

    async def work(conn: asyncpg.Connection) -> bool:
        return await revoke_token(conn, token_id)

    if not _on_db(work):
        _fail(f"no active token with id {token_id}", 1)
    console.print(f"revoked {token_id}")


@token_app.command("list")
def token_list(team: str | None = None) -> None:
    """List device tokens (ids, teams, state), never the tokens themselves."""

    async def work(conn: asyncpg.Connection) -> list[asyncpg.Record]:
        return await conn.fetch(
            "SELECT id, team, label, created_at, revoked_at FROM device_tokens "
            "WHERE $1::text IS NULL OR team = $1 ORDER BY created_at", team)

    table = Table("id", "team", "label", "created", "revoked")
    for r in _on_db(work):
        table.add_row(r["id"], r["team"], r["label"] or "", f"{r['created_at']:%Y-%m-%d %H:%M}",
                      f"{r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "")
    console.print(table)


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app()
