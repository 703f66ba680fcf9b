"""``tally06 worklists …``: which team works which village, and a unit's lists, masked.

Names and phones in clear are for the team leads and commune focal points on the board
(each view audited); this command shows lists masked, as the district and province see them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from rich.table import Table

from tally06.cli.context import (
    AdminActorOption,
    actor_name,
    audit,
    console,
    csv_text,
    fail,
    load_file,
    on_db,
    settings,
)
from tally06.contract.events import LOCAL_TZ
from tally06.domain.exceptions import KeyConfigError, WorkAreaError
from tally06.domain.pii import CitizenProtector
from tally06.domain.work_lists import REASON_WORDS, Reason, WorkArea, WorkList, area_of, days_waiting
from tally06.domain.work_lists import masked as masked_phone
from tally06.domain.work_lists import work_area as make_work_area
from tally06.imports.row_errors import RowError
from tally06.imports.work_areas_csv import parse_work_areas_csv
from tally06.store.org import load_org
from tally06.store.read_model_map import load_live_map
from tally06.store.work_lists import ListRow, contact, list_rows, save_areas

worklists_app = typer.Typer(help="Work lists: citizens the registry shows stuck, and the teams that work where "
                                 "they live.", no_args_is_help=True)


def _summary(result: tuple[int, int], source: str) -> str:
    added, changed = result
    return f"work areas from {source}: {added} added, {changed} given to another team"


@worklists_app.command("areas")
def worklists_areas(path: Path, actor: AdminActorOption = None) -> None:
    """Give villages (or whole communes) to teams (CSV: village,team); any bad row saves nothing."""

    async def save(conn: asyncpg.Connection, rows: list[WorkArea], errors: list[RowError]) -> tuple[int, int]:
        result = await save_areas(conn, rows, actor_name(actor))
        await audit(conn, actor, "worklists.areas", path.name, _summary(result, path.name),
                    row_count=sum(result))
        return result

    loaded = load_file(path, lambda file, org: parse_work_areas_csv(csv_text(file), org), save, partial=False)
    if loaded.saved is None:
        console.print(f"{len(loaded.rows)} valid rows, {len(loaded.errors)} bad rows; nothing saved")
        raise typer.Exit(1)
    console.print(f"{len(loaded.rows)} rows; {_summary(loaded.saved, path.name)}")


@worklists_app.command("assign")
def worklists_assign(
    team: Annotated[str, typer.Option(help="The team, e.g. TH-03-C01-T1")],
    village: Annotated[str, typer.Option(help="A village of the team's commune; empty: the whole commune")] = "",
    actor: AdminActorOption = None,
) -> None:
    """Give one village (or the team's whole commune) to a team."""

    async def work(conn: asyncpg.Connection) -> tuple[WorkArea, tuple[int, int]]:
        try:
            area = make_work_area(await load_org(conn), village, team)
        except WorkAreaError as exc:
            fail(f"--{exc.field}: {exc.message}")
        async with conn.transaction():
            result = await save_areas(conn, [area], actor_name(actor))
            await audit(conn, actor, "worklists.assign", team, _summary(result, "the command line"),
                        unit=area.commune, row_count=sum(result))
        return area, result

    area, result = on_db(work)
    where = area.village or "the whole commune"
    console.print(f"{where} of {area.commune} → {area.team}" + ("" if sum(result) else " (already so)"))


@worklists_app.command("show")
def worklists_show(
    unit: Annotated[str, typer.Option(help="The unit whose list to show (its area), e.g. TH-03-C01")],
    list_name: Annotated[WorkList, typer.Option("--list", help="Which list")] = WorkList.APPROVED_NOT_ACTIVATED,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows, longest waiting first")] = 50,
) -> None:
    """A unit's list as the district and province see it: no names, phones masked."""
    config = settings()
    try:
        protector: CitizenProtector | None = CitizenProtector(config.hmac_key, config.pii_keys)
    except KeyConfigError:
        protector = None  # without the keys the phone column stays empty; the rest is shown

    async def work(conn: asyncpg.Connection) -> tuple[int, list[ListRow]]:
        live = await load_live_map(conn)
        if live is None or live.registry.get(unit) is None:
            fail(f"--unit: {unit!r} is not a unit of the live map")
        return await list_rows(conn, area_of(live.registry, unit), list_name, limit=limit)

    total, rows = on_db(work)
    today = dt.datetime.now(LOCAL_TZ).date()
    table = Table("commune", "village", "team", "level", "since", "days", "phone", "outcome",
                  title=f"{unit}: {list_name.value}, {len(rows)} of {total}")
    for row in rows:
        phone = masked_phone(contact(protector, row).phone) if protector is not None else None
        waited = days_waiting(row.since, today)
        table.add_row(row.commune, row.village or "", row.team or "—", str(row.level),
                      row.since.isoformat() if row.since else "", "" if waited is None else str(waited),
                      phone or "", REASON_WORDS[Reason(row.reason)].vi if row.reason else "")
    console.print(table)
