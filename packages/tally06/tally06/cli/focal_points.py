"""``tally06 focal-points …``: who hears about the units under theirs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from rich.table import Table

from tally06.cli.context import AdminActorOption, audit, console, csv_text, load_file, on_db
from tally06.domain.focal_points import FocalPointRow, LoadResult
from tally06.imports.focal_points_csv import parse_focal_points_csv
from tally06.imports.row_errors import RowError
from tally06.store.focal_points import load_focal_points, recipients_by_unit

focal_app = typer.Typer(help="Focal points: who hears about the units under theirs.", no_args_is_help=True)


@focal_app.command("load")
def focal_points_load(
    path: Path,
    replace: Annotated[bool, typer.Option(
        "--replace/--add",
        help="Retire the recipients of the file's units that the file no longer names, or only add")] = False,
    actor: AdminActorOption = None,
) -> None:
    """Load focal points (CSV: unit_code,name,channel,address); any bad row saves nothing."""

    async def save(conn: asyncpg.Connection, rows: list[FocalPointRow], errors: list[RowError]) -> LoadResult:
        result = await load_focal_points(conn, rows, replace=replace)
        # Counts only: names and addresses of the people are personal data.
        await audit(conn, actor, "focal-points.load", path.name,
                    f"{'replace' if replace else 'add'} from {path.name} for {len({r.unit_code for r in rows})} "
                    f"units: {result.added} added, {result.kept} kept, {result.retired} retired",
                    row_count=result.added + result.retired)
        return result

    # No --partial: with --replace, a dropped bad row would retire the person it was meant to keep.
    loaded = load_file(path, lambda file, org: parse_focal_points_csv(csv_text(file), org), save, partial=False,
                       save_empty=True)
    result = loaded.saved
    if result is None:
        console.print(f"{len(loaded.rows)} valid rows, {len(loaded.errors)} bad rows; nothing saved")
        raise typer.Exit(1)
    console.print(f"{len(loaded.rows)} rows: {result.added} added, {result.kept} kept, {result.retired} retired")


@focal_app.command("list")
def focal_points_list(unit: Annotated[str | None, typer.Option(help="Only this unit, e.g. TH-03-C01")] = None) -> None:
    """List the active focal points."""
    by_unit = on_db(recipients_by_unit)
    table = Table("id", "unit", "name", "channel", "address")
    for code in sorted(by_unit) if unit is None else [unit]:
        for r in by_unit.get(code, []):
            table.add_row(str(r.id), r.unit, r.name, r.channel, r.address)
    console.print(table)
