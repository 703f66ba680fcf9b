"""Fresh databases on a PostgreSQL server, for tests and benchmarks."""

from __future__ import annotations

import uuid

import asyncpg

from tally06.imports.reference import demo_org
from tally06.store.database import migrate
from tally06.store.org import save_org


async def empty_database(server: str, prefix: str = "t_") -> str:
    """A new, migrated database without any map; ``server`` is a DSN without a database name.
    Returns the database's DSN."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = f"{server}/{name}"
    await migrate(dsn)
    return dsn


async def create_database(server: str, prefix: str = "t_") -> str:
    """A new, migrated database with the demo org (the 2023 map) loaded."""
    dsn = await empty_database(server, prefix)
    conn = await asyncpg.connect(dsn)
    try:
        await save_org(conn, demo_org())
    finally:
        await conn.close()
    return dsn
