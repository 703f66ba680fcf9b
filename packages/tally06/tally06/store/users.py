"""Accounts in PostgreSQL: passwords (Argon2id), sessions, lockout."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import secrets

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tally06.domain.accounts import Role, SignIn, SignInResult, User, lock_seconds, role_unit_problem
from tally06.domain.exceptions import UserError
from tally06.domain.org import UnitKind

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    # Verifying against this when the user does not exist takes as long as a real check, so the
    # answer time does not tell which usernames exist. Made on first use: hashing takes about
    # 0.1 s, which every CLI command and service start would otherwise pay.
    return _hasher.hash(secrets.token_urlsafe(16))


def _user(row: asyncpg.Record) -> User:
    return User(row["id"], row["username"], row["display_name"], Role(row["role"]), row["unit"],
                row["token_version"], row["disabled_at"] is not None)


_COLUMNS = "id, username, display_name, role, unit, token_version, disabled_at"


def _password_hash(password: str) -> str:
    if len(password) < 10:
        raise UserError("password", "at least 10 characters")
    return _hasher.hash(password)


async def create_user(conn: asyncpg.Connection | asyncpg.Pool, username: str, display_name: str, role: Role,
                      unit: str, password: str) -> User:
    # A user reads the subtree of a unit of the map live figures are in, or of a map loaded to
    # take effect later (users are made ahead of a reorganisation); `units` keeps every code
    # ever, including units an earlier map dissolved.
    kind = await conn.fetchval(
        "SELECT kind FROM map_units WHERE code = $1 AND map_id >= "
        "coalesce((SELECT map_id FROM read_model_map), (SELECT max(id) FROM org_maps)) "
        "ORDER BY map_id DESC LIMIT 1", unit)
    if kind is None:
        raise UserError("unit", f"no unit {unit!r} in the live map or a later one")
    problem = role_unit_problem(role, unit, UnitKind(kind))
    if problem is not None:
        raise UserError("unit", problem)
    try:
        row = await conn.fetchrow(
            f"INSERT INTO users (username, display_name, role, unit, password_hash) VALUES ($1, $2, $3, $4, $5) "
            f"RETURNING {_COLUMNS}", username, display_name, role.value, unit, _password_hash(password))
    except asyncpg.UniqueViolationError:
        raise UserError("username", f"{username!r} is taken") from None
    except asyncpg.CheckViolationError:
        raise UserError("username", "3-40 characters of a-z, 0-9, '.', '_' or '-'") from None
    return _user(row)


async def find_user(conn: asyncpg.Connection | asyncpg.Pool, user_id: int) -> User | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM users WHERE id = $1", user_id)
    return _user(row) if row else None


async def list_users(conn: asyncpg.Connection | asyncpg.Pool) -> list[User]:
    return [_user(r) for r in await conn.fetch(f"SELECT {_COLUMNS} FROM users ORDER BY username")]


async def end_sessions(conn: asyncpg.Connection | asyncpg.Pool, username: str, *, disable: bool = False) -> bool:
    """Invalidate every session token of a user; optionally disable the account too."""
    status = await conn.execute(
        "UPDATE users SET token_version = token_version + 1, "
        "disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) ELSE disabled_at END WHERE username = $1",
        username, disable)
    return status.endswith(" 1")


async def set_password(conn: asyncpg.Connection | asyncpg.Pool, username: str, password: str) -> bool:
    status = await conn.execute(
        "UPDATE users SET password_hash = $2, token_version = token_version + 1, failed_sign_ins = 0, "
        "locked_until = NULL, disabled_at = NULL WHERE username = $1", username, _password_hash(password))
    return status.endswith(" 1")


async def sign_in(pool: asyncpg.Pool, username: str, password: str, now: dt.datetime) -> SignInResult:
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS}, password_hash, failed_sign_ins, locked_until FROM users WHERE username = $1",
        username)
    if row is None or row["disabled_at"] is not None:
        await _verify(None, password)
        return SignInResult(SignIn.WRONG)
    if row["locked_until"] is not None and row["locked_until"] > now:
        return SignInResult(SignIn.LOCKED, retry_after_s=max(1, int((row["locked_until"] - now).total_seconds()) + 1))
    if not await _verify(row["password_hash"], password):
        failures = row["failed_sign_ins"] + 1
        wait = lock_seconds(failures)
        await pool.execute("UPDATE users SET failed_sign_ins = $2, locked_until = $3 WHERE id = $1",
                           row["id"], failures, now + dt.timedelta(seconds=wait) if wait else None)
        return SignInResult(SignIn.WRONG)
    await pool.execute("UPDATE users SET failed_sign_ins = 0, locked_until = NULL, last_sign_in_at = $2 WHERE id = $1",
                       row["id"], now)
    return SignInResult(SignIn.OK, _user(row))


async def _verify(password_hash: str | None, password: str) -> bool:
    """Check a password against a hash, or against the dummy when there is none. Argon2 takes
    tens of milliseconds of CPU by design: in a thread, so the read API's other requests and
    live streams are not held while it runs."""
    return await asyncio.to_thread(_matches, password_hash, password)


def _matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
