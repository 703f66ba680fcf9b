"""``tally06 org …``: maps of the organisation, each a version taking effect on a day.

``org load`` checks the whole map and its mapping before writing anything, then adds the map,
its audit entry and, when the map is in force already, the switch of the live figures to it,
in one transaction: a refused load changes nothing. docs/org-maps.md describes the files.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, NoReturn

import asyncpg
import typer
from rich.markup import escape
from rich.table import Table

from tally06.cli.context import AdminActorOption, audit, console, fail, on_db
from tally06.contract.events import LOCAL_TZ
from tally06.domain.exceptions import OrgError
from tally06.domain.org import KIND_WORDS, OrgRegistry, Unit, UnitKind
from tally06.domain.org_maps import MappingRow, OrgMap
from tally06.imports.org_csv import read_org_csv, to_org_csv
from tally06.imports.org_mapping_csv import parse_org_mapping_csv, to_org_mapping_csv
from tally06.imports.reference import demo_org, two_tier_mapping, two_tier_org
from tally06.imports.row_errors import RowError
from tally06.store.org import MapVersion, SavedMap, load_map, map_ids, map_in_force, map_versions, save_map, today
from tally06.store.read_model_map import Switch, read_model_map, switch_if_due

org_app = typer.Typer(help="Maps of the organisation, versioned by the day they take effect (docs/org-maps.md).",
                      no_args_is_help=True)

EffectiveOption = Annotated[str | None, typer.Option(
    "--effective", help="Local day the map takes effect, YYYY-MM-DD (default today; the first map: 2000-01-01)")]
MappingOption = Annotated[Path | None, typer.Option(
    "--mapping", help="CSV old_code,new_code,change[,note]: what became of the units of the map before")]
BackdateOption = Annotated[bool, typer.Option(
    "--backdate", help="Let a map take effect before today: reports for cutoffs since then change")]
MapFile = Annotated[Path, typer.Argument(help="CSV code,name,kind,parent_code: every unit of the new map")]
MapOption = Annotated[int | None, typer.Option("--map", help="Map id (see 'org maps'); default the map in force")]


# reorganise joins its problems with "; ", each starting with the row, unit or team it names.
_PROBLEMS = re.compile(r"; (?=mapping row \d|unit \S+ \(|team \S+ )")


@dataclass(frozen=True)
class _Loaded:
    saved: SavedMap
    mapping: Sequence[MappingRow]
    previous: OrgMap | None
    switch: Switch | None
    live: int | None


def _refuse(headline: str, problems: Iterable[str]) -> NoReturn:
    fail(escape("\n  ".join([headline, *problems])))


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{escape(str(path))}: no such file")
    except UnicodeDecodeError:
        fail(f"{escape(str(path))}: not UTF-8 text (save the CSV as UTF-8)")


def _source(path: Path, mapping: Path | None) -> str:
    return path.name + (f" with mapping {mapping.name}" if mapping else "")


def _row_problems(path: Path, errors: Sequence[RowError]) -> list[str]:
    return [f"{path.name} row {e.row} ({e.field}): {e.message}" for e in errors]


def _effective_day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"--effective: {escape(text)!r} is not a day, YYYY-MM-DD")


@org_app.command("load")
def org_load(path: MapFile, effective: EffectiveOption = None, mapping: MappingOption = None,
             backdate: BackdateOption = False, actor: AdminActorOption = None) -> None:
    """Add a map (CSV code,name,kind,parent_code) taking effect on a day, with a mapping from the
    map before it; any bad row or problem loads nothing."""
    day = _effective_day(effective)
    registry, errors = read_org_csv(_text(path))
    if registry is None:
        _refuse(f"{path.name}: {len(errors)} bad rows; nothing loaded", _row_problems(path, errors))
    rows: list[MappingRow] = []
    if mapping is not None:
        rows, errors = parse_org_mapping_csv(_text(mapping))
        if errors:
            _refuse(f"{mapping.name}: {len(errors)} bad rows; nothing loaded", _row_problems(mapping, errors))
    source = _source(path, mapping)

    async def work(conn: asyncpg.Connection) -> _Loaded:
        async with conn.transaction():
            saved = await save_map(conn, registry, effective_from=day, mapping=rows,
                                   source=source + (" (backdated)" if backdate else ""), backdate=backdate)
            if not saved.created:
                return _Loaded(saved, rows, None, None, await read_model_map(conn))
            previous = await _previous(conn, saved.map.id)
            await _audit_load(conn, actor, path, mapping, saved.map, rows, previous)
            switch = await switch_if_due(conn)
            return _Loaded(saved, rows, previous, switch, await read_model_map(conn))

    try:
        loaded = on_db(work)
    except OrgError as exc:
        _refuse(f"{source}: the map was not loaded", _PROBLEMS.split(str(exc)))
    _print_loaded(loaded, source)


async def _audit_load(conn: asyncpg.Connection, actor: str | None, path: Path, mapping: Path | None, new: OrgMap,
                      rows: Sequence[MappingRow], previous: OrgMap | None) -> None:
    """The load's audit entry: codes and counts only (unit names are not needed to audit it)."""
    source = _source(path, mapping)
    await audit(conn, actor, "org.load", path.name,
                f"{len(new.registry)} units from {source}: map {new.id}, in force from {new.effective_from} "
                f"({_kinds(new.registry)}); {_changes(rows) or 'no mapping'}",
                row_count=len(new.registry), detail={
                    "map_id": new.id, "effective_from": new.effective_from.isoformat(),
                    "kinds": {k.value: n for k, n in _kind_counts(new.registry).items()},
                    "changes": dict(Counter(r.change.value for r in rows)),
                    "mapping": mapping.name if mapping else None, "teams_moved": _moved(previous, new)})


async def _previous(conn: asyncpg.Connection, map_id: int) -> OrgMap | None:
    """The map just before a map (by the day it takes effect, then id); the caller holds the lock
    save_map took, so no other load comes between."""
    ids = [i for i, _ in await map_ids(conn)]
    position = ids.index(map_id)
    return await load_map(conn, ids[position - 1]) if position > 0 else None


def _moved(previous: OrgMap | None, new: OrgMap) -> int:
    """Team codes whose work is now held by another team than in the map before."""
    if previous is None:
        return 0
    every = {u.code for u in previous.registry.units(UnitKind.TEAM)} | set(previous.holders)
    return sum(1 for team in every if new.holder(team) != previous.holder(team))


def _kind_counts(registry: OrgRegistry) -> dict[UnitKind, int]:
    counts = Counter(u.kind for u in registry.units())
    return {kind: counts[kind] for kind in registry.kinds()}


def _count_words(counts: Mapping[UnitKind, int]) -> str:
    return ", ".join(f"{n} {(KIND_WORDS[k].en if n == 1 else KIND_WORDS[k].en_level).lower()}"
                     for k, n in counts.items())


def _kinds(registry: OrgRegistry) -> str:
    return _count_words(_kind_counts(registry))


def _changes(rows: Sequence[MappingRow]) -> str:
    counts = Counter(r.change.value for r in rows)
    return ", ".join(f"{n} {change}" for change, n in sorted(counts.items()))


def _print_loaded(loaded: _Loaded, source: str) -> None:
    new = loaded.saved.map
    if not loaded.saved.created:
        console.print(f"map {new.id}, in force from {new.effective_from}, has these units already: nothing loaded")
        return
    lines = [f"map {new.id} loaded from {source}, in force from {new.effective_from}",
             f"  units: {_kinds(new.registry)}"]
    if loaded.previous is not None:
        moved = _moved(loaded.previous, new)
        lines += [f"  teams: {moved} team code{'' if moved == 1 else 's'} now held by another team than in "
                  f"map {loaded.previous.id}",
                  f"  changes: {_changes(loaded.mapping) or 'none (every unit kept its code)'}"]
    if loaded.switch is not None:
        lines.append(f"  live figures: switched from map {loaded.switch.previous} to map {loaded.switch.map_id}, "
                     f"{loaded.switch.rows:,} rows re-summed in {loaded.switch.seconds:.2f} s")
    elif loaded.live == new.id:
        lines.append(f"  live figures: in map {new.id}")
    else:
        lines.append(f"  live figures: stay in map {loaded.live} until {new.effective_from}; the aggregator "
                     "switches them to this map on that day")
    console.print(escape("\n".join(lines)), soft_wrap=True)


@org_app.command("maps")
def org_maps() -> None:
    """List the map versions: the day each takes effect, which is in force today, and which one
    the live figures are summed in."""

    async def work(conn: asyncpg.Connection) -> tuple[list[MapVersion], int | None, int | None]:
        return await map_versions(conn), await map_in_force(conn), await read_model_map(conn)

    versions, in_force, live = on_db(work)
    table = Table("map", "in force from", "loaded at", "units", "source", "state")
    for v in versions:
        state = ["in force today" if v.id == in_force else
                 f"from {v.effective_from}" if v.effective_from > today() else "superseded"]
        if v.id == live:
            state.append("live figures")
        table.add_row(str(v.id), str(v.effective_from), f"{v.loaded_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}",
                      escape(_count_words(v.units)), escape(v.source or ""), ", ".join(state))
    console.print(table)


def _tree_order(registry: OrgRegistry) -> list[Unit]:
    """Each unit after its parent, siblings by code: a file that reads like the tree."""
    return sorted(registry.units(), key=lambda u: registry.ancestors(u.code)[::-1])


@org_app.command("export")
def org_export(map_id: MapOption = None) -> None:
    """Print a map as CSV (code,name,kind,parent_code), the map in force by default."""
    found = on_db(lambda conn: load_map(conn, map_id))
    if found is None:
        fail(f"no map {map_id}; 'tally06 org maps' lists them" if map_id is not None else "no map is loaded")
    sys.stdout.write(to_org_csv(_tree_order(found.registry)))


@org_app.command("demo-csv")
def org_demo_csv(two_tier: Annotated[bool, typer.Option(
        "--two-tier", help="Thanh Hóa since 1 July 2025: 166 (generated) communes under the province")] = False,
        mapping: Annotated[bool, typer.Option(
        "--mapping", help="the mapping from the 2023 demo map to the two-tier one")] = False) -> None:
    """Print the demo org: the 2023 map (27 real districts of Thanh Hóa, generated communes and
    teams), the two-tier map, or the mapping between them; `org load` takes them as they are."""
    if mapping:
        sys.stdout.write(to_org_mapping_csv(two_tier_mapping()))
    else:
        sys.stdout.write(to_org_csv((two_tier_org() if two_tier else demo_org()).units()))
