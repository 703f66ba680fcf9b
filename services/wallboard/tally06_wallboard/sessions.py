"""Session tokens of signed-in users, and who may read what.

A session token is a short-lived JWT (HS256) naming the user, role, unit and the user's token
version. Every request also checks the account (cached for ``account_cache_s``): a disabled
user, or one whose sessions were ended, is refused within that time even though the token has
not expired yet.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import asyncpg
import jwt

from tally06.domain.accounts import ACKNOWLEDGING_ROLES, Role, User
from tally06.domain.pii import derived_key
from tally06.kit.exceptions import ConfigError
from tally06.store.users import find_user
from tally06_wallboard.exceptions import Forbidden, Unauthenticated
from tally06_wallboard.hierarchy import Tree

COOKIE = "tally06_session"
_ALGORITHM = "HS256"
_AUDIENCE = "tally06-wallboard"


def session_key(auth_secret: str, hmac_key: str) -> bytes:
    """The signing key: its own secret when given, else derived from the identity key so the
    embedded stack needs no extra secret (a derived key cannot be turned back into the HMAC key)."""
    if auth_secret:
        if len(auth_secret) < 32:
            raise ConfigError("TALLY06_AUTH_SECRET: at least 32 characters")
        return auth_secret.encode()
    if not hmac_key:
        raise ConfigError("TALLY06_AUTH_SECRET or TALLY06_HMAC_KEY is needed to sign sessions")
    return derived_key(hmac_key, b"tally06 session tokens v1")


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: Role
    unit: str
    token_version: int = 0

    def may_read(self, tree: Tree, unit: str) -> bool:
        """The unit is the user's own or below it in the live map. A user whose unit is not in
        that map (a district focal point after districts were dissolved) reads nothing."""
        return any(u.code == self.unit for u in tree.path(unit))

    def require_read(self, tree: Tree, unit: str, field: str = "unit") -> None:
        if not self.may_read(tree, unit):
            raise Forbidden(field, f"{unit} is outside your units ({self.unit})")

    def require_acknowledge(self, tree: Tree, unit: str) -> None:
        if self.role not in ACKNOWLEDGING_ROLES:
            raise Forbidden("role", f"a {self.role} does not acknowledge alerts")
        self.require_read(tree, unit)


class Sessions:
    def __init__(self, pool: asyncpg.Pool, key: bytes, ttl_s: int, account_cache_s: float) -> None:
        self._pool = pool
        self._key = key
        self.ttl_s = ttl_s
        self._cache_s = account_cache_s
        self._accounts: dict[int, tuple[float, User | None]] = {}

    def issue(self, user: User, now: dt.datetime) -> str:
        claims = {"sub": str(user.id), "ver": user.token_version, "role": user.role.value, "unit": user.unit,
                  "name": user.username, "aud": _AUDIENCE, "iat": int(now.timestamp()),
                  "exp": int(now.timestamp()) + self.ttl_s}
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    async def principal(self, token: str) -> Principal:
        try:
            # The system clock, not the service's (a demo may run its clock in the past): the
            # expiry guards a real token in the real world.
            claims = jwt.decode(token, self._key, algorithms=[_ALGORITHM], audience=_AUDIENCE,
                                options={"require": ["exp", "sub", "ver"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("session", "expired; sign in again") from None
        except jwt.InvalidTokenError:
            raise Unauthenticated("session", "not a valid session token") from None
        user = await self.account(int(claims["sub"]))
        if user is None or user.disabled or user.token_version != claims["ver"]:
            raise Unauthenticated("session", "ended; sign in again")
        return Principal(user.id, user.username, user.display_name, user.role, user.unit, user.token_version)

    async def still_valid(self, principal: Principal) -> bool:
        """For a long-lived answer (the live stream): the account is still active and its
        sessions were not ended since the request was admitted."""
        user = await self.account(principal.user_id)
        return user is not None and not user.disabled and user.token_version == principal.token_version

    async def account(self, user_id: int) -> User | None:
        now = time.monotonic()
        hit = self._accounts.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        user = await find_user(self._pool, user_id)
        if len(self._accounts) > 10_000:
            self._accounts.clear()
        self._accounts[user_id] = (now + self._cache_s, user)
        return user

    def forget(self, user_id: int) -> None:
        self._accounts.pop(user_id, None)
