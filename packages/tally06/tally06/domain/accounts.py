"""People who sign in: roles, the unit each may read below, lockout.

Field devices are not users: they hold device tokens bound to one team
(``tally06.store.device_tokens``).
"""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass

from tally06.domain.org import UnitKind


class SignIn(enum.Enum):
    """How a sign-in ended: a locked account is not told whether the password was right."""

    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


class Role(enum.StrEnum):
    TEAM_LEAD = "team_lead"
    COMMUNE_FOCAL = "commune_focal"
    DISTRICT_FOCAL = "district_focal"
    PROVINCE_OPERATOR = "province_operator"
    ADMIN = "admin"


# The kinds of unit a role may be attached to: the user reads that unit and everything below it
# in the live map. A commune focal point works the same under a district (the 2023 map) or
# directly under a two-tier province; a district focal point exists only where districts do;
# the provincial operator and the administrator may sit at a country root above several
# provinces (a national view).
ROLE_UNIT_KINDS: dict[Role, frozenset[UnitKind]] = {
    Role.TEAM_LEAD: frozenset({UnitKind.TEAM}),
    Role.COMMUNE_FOCAL: frozenset({UnitKind.COMMUNE}),
    Role.DISTRICT_FOCAL: frozenset({UnitKind.DISTRICT}),
    Role.PROVINCE_OPERATOR: frozenset({UnitKind.PROVINCE, UnitKind.COUNTRY}),
    Role.ADMIN: frozenset({UnitKind.PROVINCE, UnitKind.COUNTRY}),
}


def role_fits(role: Role, kind: UnitKind) -> bool:
    """Whether a user of this role may be attached to a unit of this kind."""
    return kind in ROLE_UNIT_KINDS[role]


def role_unit_problem(role: Role, unit: str, kind: UnitKind) -> str | None:
    """Why a user of this role cannot be attached to this unit, or None when it can."""
    if role_fits(role, kind):
        return None
    allowed = " or ".join(k.value for k in sorted(ROLE_UNIT_KINDS[role], key=lambda k: k.rank))
    return f"a {role} belongs to a {allowed}, and {unit} is a {kind}"


# Focal points acknowledge the alerts of their subtree; the province operator watches them all.
ACKNOWLEDGING_ROLES = frozenset({Role.COMMUNE_FOCAL, Role.DISTRICT_FOCAL, Role.PROVINCE_OPERATOR})


# The district and provincial police who run the spot checks may see citizens' CCCD, name and
# phone in clear (each read audited); everybody else sees them masked.
CLEAR_PII_ROLES = frozenset({Role.DISTRICT_FOCAL, Role.PROVINCE_OPERATOR})


# After this many wrong passwords in a row the account waits, doubling each time (to a cap):
# slow enough to stop guessing, short enough that a clumsy officer is not locked out for a day.
FREE_ATTEMPTS = 5


FIRST_LOCK_S = 30


MAX_LOCK_S = 15 * 60


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    unit: str
    token_version: int
    disabled: bool


@dataclass(frozen=True)
class SignInResult:
    outcome: SignIn
    user: User | None = None
    retry_after_s: int = 0


def new_password() -> str:
    return secrets.token_urlsafe(12)


def lock_seconds(failures: int) -> int:
    """How long an account waits after ``failures`` wrong passwords in a row."""
    if failures < FREE_ATTEMPTS:
        return 0
    return min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** (failures - FREE_ATTEMPTS))
