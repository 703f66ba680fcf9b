"""What every command group uses: the consoles, settings, a database connection, the audit entry,
and the one flow that loads a file (parse against the org → save → audit → report bad rows).

Every admin command that changes state appends one entry to the audit log (who, what, a
summary without personal data or secrets), in the transaction of the change wherever the
change is one transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pwd
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Generic, NoReturn, TypeVar

import asyncpg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tally06.contract.events import LOCAL_TZ
from tally06.domain.org import OrgRegistry
from tally06.imports.row_errors import RowError
from tally06.kit.settings import CommonSettings
from tally06.store.audit_log import record_change
from tally06.store.org import load_org

T = TypeVar("T")
R = TypeVar("R")

console = Console()
err = Console(stderr=True)

ActorOption = Annotated[str | None, typer.Option(help="Who exports (audit log); default $USER")]
AdminActorOption = Annotated[str | None, typer.Option(help="Who makes the change (audit log); default the OS user")]
FromOption = Annotated[str | None, typer.Option("--from", help="First local day (YYYY-MM-DD); default today")]
PartialOption = Annotated[bool, typer.Option(help="Save the valid rows even when some rows are bad")]
BatchOption = Annotated[int, typer.Option(min=1, help="Rows per transaction")]


def settings() -> CommonSettings:
    return CommonSettings()


def on_db(work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``work`` with a connection to the configured database, closed afterwards."""

    async def run() -> T:
        conn = await asyncpg.connect(settings().database_url)
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def actor_name(actor: str | None) -> str:
    if actor:
        return actor
    for name in ("USER", "USERNAME", "LOGNAME"):
        if os.environ.get(name):
            return os.environ[name]
    try:  # containers often set no $USER; the image's user has a passwd entry
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid:{os.getuid()}"


async def audit(conn: asyncpg.Connection, actor: str | None, action: str, target: str, summary: str,
                **fields: Any) -> int:
    """One audit entry for an admin change; call it inside the change's transaction."""
    return await record_change(conn, actor=actor_name(actor), action=action, target=target, summary=summary,
                               **fields)


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def print_row_errors(errors: Sequence[RowError]) -> None:
    if errors:
        table = Table("row", "field", "problem", title="rows not imported")
        for e in errors:
            table.add_row(str(e.row), e.field, e.message)
        err.print(table)


def moment(text: str, option: str) -> dt.datetime:
    """An ISO 8601 moment with its UTC offset, or a clear error naming the option."""
    try:
        found = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option}: {text!r} is not an ISO 8601 time")
    if found.tzinfo is None:
        fail(f"{option} needs a UTC offset, e.g. 2023-04-30T17:00+07:00")
    return found


def moment_or_now(text: str | None, option: str = "--valid-from") -> dt.datetime:
    return moment(text, option) if text else dt.datetime.now(dt.UTC)


def local_day_or_today(text: str | None) -> dt.date:
    return dt.date.fromisoformat(text) if text else dt.datetime.now(LOCAL_TZ).date()


def progress_bar(description: str) -> Progress:
    return Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err)


@dataclass(frozen=True)
class Loaded(Generic[R]):
    """What a file gave: its valid rows, its bad rows, and what saving them returned (None: not saved)."""

    rows: Any
    errors: list[RowError]
    saved: R | None


def load_file(path: Path, parse: Callable[[Path, OrgRegistry], tuple[Any, list[RowError]]],
              save: Callable[[asyncpg.Connection, Any, list[RowError]], Awaitable[R]], *,
              partial: bool, save_empty: bool = False) -> Loaded[R]:
    """Parse a file against the org, then save its rows and audit them in one transaction.

    Without ``partial`` any bad row saves nothing; ``save`` writes the rows and their audit entry
    (it is given the bad rows, which the entry counts). A file without valid rows saves nothing
    unless ``save_empty`` (a replacing load that must still run its audit).
    """

    async def work(conn: asyncpg.Connection) -> Loaded[R]:
        rows, errors = parse(path, await load_org(conn))
        if (errors and not partial) or not (rows or save_empty):
            return Loaded(rows, errors, None)
        async with conn.transaction():
            return Loaded(rows, errors, await save(conn, rows, errors))

    loaded = on_db(work)
    print_row_errors(loaded.errors)
    return loaded


def csv_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def left_out(errors: Sequence[RowError]) -> str:
    return f"; {len(errors)} bad rows left out" if errors else ""
