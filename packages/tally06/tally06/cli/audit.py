"""``tally06 audit …``: the append-only audit log of report exports and admin changes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.table import Table

from tally06.cli.context import console, err, moment, on_db
from tally06.contract.events import LOCAL_TZ
from tally06.store.audit_log import read_entries

audit_app = typer.Typer(help="The append-only audit log of report exports and admin changes.", no_args_is_help=True)


@audit_app.command("list")
def audit_list(
    since: Annotated[str | None, typer.Option(
        help="From this day (YYYY-MM-DD, local) or moment (ISO 8601 with offset)")] = None,
    action: Annotated[str | None, typer.Option(
        help="An action (token.issue) or its family (token, pii, export)")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, the newest")] = 100,
) -> None:
    """Read the audit log, oldest first: who did what, when, with what summary."""

    start = None
    if since:
        try:
            start = dt.datetime.combine(dt.date.fromisoformat(since), dt.time(), LOCAL_TZ)
        except ValueError:
            start = moment(since, "--since")
    entries = on_db(lambda conn: read_entries(conn, since=start, action=action, limit=limit))
    table = Table("id", "at", "actor", "role", "action", "unit", "target", "rows", "summary")
    for e in entries:
        table.add_row(str(e.id), f"{e.at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M:%S}", e.actor, e.role, e.action,
                      e.unit or "", e.target, str(e.row_count), e.summary)
    console.print(table)
    err.print(f"{len(entries)} entries")
