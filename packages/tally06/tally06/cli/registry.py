"""``tally06 registry …``: the national registry's extracts (docs/registry-extracts.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from rich.markup import escape
from rich.table import Table

from tally06.cli.context import AdminActorOption, actor_name, console, err, fail, moment, on_db, settings
from tally06.domain.exceptions import KeyConfigError
from tally06.domain.pii import CitizenProtector
from tally06.imports.exceptions import RegistryExtractError
from tally06.imports.registry_extract import read_extract
from tally06.imports.row_errors import RowError
from tally06.store.registry_extracts import DEFAULT_MAX_BAD_SHARE, ExtractResult, Outcome, apply_extract, list_extracts

registry_app = typer.Typer(help="The national registry's extracts: what the state says was collected, approved "
                                "and activated (docs/registry-extracts.md).", no_args_is_help=True)

SHOWN_ERRORS = 50


def _protector() -> CitizenProtector:
    common = settings()
    try:
        return CitizenProtector(common.hmac_key, common.pii_keys)
    except KeyConfigError as exc:
        fail(f"{exc} (the embedded stack keeps the keys in .tally06/keys.env)")


def _print_errors(errors: list[RowError], bad_rows: int, show: int) -> None:
    if not errors:
        return
    shown = errors if show == 0 else errors[:show]
    table = Table("row", "field", "problem", title="bad rows")
    for e in shown:
        table.add_row(str(e.row), e.field, escape(e.message))
    err.print(table)
    rest = bad_rows - len({e.row for e in shown})
    if rest > 0:
        err.print(f"… and {rest:,} more bad rows" + (" (--show 0 lists all that were kept)" if show else ""))


@registry_app.command("import")
def registry_import(
    path: Annotated[Path, typer.Argument(help="The extract: .csv (UTF-8, header row) or .xlsx (first sheet)")],
    as_of: Annotated[str, typer.Option("--as-of", help="The moment the registry was extracted, with its UTC "
                                                       "offset, e.g. 2024-11-20T17:00+07:00")],
    force: Annotated[bool, typer.Option(help="Load an extract older than the newest loaded: it fills citizens "
                                             "not known yet and never overwrites newer records")] = False,
    max_bad_share: Annotated[float, typer.Option(min=0.0, max=1.0, help="Refuse the whole file when more than "
                                                 "this share of its rows is bad")] = DEFAULT_MAX_BAD_SHARE,
    show: Annotated[int, typer.Option(min=0, help="Bad rows to list (0: all)")] = SHOWN_ERRORS,
    actor: AdminActorOption = None,
) -> None:
    """Load a registry extract. The same file again changes nothing; a later one changes what
    moved; one with too many bad rows changes nothing (exit 2). The file is read, never kept."""
    moment_of = moment(as_of, "--as-of")
    protector = _protector()
    try:
        parsed = read_extract(path, protector)
    except RegistryExtractError as exc:
        fail(str(exc))

    async def work(conn: asyncpg.Connection) -> ExtractResult:
        return await apply_extract(conn, parsed, as_of=moment_of, force=force, actor=actor_name(actor),
                                   max_bad_share=max_bad_share)

    try:
        result = on_db(work)
    except RegistryExtractError as exc:
        fail(str(exc))
    _report(result, max_bad_share, show)


def _report(r: ExtractResult, max_bad_share: float, show: int) -> None:
    name = escape(r.source)
    if r.outcome is Outcome.ALREADY_LOADED:
        console.print(f"{name} was loaded before (extract {r.extract_id}, as of "
                      f"{r.other_as_of.isoformat() if r.other_as_of else '?'}): nothing changed")
        return
    _print_errors(r.errors, r.bad_rows, show)
    if r.outcome is Outcome.BAD_HEADER:
        fail(f"{name}: the header names no registry extract; nothing changed")
    if r.outcome is Outcome.OLDER:
        fail(f"{name} (as of {r.as_of.isoformat()}) is older than the newest extract loaded "
             f"({r.other_as_of.isoformat() if r.other_as_of else '?'}); nothing changed. --force loads it "
             "without overwriting newer records")
    if r.outcome is Outcome.TOO_MANY_BAD_ROWS:
        fail(f"{name}: {r.bad_rows:,} of {r.rows + r.bad_rows:,} rows are bad, more than "
             f"{max_bad_share:.2%}; nothing changed")
    if r.outcome is Outcome.NO_ROWS:
        fail(f"{name}: no citizen rows; nothing changed")
    console.print(
        f"extract {r.extract_id} ({name}, as of {r.as_of.isoformat()}): {r.rows:,} rows, {r.added:,} citizens "
        f"added, {r.updated:,} changed, {r.unchanged:,} unchanged"
        + (f"; {r.kept_newer:,} kept their newer record (forced older extract)" if r.forced else "")
        + (f"; {r.bad_rows:,} bad rows left out" if r.bad_rows else ""))


@registry_app.command("extracts")
def registry_extracts(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first")] = 50,
) -> None:
    """The extracts loaded: their moment, file name, rows and how many records they changed."""
    table = Table("id", "as of", "file", "rows", "changed", "forced", "by", "loaded at")
    for e in on_db(lambda conn: list_extracts(conn, limit)):
        table.add_row(str(e.id), e.as_of.isoformat(), escape(e.source or ""), f"{e.rows:,}", f"{e.changed:,}",
                      "yes" if e.forced else "", escape(e.imported_by or ""), f"{e.imported_at:%Y-%m-%d %H:%M}")
    console.print(table)
