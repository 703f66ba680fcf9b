"""``tally06 targets …``: campaign targets (Appendix I), daily targets, phases and working hours.

Each may be given to a unit of any level; a unit without its own follows the units below it
(targets, summed) or above it (phases and hours). Rows stay in force until replaced, so a file
may name a unit of the map in force when its rows take effect (``--valid-from`` / ``--from``)
or of any map that takes effect after that: plan 70's targets of 2023 name the districts of the
2023 map, a two-tier province's targets name its communes. A sheet's row numbers (STT) are read
in the map in force when it takes effect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Container
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import typer

from tally06.cli.context import (
    AdminActorOption,
    FromOption,
    PartialOption,
    audit,
    console,
    csv_text,
    err,
    fail,
    left_out,
    load_file,
    local_day_or_today,
    moment_or_now,
    on_db,
)
from tally06.contract.events import LOCAL_TZ, local_day
from tally06.domain.calendar import Phase
from tally06.domain.org import OrgRegistry
from tally06.domain.targets import CampaignTarget
from tally06.imports.daily_targets_csv import parse_daily_targets_csv
from tally06.imports.exceptions import TargetsImportError
from tally06.imports.phases_csv import parse_phases_csv
from tally06.imports.row_errors import RowError
from tally06.imports.targets_spreadsheet import ImportReport, parse_targets_csv, parse_targets_xlsx
from tally06.imports.working_hours_csv import parse_working_hours_csv
from tally06.store.org import load_map, map_ids
from tally06.store.phases import save_phases
from tally06.store.targets import save_campaign_targets, save_daily_targets
from tally06.store.working_hours import save_working_hours

targets_app = typer.Typer(help="Campaign targets (Appendix I), versioned.", no_args_is_help=True)

SheetUnitOption = Annotated[str | None, typer.Option(
    "--unit", help="The unit whose units the sheet lists by row number (STT); default the map's only province")]


def _maps_from(day: dt.date) -> list[OrgRegistry]:
    """The map in force on the day rows take effect, then the maps that take effect later: the
    maps in which the rows are in force (until replaced). Empty before any map is loaded."""

    async def work(conn: asyncpg.Connection) -> list[OrgRegistry]:
        ids = [i for i, effective in await map_ids(conn) if effective > day]
        found = [await load_map(conn, day=day), *[await load_map(conn, i) for i in ids]]
        return [m.registry for m in found if m is not None]

    return on_db(work)


def _codes(maps: list[OrgRegistry]) -> set[str]:
    return {u.code for registry in maps for u in registry.units()}


@targets_app.command("import")
def targets_import(
    path: Path,
    valid_from: Annotated[str | None, typer.Option(help="When the targets take effect (ISO 8601); default now")] = None,
    unit: SheetUnitOption = None,
    partial: PartialOption = False,
    actor: AdminActorOption = None,
) -> None:
    """Import campaign targets of units of any level from CSV or an Appendix I workbook (.xlsx),
    with a per-row report; a unit without its own target is judged by the sum of those below it."""
    moment = moment_or_now(valid_from)
    reports: list[ImportReport] = []
    org, *later = _maps_from(local_day(moment)) or [OrgRegistry(())]

    def parse(file: Path, _today: OrgRegistry) -> tuple[list[CampaignTarget], list[RowError]]:
        if file.suffix.lower() == ".xlsx":
            report = parse_targets_xlsx(file, org, unit)
        else:
            report = parse_targets_csv(file.read_text(encoding="utf-8-sig"), org, unit, later)
        reports.append(report)  # its totals row is checked below
        return report.targets, report.errors

    async def save(conn: asyncpg.Connection, targets: list[CampaignTarget], errors: list[RowError]) -> int:
        saved = await save_campaign_targets(conn, targets, source=path.name, valid_from=moment)
        await audit(conn, actor, "targets.import", path.name,
                    f"{saved} campaign targets from {path.name} in force from {moment.isoformat()}"
                    + left_out(errors), row_count=saved, period_from=moment)
        return saved

    try:
        loaded = load_file(path, parse, save, partial=partial)
    except TargetsImportError as exc:
        fail(str(exc))
    totals = reports[0].totals_row
    if totals is not None and not totals.agrees:
        err.print("[yellow]the totals row disagrees with its rows:[/] " + "; ".join(totals.disagreements))
    console.print(f"{len(loaded.rows)} valid rows, {len(loaded.errors)} bad rows; saved {loaded.saved or 0} "
                  f"targets in force from {moment.isoformat()}")
    if loaded.errors and not partial:
        raise typer.Exit(1)


def _import_by_day(path: Path, valid_from: str | None, partial: bool, what: str, action: str, actor: str | None,
                   parse: Callable[[str, Container[str]], tuple[list[Any], list[RowError]]],
                   save: Callable[..., Awaitable[int]]) -> None:
    """Rows saved as a version that starts on a local day (daily targets, working hours)."""
    day = local_day_or_today(valid_from)
    known = _codes(_maps_from(day))

    async def save_and_audit(conn: asyncpg.Connection, rows: list[Any], errors: list[RowError]) -> int:
        saved = await save(conn, rows, source=path.name, valid_from=day)
        await audit(conn, actor, action, path.name, f"{saved} {what} from {path.name} from {day}" + left_out(errors),
                    row_count=saved, period_from=dt.datetime.combine(day, dt.time(), LOCAL_TZ))
        return saved

    loaded = load_file(path, lambda file, _today: parse(csv_text(file), known), save_and_audit, partial=partial)
    console.print(f"{len(loaded.rows)} valid rows, {len(loaded.errors)} bad rows; saved {loaded.saved or 0} {what} "
                  f"from {day}")
    if loaded.errors and not partial:
        raise typer.Exit(1)


@targets_app.command("daily")
def targets_daily(path: Path, valid_from: FromOption = None, partial: PartialOption = False,
                  actor: AdminActorOption = None) -> None:
    """Import daily targets of units of any level (CSV: unit_code,metric,target); a unit's own
    target wins over the sum of those below it."""
    _import_by_day(path, valid_from, partial, "daily targets", "targets.daily", actor, parse_daily_targets_csv,
                   save_daily_targets)


@targets_app.command("hours")
def targets_hours(path: Path, valid_from: FromOption = None, partial: PartialOption = False,
                  actor: AdminActorOption = None) -> None:
    """Import working hours per unit (CSV: unit_code,starts,ends in local HH:MM); units below inherit them."""
    _import_by_day(path, valid_from, partial, "working hours", "targets.hours", actor, parse_working_hours_csv,
                   save_working_hours)


@targets_app.command("phases")
def targets_phases(
    path: Path,
    valid_from: Annotated[str | None, typer.Option(help="When they take effect (ISO 8601); default now")] = None,
    actor: AdminActorOption = None,
) -> None:
    """Import campaign phases (CSV: unit_code,phase,starts,ends,goal); the last phase's end is the
    unit's deadline, and units below follow it. Any bad row saves nothing."""
    moment = moment_or_now(valid_from)
    known = _codes(_maps_from(local_day(moment)))

    async def save(conn: asyncpg.Connection, phases: dict[str, list[Phase]], errors: list[RowError]) -> int:
        saved = await save_phases(conn, phases, source=path.name, valid_from=moment)
        await audit(conn, actor, "targets.phases", path.name,
                    f"{saved} phases of {len(phases)} units from {path.name} in force from {moment.isoformat()}",
                    row_count=saved, period_from=moment)
        return saved

    loaded = load_file(path, lambda file, _today: parse_phases_csv(csv_text(file), known), save, partial=False,
                       save_empty=True)
    console.print(f"{len(loaded.rows)} units, {len(loaded.errors)} bad rows; saved {loaded.saved or 0} phases in force "
                  f"from {moment.isoformat()}")
    if loaded.errors:
        raise typer.Exit(1)
