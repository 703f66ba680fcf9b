"""The ``tally06`` command: run the stack, manage the org registry, tokens and topics.

Every admin command that changes state appends one entry to the audit log (who, what, a
summary without personal data or secrets), in the transaction of the change wherever the
change is one transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pwd
import signal
import sys
from pathlib import Path
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer
from rich.console import Console
from rich.markup import escape
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
focal_app = typer.Typer(help="Focal points: who hears about the units under theirs.", no_args_is_help=True)
app.add_typer(focal_app, name="focal-points")
report_app = typer.Typer(help="Official reports (Appendix I of plan 70) as .xlsx or .csv.", no_args_is_help=True)
app.add_typer(report_app, name="report")
pii_app = typer.Typer(help="Personal data at rest: encryption keys, re-encryption, retention (docs/personal-data.md).",
                      no_args_is_help=True)
app.add_typer(pii_app, name="pii")
audit_app = typer.Typer(help="The append-only audit log of report exports and admin changes.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

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


ActorOption = Annotated[str | None, typer.Option(help="Who exports (audit log); default $USER")]
AdminActorOption = Annotated[str | None, typer.Option(help="Who makes the change (audit log); default the OS user")]


def _actor(actor: str | None) -> str:
    if actor:
        return actor
    for name in ("USER", "USERNAME", "LOGNAME"):
        if os.environ.get(name):
            return os.environ[name]
    try:  # containers often set no $USER; the image's user has a passwd entry
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid:{os.getuid()}"


async def _audit(conn: asyncpg.Connection, actor: str | None, action: str, target: str, summary: str,
                 **fields: object) -> int:
    """One audit entry for an admin change; call it inside the change's transaction."""
    from tally06.reports.audit import record_change

    return await record_change(conn, actor=_actor(actor), action=action, target=target, summary=summary, **fields)


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
    wallboard_port: int = 8062,
    aggregator_port: int = 8063,
    relay_port: int = 8064,
    notifier_port: int = 8065,
    pg_port: int = 55432,
    kafka_port: int = 19092,
    home: Path = Path(".tally06"),
    seed: Annotated[int, typer.Option(help="Simulator seed")] = 6,
    speed: Annotated[float, typer.Option(help="Simulator clock speed while catching up with now")] = 1800.0,
    backfill_hours: Annotated[float, typer.Option(help="Simulated hours before now (a day and more, so the demo shows work at any hour)")] = 30.0,
) -> None:
    """Start PostgreSQL, the broker, topics, migrations and the services; Ctrl-C stops all."""
    from tally06.stack import Stack, StackConfig

    settings = _settings()
    configure_logging(settings.log_level, json=False, service="stack")
    config = StackConfig(
        home=home, ingest_port=ingest_port, wallboard_port=wallboard_port, aggregator_port=aggregator_port,
        relay_port=relay_port, notifier_port=notifier_port, pg_port=pg_port, kafka_port=kafka_port,
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
    actor: AdminActorOption = None,
) -> None:
    """Import campaign targets from CSV or an Appendix I workbook (.xlsx), with a per-row report."""
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
                await _audit(conn, actor, "targets.import", path.name,
                             f"{saved} campaign targets from {path.name} in force from {moment.isoformat()}"
                             + (f"; {len(report.errors)} bad rows left out" if report.errors else ""),
                             row_count=saved, period_from=moment)
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


FromOption = Annotated[str | None, typer.Option("--from", help="First local day (YYYY-MM-DD); default today")]
PartialOption = Annotated[bool, typer.Option(help="Save the valid rows even when some rows are bad")]


def _import_by_day(path: Path, valid_from: str | None, partial: bool, what: str,
                   parse: Callable[..., tuple[list, list]], save: Callable[..., Awaitable[int]],
                   action: str, actor: str | None) -> None:
    """Parse a CSV against the org, save its rows as a version starting on a local day, report."""
    from tally06.events import LOCAL_TZ
    from tally06.org_store import load_org

    day = dt.date.fromisoformat(valid_from) if valid_from else dt.datetime.now(LOCAL_TZ).date()

    async def work(conn: asyncpg.Connection) -> tuple[list, list, int]:
        rows, errors = parse(path.read_text(encoding="utf-8"), await load_org(conn))
        saved = 0
        if rows and (partial or not errors):
            async with conn.transaction():
                saved = await save(conn, rows, source=path.name, valid_from=day)
                await _audit(conn, actor, action, path.name,
                             f"{saved} {what} from {path.name} from {day}"
                             + (f"; {len(errors)} bad rows left out" if errors else ""),
                             row_count=saved, period_from=dt.datetime.combine(day, dt.time(), LOCAL_TZ))
        return rows, errors, saved

    rows, errors, saved = _on_db(work)
    _print_row_errors(errors)
    console.print(f"{len(rows)} valid rows, {len(errors)} bad rows; saved {saved} {what} from {day}")
    if errors and not partial:
        raise typer.Exit(1)


@targets_app.command("daily")
def targets_daily(path: Path, valid_from: FromOption = None, partial: PartialOption = False,
                  actor: AdminActorOption = None) -> None:
    """Import daily targets per team or commune (CSV: unit_code,metric,target)."""
    from tally06.daily_targets import parse_daily_targets_csv, save_daily_targets

    _import_by_day(path, valid_from, partial, "daily targets", parse_daily_targets_csv, save_daily_targets,
                   "targets.daily", actor)


@targets_app.command("phases")
def targets_phases(
    path: Path,
    valid_from: Annotated[str | None, typer.Option(help="When they take effect (ISO 8601); default now")] = None,
    actor: AdminActorOption = None,
) -> None:
    """Import campaign phases (CSV: unit_code,phase,starts,ends,goal); the last phase's end is the
    unit's deadline, and units below follow it. Any bad row saves nothing."""
    from tally06.org_store import load_org
    from tally06.phases import parse_phases_csv, save_phases

    moment = dt.datetime.fromisoformat(valid_from) if valid_from else dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        _fail("--valid-from needs a UTC offset, e.g. 2023-03-24T00:00+07:00")

    async def work(conn: asyncpg.Connection) -> tuple[dict, list, int]:
        phases, errors = parse_phases_csv(path.read_text(encoding="utf-8"), await load_org(conn))
        saved = 0
        if not errors:
            async with conn.transaction():
                saved = await save_phases(conn, phases, source=path.name, valid_from=moment)
                await _audit(conn, actor, "targets.phases", path.name,
                             f"{saved} phases of {len(phases)} units from {path.name} in force from {moment.isoformat()}",
                             row_count=saved, period_from=moment)
        return phases, errors, saved

    phases, errors, saved = _on_db(work)
    _print_row_errors(errors)
    console.print(f"{len(phases)} units, {len(errors)} bad rows; saved {saved} phases in force from {moment.isoformat()}")
    if errors:
        raise typer.Exit(1)


@targets_app.command("hours")
def targets_hours(path: Path, valid_from: FromOption = None, partial: PartialOption = False,
                  actor: AdminActorOption = None) -> None:
    """Import working hours per unit (CSV: unit_code,starts,ends in local HH:MM); units below inherit them."""
    from tally06.working_hours import parse_working_hours_csv, save_working_hours

    _import_by_day(path, valid_from, partial, "working hours", parse_working_hours_csv, save_working_hours,
                   "targets.hours", actor)


@focal_app.command("load")
def focal_points_load(
    path: Path,
    replace: Annotated[bool, typer.Option(
        "--replace/--add",
        help="Retire the recipients of the file's units that the file no longer names, or only add")] = False,
    actor: AdminActorOption = None,
) -> None:
    """Load focal points (CSV: unit_code,name,channel,address); any bad row saves nothing."""
    from tally06.focal_points import load_focal_points, parse_focal_points_csv
    from tally06.org_store import load_org

    # No --partial: with --replace, a dropped bad row would retire the person it was meant to keep.
    async def work(conn: asyncpg.Connection) -> tuple[list, list, object]:
        rows, errors = parse_focal_points_csv(path.read_text(encoding="utf-8"), await load_org(conn))
        if errors:
            return rows, errors, None
        async with conn.transaction():
            result = await load_focal_points(conn, rows, replace=replace)
            # Counts only: names and addresses of the people are personal data.
            await _audit(conn, actor, "focal-points.load", path.name,
                         f"{'replace' if replace else 'add'} from {path.name} for {len({r.unit_code for r in rows})} "
                         f"units: {result.added} added, {result.kept} kept, {result.retired} retired",
                         row_count=result.added + result.retired)
        return rows, errors, result

    rows, errors, result = _on_db(work)
    _print_row_errors(errors)
    if result is None:
        console.print(f"{len(rows)} valid rows, {len(errors)} bad rows; nothing saved")
        raise typer.Exit(1)
    console.print(f"{len(rows)} rows: {result.added} added, {result.kept} kept, {result.retired} retired")


@focal_app.command("list")
def focal_points_list(unit: Annotated[str | None, typer.Option(help="Only this unit, e.g. TH-03-C01")] = None) -> None:
    """List the active focal points."""
    from tally06.focal_points import recipients_by_unit

    by_unit = _on_db(recipients_by_unit)
    table = Table("id", "unit", "name", "channel", "address")
    for code in sorted(by_unit) if unit is None else [unit]:
        for r in by_unit.get(code, []):
            table.add_row(str(r.id), r.unit, r.name, r.channel, r.address)
    console.print(table)


@org_app.command("load")
def org_load(path: Path, actor: AdminActorOption = None) -> None:
    """Load units from a CSV with columns code,name,kind,parent_code."""
    try:
        registry = parse_org_csv(path.read_text(encoding="utf-8"))
    except OrgError as exc:
        _fail(str(exc))

    async def work(conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            saved = await save_org(conn, registry)
            kinds: dict[str, int] = {}
            for unit in registry.units():
                kinds[unit.kind.value] = kinds.get(unit.kind.value, 0) + 1
            await _audit(conn, actor, "org.load", path.name,
                         f"{saved} units from {path.name} ("
                         + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) + ")",
                         row_count=saved, detail={"kinds": kinds})
        return saved

    console.print(f"{_on_db(work)} units loaded")


@org_app.command("demo-csv")
def org_demo_csv() -> None:
    """Print the demo org (27 real districts of Thanh Hóa, generated communes and teams)."""
    sys.stdout.write(to_org_csv(demo_org().units()))


@token_app.command("issue")
def token_issue(team: Annotated[str, typer.Option(help="Team code, e.g. TH-03-C01-T1")],
                label: Annotated[str | None, typer.Option(help="Who holds the device")] = None,
                actor: AdminActorOption = None) -> None:
    """Print a new device token for a team (shown once; only its hash is stored)."""

    async def work(conn: asyncpg.Connection) -> tuple[str, str]:
        async with conn.transaction():
            token_id, token = await issue_token(conn, team, label)
            # The id only, never the token; nor the label, which may name the person holding the device.
            await _audit(conn, actor, "token.issue", f"token {token_id}",
                         f"device token {token_id} issued for team {team}", unit=team, row_count=1)
        return token_id, token

    try:
        token_id, token = _on_db(work)
    except ValueError as exc:
        _fail(str(exc))
    err.print(f"token id {token_id} for team {team}")
    print(token)


@token_app.command("revoke")
def token_revoke(token_id: str, actor: AdminActorOption = None) -> None:
    """Revoke a device token by its id; ingest stops accepting it within a minute."""

    async def work(conn: asyncpg.Connection) -> bool:
        async with conn.transaction():
            team = await revoke_token(conn, token_id)
            if team is None:
                return False
            await _audit(conn, actor, "token.revoke", f"token {token_id}",
                         f"device token {token_id} of team {team} revoked", unit=team, row_count=1)
        return True

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


def _report_period(out: Path, end: str, start: str | None,
                   options: tuple[str, str] = ("--to", "--from")):  # noqa: ANN202 - datetimes
    """The output file's kind checked, then the period's end and optional start."""
    if out.suffix.lower() not in (".xlsx", ".csv"):
        _fail(f"--out must end in .xlsx or .csv, not {out.suffix or '(nothing)'}")
    return _moment(end, options[0]), _moment(start, options[1]) if start else None


def _moment(text: str, option: str):  # noqa: ANN202 - datetime
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        _fail(f"{option}: {text!r} is not an ISO 8601 time")
    if moment.tzinfo is None:
        _fail(f"{option} needs a UTC offset, e.g. 2023-04-30T17:00+07:00")
    return moment


RoleOption = Annotated[str, typer.Option(help="Role of who exports; only 'police' may export clear personal data")]


@report_app.command("appendix1")
def report_appendix1(
    unit: Annotated[str, typer.Option(help="The unit whose child units are listed (TH → its districts)")],
    cutoff: Annotated[str, typer.Option(help="Figures as of this moment (ISO 8601 with offset)")],
    out: Annotated[Path, typer.Option(help="Output file, .xlsx or .csv")],
    since: Annotated[str | None, typer.Option(help="Previous report's cutoff: list the corrections that arrived after it")] = None,
    actor: ActorOption = None,
    role: RoleOption = "staff",
) -> None:
    """Appendix I (targets, activations, completion %, remaining) as of a cutoff, from the event store."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tally06.reports import ReportError, build_appendix1, write_appendix1

    at, previous = _report_period(out, cutoff, since, ("--cutoff", "--since"))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("reading the event store", total=None)

        async def work(conn: asyncpg.Connection):  # noqa: ANN202
            from tally06.reports.audit import record_export

            built = await build_appendix1(
                conn, unit, at, previous,
                progress=lambda what: bar.update(task, description=f"reading {what}"))
            await record_export(conn, actor=_actor(actor), role=role, action="export.appendix1",
                                unit=unit, period_from=previous, period_to=at, clear_pii=False,
                                row_count=len(built.rows), target=out.resolve())
            return built

        try:
            report = _on_db(work)
        except ReportError as exc:
            _fail(str(exc))
        bar.update(task, description=f"writing {out.name}", completed=0, total=len(report.rows) + 1)
        files = write_appendix1(report, out, lambda done, total: bar.update(task, completed=done, total=total))
    t = report.total
    console.print(f"Appendix I of {report.unit_code} as of {at.isoformat()}: {len(report.rows)} units, "
                  f"activated {t.activated_total:,} of {t.target_total:,} ({t.completion_pct} %), "
                  f"remaining {t.remaining:,}")
    if previous is not None:
        late = sum(c.activated_total for c in report.corrections)
        console.print(f"corrections since {previous.isoformat()}: {late:,} late activations in "
                      f"{len(report.corrections)} units")
    console.print("written: " + ", ".join(str(f) for f in files))


@report_app.command("appendix2")
def report_appendix2(
    unit: Annotated[str, typer.Option(help="Unit whose activations are listed (any level)")],
    to: Annotated[str, typer.Option("--to", help="End of the period / cutoff (ISO 8601 with offset)")],
    out: Annotated[Path, typer.Option(help="Output file, .xlsx or .csv")],
    start: Annotated[str | None, typer.Option("--from", help="Start of the period (exclusive); default: from the beginning")] = None,
    clear: Annotated[bool, typer.Option(help="Clear CCCD, names and phones (role 'police' only); masked otherwise")] = False,
    actor: ActorOption = None,
    role: RoleOption = "staff",
) -> None:
    """Appendix II: the per-activation list (citizen, CCCD, phone, guiding officer, running total)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tally06.exceptions import KeyConfigError
    from tally06.pii import CitizenProtector
    from tally06.reports import ReportError
    from tally06.reports.appendix2 import build_appendix2, may_see_clear
    from tally06.reports.appendix2_writers import write_appendix2
    from tally06.reports.audit import record_export

    period_to, period_from = _report_period(out, to, start)
    who = _actor(actor)
    if clear and not may_see_clear(role):
        async def refuse(conn: asyncpg.Connection) -> None:
            await record_export(conn, actor=who, role=role, action="export.appendix2.refused", unit=unit,
                                period_from=period_from, period_to=period_to, clear_pii=True,
                                row_count=0, target=out.resolve())

        _on_db(refuse)
        _fail(f"role {role!r} may not export clear personal data (refused and logged)", 3)
    settings = _settings()
    try:
        protector = CitizenProtector(settings.hmac_key, settings.pii_keys)
    except KeyConfigError as exc:
        _fail(f"{exc} (set TALLY06_HMAC_KEY and TALLY06_PII_KEYS; the embedded stack keeps them in .tally06/keys.env)")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("reading activations", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        async def work(conn: asyncpg.Connection):  # noqa: ANN202
            async with conn.transaction():
                built = await build_appendix2(conn, unit, period_to, period_from, protector=protector,
                                              clear=clear, progress=advance)
                await record_export(conn, actor=who, role=role, action="export.appendix2", unit=unit,
                                    period_from=period_from, period_to=period_to, clear_pii=clear,
                                    row_count=len(built.rows), target=out.resolve())
            return built

        try:
            report = _on_db(work)
        except ReportError as exc:
            _fail(str(exc))
        bar.update(task, description=f"writing {out.name}", completed=0, total=max(1, len(report.rows)))
        write_appendix2(report, out, advance)
    console.print(f"Appendix II of {report.unit_code}: {len(report.rows):,} activations, "
                  f"{'clear' if clear else 'masked'} personal data; written: {out}")


@report_app.command("officers")
def report_officers(
    unit: Annotated[str, typer.Option(help="Unit whose teams and officers are listed")],
    to: Annotated[str, typer.Option("--to", help="End of the period / cutoff (ISO 8601 with offset)")],
    out: Annotated[Path, typer.Option(help="Output file, .xlsx or .csv")],
    start: Annotated[str | None, typer.Option("--from", help="Start of the period (exclusive)")] = None,
    actor: ActorOption = None,
    role: RoleOption = "staff",
) -> None:
    """Per team and per officer, with the rule that every official guides at least 10 citizens."""
    from tally06.reports import ReportError
    from tally06.reports.appendix2 import MIN_CITIZENS_PER_OFFICIAL, build_officer_report
    from tally06.reports.appendix2_writers import period_label, write_officer_report
    from tally06.reports.audit import record_export

    period_to, period_from = _report_period(out, to, start)

    async def work(conn: asyncpg.Connection):  # noqa: ANN202
        built = await build_officer_report(conn, unit, period_to, period_from)
        await record_export(conn, actor=_actor(actor), role=role, action="export.officers", unit=unit,
                            period_from=period_from, period_to=period_to, clear_pii=False,
                            row_count=len(built[1]), target=out.resolve())
        return built

    try:
        teams, officers = _on_db(work)
    except ReportError as exc:
        _fail(str(exc))
    write_officer_report(teams, officers, out,
                         f"Kết quả theo tổ công tác và cán bộ — {unit} — {period_label(period_from, period_to)}")
    below = sum(not o.meets_minimum for o in officers)
    console.print(f"{len(teams)} teams, {len(officers)} officers, {below} below {MIN_CITIZENS_PER_OFFICIAL} "
                  f"citizens; written: {out}")


# --------------------------------------------------------------------------- personal data at rest


def _key_ring():  # noqa: ANN202 - KeyRing
    from tally06.exceptions import KeyConfigError
    from tally06.pii import KeyRing

    try:
        return KeyRing(_settings().pii_keys)
    except KeyConfigError as exc:
        _fail(f"{exc} (the embedded stack keeps TALLY06_PII_KEYS in .tally06/keys.env)")


@pii_app.command("new-key")
def pii_new_key(
    key_id: Annotated[str | None, typer.Option("--id", help="Key id; default k<today>, e.g. k20250131")] = None,
) -> None:
    """Print a new key as id:base64, to put FIRST in TALLY06_PII_KEYS on every service."""
    from tally06.exceptions import KeyConfigError
    from tally06.pii import new_key_entry

    try:
        entry = new_key_entry(key_id or f"k{dt.datetime.now(dt.UTC):%Y%m%d}")
    except KeyConfigError as exc:
        _fail(str(exc))
    err.print("put it first in TALLY06_PII_KEYS, keep the old keys, restart, then run "
              "'tally06 pii rekey' (docs/personal-data.md)")
    print(entry)


@pii_app.command("keys")
def pii_keys() -> None:
    """The key ids of TALLY06_PII_KEYS and how many rows each still seals (never key material)."""
    from tally06.pii_rotation import ACTIVE, OLD, UNKNOWN, key_usage, rows_by_key

    ring = _key_ring()
    usage = key_usage(ring.ids, _on_db(rows_by_key))
    meaning = {ACTIVE: "active: seals new rows", OLD: "old: opens only",
               UNKNOWN: "NOT IN TALLY06_PII_KEYS: unreadable here"}
    table = Table("key id", "use", "rows")
    for u in usage:
        note = " (may leave the ring)" if u.status == OLD and u.rows == 0 else ""
        table.add_row(escape(u.key_id), meaning[u.status] + note, f"{u.rows:,}")
    console.print(table)


BatchOption = Annotated[int, typer.Option(min=1, help="Rows per transaction")]


@pii_app.command("rekey")
def pii_rekey(batch_size: BatchOption = 500, actor: AdminActorOption = None) -> None:
    """Re-encrypt every citizen_pii row sealed with an old key under the first key of the ring.

    Batches of short transactions: safe while ingest runs, safe to stop and to run again or twice
    at once. Exit 1 when rows remain that this ring cannot open (they are listed, not touched).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tally06.pii_rotation import RekeyResult, new_result, rekey

    ring = _key_ring()
    with Progress(TextColumn(f"re-encrypting under key {ring.active_id}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("rekey", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        async def work(conn: asyncpg.Connection) -> RekeyResult:
            result, finished = new_result(ring), False
            try:
                await rekey(conn, ring, batch_size=batch_size, progress=advance, result=result)
                finished = True
            finally:
                # Batches commit one by one, so the entry follows them: also after a stop half-way.
                await _audit(conn, actor, "pii.rekey", "citizen_pii",
                             f"{result.resealed} rows re-encrypted under key {ring.active_id}"
                             + ("" if finished else " before the run stopped")
                             + (f"; {sum(result.unreadable.values())} unreadable" if result.unreadable else "")
                             + (f"; {sum(result.unknown.values())} with keys not in the ring" if result.unknown else ""),
                             row_count=result.resealed,
                             detail={"active_key": ring.active_id, "old_keys": result.old_ids, "batches": result.batches,
                                     "unreadable": result.unreadable, "unknown_keys": result.unknown,
                                     "remaining": result.remaining, "finished": finished})
            return result

        result = _on_db(work)
    console.print(f"re-encrypted {result.resealed:,} rows under key {result.active_id} in {result.batches} batches")
    for key_id, n in sorted(result.unreadable.items()):
        err.print(f"[yellow]{n:,} rows under key {escape(key_id)} did not open with that key[/] (wrong key "
                  "material under that id?); left as they were")
    for key_id, n in sorted(result.unknown.items()):
        err.print(f"[yellow]{n:,} rows are sealed with key {escape(repr(key_id))}, which is not in "
                  "TALLY06_PII_KEYS:[/] add it (anywhere after the first) and run again, or accept them as erased")
    waiting = result.remaining - sum(result.unreadable.values())
    if waiting > 0:
        err.print(f"[yellow]{waiting:,} rows were written meanwhile with an old key:[/] restart every service "
                  f"with {result.active_id} first in the ring, then run again")
    if result.complete:
        console.print("every row is sealed with the active key: the old keys may leave the ring")
    else:
        raise typer.Exit(1)


@pii_app.command("retention")
def pii_retention(
    older_than_days: Annotated[int | None, typer.Option(
        help="Erase personal data stored more than this many days ago; default TALLY06_PII_RETENTION_DAYS (365)")] = None,
    dry_run: Annotated[bool, typer.Option(help="Only count what would be erased")] = False,
    batch_size: BatchOption = 1000,
    actor: AdminActorOption = None,
) -> None:
    """Erase clear personal data (citizen_pii rows) past retention; counts and reports stay as they were."""
    from tally06.pii_retention import erase_expired, expired, retention_cutoff

    days = older_than_days if older_than_days is not None else _settings().pii_retention_days
    try:
        cutoff = retention_cutoff(dt.datetime.now(dt.UTC), days)
    except ValueError as exc:
        _fail(f"--older-than-days {days}: {exc}")

    if dry_run:
        found = _on_db(lambda conn: expired(conn, cutoff))
        oldest = f" (the oldest stored {found.oldest:%Y-%m-%d})" if found.oldest else ""
        console.print(f"dry run: would erase {found.rows:,} rows of personal data stored before "
                      f"{cutoff.isoformat(timespec='seconds')} ({days} days){oldest}")
        return

    async def work(conn: asyncpg.Connection) -> tuple[int, int]:
        import time

        erased, batches, finished, shown = 0, 0, False, time.monotonic()

        def advance(done: int, total: int) -> None:
            # Plain lines, every few seconds: a CronJob's log is no terminal for a progress bar.
            nonlocal erased, batches, shown
            erased, batches = done, batches + 1
            if done == total or time.monotonic() - shown >= 5:
                shown = time.monotonic()
                err.print(f"erased {done:,} of {total:,}")

        try:
            await erase_expired(conn, cutoff, batch_size=batch_size, progress=advance)
            finished = True
        finally:
            # One entry per run, after the batches (each commits on its own), also after a stop.
            await _audit(conn, actor, "pii.retention", "citizen_pii",
                         f"{erased} rows of personal data stored before {cutoff.isoformat(timespec='seconds')} "
                         f"erased ({days} days retention)" + ("" if finished else " before the run stopped"),
                         row_count=erased, period_to=cutoff,
                         detail={"retention_days": days, "batches": batches, "finished": finished})
        return erased, batches

    erased, batches = _on_db(work)
    console.print(f"erased {erased:,} rows of personal data stored before {cutoff.isoformat(timespec='seconds')} "
                  f"({days} days) in {batches} batches")


# --------------------------------------------------------------------------- audit log


@audit_app.command("list")
def audit_list(
    since: Annotated[str | None, typer.Option(help="From this day (YYYY-MM-DD, local) or moment (ISO 8601 with offset)")] = None,
    action: Annotated[str | None, typer.Option(help="An action (token.issue) or its family (token, pii, export)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, the newest")] = 100,
) -> None:
    """Read the audit log, oldest first: who did what, when, with what summary."""
    from tally06.events import LOCAL_TZ
    from tally06.reports.audit import read_entries

    start = None
    if since:
        try:
            start = dt.datetime.combine(dt.date.fromisoformat(since), dt.time(), LOCAL_TZ)
        except ValueError:
            start = _moment(since, "--since")
    entries = _on_db(lambda conn: read_entries(conn, since=start, action=action, limit=limit))
    table = Table("id", "at", "actor", "role", "action", "unit", "target", "rows", "summary")
    for e in entries:
        table.add_row(str(e.id), f"{e.at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M:%S}", e.actor, e.role, e.action,
                      e.unit or "", e.target, str(e.row_count), e.summary)
    console.print(table)
    err.print(f"{len(entries)} entries")


# Registered last: the user commands reuse this module's helpers.
from tally06.cli_users import user_app  # noqa: E402

app.add_typer(user_app, name="user")


def main() -> None:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app()
