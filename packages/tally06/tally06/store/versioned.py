"""Versioned tables: rows take effect at ``valid_from`` and are never overwritten.

Campaign targets, daily targets, working hours and phases are kept this way, so a report for a
past cutoff sees the version in force then and a change never rewrites what was expected
before it. Of two versions with the same ``valid_from`` the later import (higher ``id``) wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg


async def add_version(conn: asyncpg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]],
                      *, valid_from: dt.date | dt.datetime, source: str) -> int:
    """Insert ``rows`` as a new version from ``valid_from``; returns how many were written."""
    names = (*columns, "valid_from", "source")
    values = [(*row, valid_from, source) for row in rows]
    placeholders = ", ".join(f"${n}" for n in range(1, len(names) + 1))
    await conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})", values)
    return len(values)


def in_force_sql(source: str, keys: Sequence[str], columns: Sequence[str], prefix: str = "") -> str:
    """A SELECT of each key's newest row whose ``valid_from`` is at or before ``$1``.

    ``source`` may join other tables; ``prefix`` then names the versioned table's alias (``t.``).
    """
    key_list = ", ".join(keys)
    return (f"SELECT DISTINCT ON ({key_list}) {', '.join(columns)} FROM {source} "
            f"WHERE {prefix}valid_from <= $1 ORDER BY {key_list}, {prefix}valid_from DESC, {prefix}id DESC")


async def rows_in_force(conn: asyncpg.Connection | asyncpg.Pool, source: str, keys: Sequence[str],
                        columns: Sequence[str], at: dt.date | dt.datetime, prefix: str = "") -> list[asyncpg.Record]:
    return await conn.fetch(in_force_sql(source, keys, columns, prefix), at)
