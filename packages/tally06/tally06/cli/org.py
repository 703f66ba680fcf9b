"""``tally06 org …``: the organisation registry."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import asyncpg
import typer

from tally06.cli.context import AdminActorOption, audit, console, fail, on_db
from tally06.domain.exceptions import OrgError
from tally06.imports.org_csv import parse_org_csv, to_org_csv
from tally06.imports.reference import demo_org
from tally06.store.org import save_org

org_app = typer.Typer(help="The organisation registry (province → district → commune → team).", no_args_is_help=True)


@org_app.command("load")
def org_load(path: Path, actor: AdminActorOption = None) -> None:
    """Load units from a CSV with columns code,name,kind,parent_code."""
    try:
        registry = parse_org_csv(path.read_text(encoding="utf-8"))
    except OrgError as exc:
        fail(str(exc))

    async def work(conn: asyncpg.Connection) -> int:
        async with conn.transaction():
            saved = await save_org(conn, registry)
            kinds = dict(Counter(unit.kind.value for unit in registry.units()))
            await audit(conn, actor, "org.load", path.name,
                        f"{saved} units from {path.name} ("
                        + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) + ")",
                        row_count=saved, detail={"kinds": kinds})
        return saved

    console.print(f"{on_db(work)} units loaded")


@org_app.command("demo-csv")
def org_demo_csv() -> None:
    """Print the demo org (27 real districts of Thanh Hóa, generated communes and teams)."""
    sys.stdout.write(to_org_csv(demo_org().units()))
