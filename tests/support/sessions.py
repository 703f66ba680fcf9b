"""Users for tests: created in the database, signed in over the wallboard's API."""

from __future__ import annotations

import secrets

import asyncpg
import httpx

from tally06.domain.accounts import Role
from tally06.store.users import create_user

PASSWORD = "correct horse battery"


async def make_user(database: str, role: Role = Role.PROVINCE_OPERATOR, unit: str = "TH",
                    username: str | None = None, name: str | None = None) -> str:
    username = username or f"{role.value.replace('_', '-')}-{unit.lower()}-{secrets.token_hex(3)}"
    conn = await asyncpg.connect(database)
    try:
        await create_user(conn, username, name or username, role, unit, PASSWORD)
    finally:
        await conn.close()
    return username


async def bearer(url: str, username: str, password: str = PASSWORD) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        response = await client.post("/v1/auth/token", json={"username": username, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def signed_in(database: str, url: str, role: Role = Role.PROVINCE_OPERATOR, unit: str = "TH",
                    name: str | None = None) -> dict[str, str]:
    """Headers of a freshly created, signed-in user."""
    return await bearer(url, await make_user(database, role, unit, name=name))
