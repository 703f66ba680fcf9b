"""The org maps in PostgreSQL: versions with the day each takes effect, never overwritten."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import asyncpg

from tally06.contract.events import local_day
from tally06.domain.exceptions import OrgError
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.org_maps import BEGINNING, MappingRow, OrgMap, reorganise

Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool

# Serialises loads of maps, so two loads never both take the same map as their predecessor.
_MAP_LOCK = 6_060_014


@dataclass(frozen=True)
class SavedMap:
    map: OrgMap
    created: bool


def today() -> dt.date:
    return local_day(dt.datetime.now(dt.UTC))


async def map_ids(conn: Conn) -> list[tuple[int, dt.date]]:
    """Every map as (id, effective_from), oldest first."""
    rows = await conn.fetch("SELECT id, effective_from FROM org_maps ORDER BY effective_from, id")
    return [(r["id"], r["effective_from"]) for r in rows]


@dataclass(frozen=True)
class MapVersion:
    id: int
    effective_from: dt.date
    loaded_at: dt.datetime
    source: str | None
    units: dict[UnitKind, int]  # per kind, from the top down


async def map_versions(conn: Conn) -> list[MapVersion]:
    """Every map with when it was loaded and its units per kind, oldest first."""
    rows = await conn.fetch(
        "SELECT m.id, m.effective_from, m.loaded_at, m.source, array_agg(u.kind) AS kinds, array_agg(u.n) AS counts "
        "FROM org_maps m LEFT JOIN (SELECT map_id, kind, count(*) AS n FROM map_units GROUP BY map_id, kind) u "
        "ON u.map_id = m.id GROUP BY m.id ORDER BY m.effective_from, m.id")
    return [MapVersion(r["id"], r["effective_from"], r["loaded_at"], r["source"], dict(sorted(
        ((UnitKind(k), n) for k, n in zip(r["kinds"], r["counts"], strict=True) if k is not None),
        key=lambda kv: kv[0].rank))) for r in rows]


async def map_in_force(conn: Conn, day: dt.date | None = None) -> int | None:
    """The id of the map in force on a day (today when not given)."""
    return await conn.fetchval(
        "SELECT id FROM org_maps WHERE effective_from <= $1 ORDER BY effective_from DESC, id DESC LIMIT 1",
        day or today())


async def load_map(conn: Conn, map_id: int | None = None, *, day: dt.date | None = None) -> OrgMap | None:
    """One map by id, or the map in force on a day (today when neither is given)."""
    if map_id is None:
        map_id = await map_in_force(conn, day)
        if map_id is None:
            return None
    head = await conn.fetchrow("SELECT id, effective_from FROM org_maps WHERE id = $1", map_id)
    if head is None:
        return None
    units = await conn.fetch("SELECT code, name, kind, parent_code FROM map_units WHERE map_id = $1", map_id)
    holders = await conn.fetch(
        "SELECT team, holder FROM map_holders WHERE map_id = $1 AND team <> holder", map_id)
    registry = OrgRegistry(Unit(r["code"], r["name"], UnitKind(r["kind"]), r["parent_code"]) for r in units)
    return OrgMap(head["id"], head["effective_from"], registry, {r["team"]: r["holder"] for r in holders})


async def unit_path(conn: Conn, code: str, map_id: int) -> list[str] | None:
    """Codes from the map's root down to a unit of that map, or None when the map has no such unit."""
    return await conn.fetchval("SELECT path FROM map_units WHERE map_id = $1 AND code = $2", map_id, code)


async def load_org(conn: Conn, day: dt.date | None = None) -> OrgRegistry:
    """The units of the map in force on a day (today when not given); empty before any load."""
    found = await load_map(conn, day=day)
    return found.registry if found is not None else OrgRegistry(())


async def save_map(
    conn: asyncpg.Connection, registry: OrgRegistry, *, effective_from: dt.date | None = None,
    mapping: Sequence[MappingRow] = (), source: str | None = None, backdate: bool = False,
) -> SavedMap:
    """Add a map as a new version (the caller holds the transaction). The first map is in force
    from the beginning; a later one from ``effective_from`` (today by default), which may not
    come before the latest map's, nor before today unless ``backdate`` (it would change reports
    already made). Loading the map in force again, unchanged, adds nothing."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _MAP_LOCK)
    latest_id = await conn.fetchval("SELECT id FROM org_maps ORDER BY effective_from DESC, id DESC LIMIT 1")
    latest = await load_map(conn, latest_id) if latest_id is not None else None
    if latest is None:
        if mapping:
            raise OrgError("the first map has nothing to map from: load it without a mapping")
        effective, holders = effective_from or BEGINNING, {}
    else:
        effective = effective_from or today()
        if effective < today() and not backdate:
            # Reports for cutoffs from that day on are made in the map in force at the cutoff:
            # a map taking effect in the past would change reports already handed out.
            raise OrgError(f"a map taking effect on {effective}, before today, changes the reports for "
                           f"cutoffs since then; load it with --backdate if that is what you want")
        if effective < latest.effective_from:
            raise OrgError(f"a map taking effect on {effective} would come before map {latest.id}, "
                           f"in force since {latest.effective_from}; maps are added in order")
        if registry == latest.registry and not mapping:
            return SavedMap(latest, created=False)
        holders = reorganise(latest, registry, mapping)
    map_id = await conn.fetchval(
        "INSERT INTO org_maps (effective_from, source) VALUES ($1, $2) RETURNING id", effective, source)
    await _write_units(conn, map_id, registry)
    await conn.executemany(
        "INSERT INTO map_changes (map_id, row, old_code, new_code, change) VALUES ($1, $2, $3, $4, $5)",
        [(map_id, r.row, r.old_code, r.new_code, r.change.value) for r in mapping])
    every = {t.code: t.code for t in registry.units(UnitKind.TEAM)} | holders
    await conn.execute(
        "INSERT INTO map_holders (map_id, team, holder) SELECT $1, t, h FROM unnest($2::text[], $3::text[]) AS x(t, h)",
        map_id, list(every), list(every.values()))
    # The first map: the read model has nothing to re-sum, so it is in this map at once.
    await conn.execute("UPDATE read_model_map SET map_id = $1 WHERE map_id IS NULL", map_id)
    return SavedMap(OrgMap(map_id, effective, registry, holders), created=True)


async def _write_units(conn: asyncpg.Connection, map_id: int, registry: OrgRegistry) -> None:
    units = registry.units()
    paths = [registry.ancestors(u.code)[::-1] for u in units]
    await conn.execute(
        "INSERT INTO map_units (map_id, code, name, kind, parent_code, path) "
        "SELECT $1, c, n, k, p, string_to_array(a, '/') "
        "FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS x(c, n, k, p, a)",
        map_id, [u.code for u in units], [u.name for u in units], [u.kind.value for u in units],
        [u.parent_code for u in units], ["/".join(p) for p in paths])
    # Every code ever, with its latest name: what other tables' foreign keys point at.
    await conn.executemany(
        "INSERT INTO units (code, name, kind, parent_code) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
        "parent_code = excluded.parent_code",
        [(u.code, u.name, u.kind.value, u.parent_code) for u in units])


async def save_org(conn: asyncpg.Connection, registry: OrgRegistry) -> int:
    """Load a map taking effect today (the first one: from the beginning), as one transaction;
    returns how many units it has. Live figures move to it with ``read_model_map.switch_if_due``."""
    async with conn.transaction():
        await save_map(conn, registry)
    return len(registry)
