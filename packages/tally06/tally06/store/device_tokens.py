"""Device tokens: opaque, stored only as a hash, bound to one team, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import asyncpg

TOKEN_PREFIX = "t06_"


@dataclass(frozen=True)
class DeviceToken:
    id: str
    team: str
    revoked: bool


def token_hash(token: str) -> bytes:
    # The token is 256 random bits, so a plain hash is enough to make a stolen table useless.
    return hashlib.sha256(token.encode()).digest()


def new_token() -> tuple[str, str]:
    """A fresh (token id, token). The id is public and names the token in logs and the CLI."""
    token_id = secrets.token_hex(6)
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


async def issue_token(conn: asyncpg.Connection | asyncpg.Pool, team: str, label: str | None = None) -> tuple[str, str]:
    kind = await conn.fetchval("SELECT kind FROM units WHERE code = $1", team)
    if kind != "team":
        raise ValueError(f"{team!r} is not a known team")
    token_id, token = new_token()
    await conn.execute(
        "INSERT INTO device_tokens (id, token_hash, team, label) VALUES ($1, $2, $3, $4)",
        token_id, token_hash(token), team, label,
    )
    return token_id, token


async def revoke_token(conn: asyncpg.Connection | asyncpg.Pool, token_id: str) -> str | None:
    """Revoke an active token; returns its team, or None when no active token has this id."""
    return await conn.fetchval(
        "UPDATE device_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING team",
        token_id,
    )


async def find_token(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> DeviceToken | None:
    row = await conn.fetchrow(
        "SELECT id, team, revoked_at IS NOT NULL AS revoked FROM device_tokens WHERE token_hash = $1",
        token_hash(token),
    )
    return DeviceToken(row["id"], row["team"], row["revoked"]) if row else None


def token_id_of(token: str) -> str | None:
    """The id part of a well-formed token, without a database look-up."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_id, sep, _ = token[len(TOKEN_PREFIX):].partition("_")
    return token_id if sep else None


async def list_tokens(conn: asyncpg.Connection | asyncpg.Pool, team: str | None = None) -> list[asyncpg.Record]:
    """Ids, teams, labels and state of device tokens, oldest first; never the tokens themselves."""
    return await conn.fetch(
        "SELECT id, team, label, created_at, revoked_at FROM device_tokens "
        "WHERE $1::text IS NULL OR team = $1 ORDER BY created_at", team)
