"""What the relay keeps in PostgreSQL, as the fault tests read it."""

from __future__ import annotations

import asyncpg


async def broker_epoch(database: str) -> int:
    """How many times the relay found the broker's log lost and published everything again."""
    conn = await asyncpg.connect(database)
    try:
        return await conn.fetchval("SELECT broker_epoch FROM relay_state")
    finally:
        await conn.close()
