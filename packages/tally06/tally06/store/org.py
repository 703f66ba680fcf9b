"""The org registry in PostgreSQL."""

from __future__ import annotations

import asyncpg

from tally06.domain.org import OrgRegistry, Unit, UnitKind


async def save_org(conn: asyncpg.Connection, registry: OrgRegistry) -> int:
    """Insert or update every unit of the registry; returns how many were written."""
    rows = [(u.code, u.name, u.kind.value, u.parent_code) for u in registry.units()]
    async with conn.transaction():
        await conn.executemany(
            "INSERT INTO units (code, name, kind, parent_code) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
            "parent_code = excluded.parent_code",
            rows,
        )
    return len(rows)


async def load_org(conn: asyncpg.Connection | asyncpg.Pool) -> OrgRegistry:
    rows = await conn.fetch("SELECT code, name, kind, parent_code FROM units")
    return OrgRegistry(
        Unit(r["code"], r["name"], UnitKind(r["kind"]), r["parent_code"]) for r in rows
    )
