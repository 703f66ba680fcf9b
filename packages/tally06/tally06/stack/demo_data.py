"""What the demo stack loads besides the reference maps: focal points and users."""

from __future__ import annotations

import asyncpg

from tally06.domain.accounts import Role, new_password
from tally06.domain.focal_points import FocalPointRow
from tally06.domain.org import OrgRegistry, UnitKind
from tally06.imports.reference import PROVINCE_CODE, two_tier_communes
from tally06.store.users import create_user, set_password


def _commune_title(name: str) -> str:
    # Generated and real commune names often carry their kind already ("Xã/Phường 01", "Phường Bắc Sơn").
    has_kind = name.lower().startswith(("xã", "phường", "thị trấn"))
    return f"Đầu mối {name}" if has_kind else f"Đầu mối xã {name}"


def demo_focal_points(org: OrgRegistry) -> list[FocalPointRow]:
    """One console recipient per unit of the map above its teams, whatever kinds the map has
    (province, districts and communes in 2023; province and communes in the two-tier map),
    addressed by unit code."""
    names = {
        UnitKind.PROVINCE: lambda _: "Trực ban Công an tỉnh",
        UnitKind.COMMUNE: _commune_title,
    }
    return [FocalPointRow(u.code, names.get(u.kind, lambda name: f"Đầu mối {name}")(u.name), "console", u.code)
            for u in org.units() if u.kind is not UnitKind.TEAM]


# The demo's people: the province operator, and a focal point in Sầm Sơn (the reference
# district): of the district in the 2023 map, of its first commune in the two-tier map.
OPERATOR = ("tinh", "Trực ban Công an tỉnh", Role.PROVINCE_OPERATOR, PROVINCE_CODE)
SAMSON_DISTRICT = "TH-03"


def demo_people(org: OrgRegistry) -> list[tuple[str, str, Role, str]]:
    """(username, display name, role, unit) of the demo's users for a map."""
    people = [OPERATOR]
    if org.get(SAMSON_DISTRICT) is not None:
        people.append(("samson", "Đầu mối Công an TP Sầm Sơn", Role.DISTRICT_FOCAL, SAMSON_DISTRICT))
    else:
        commune = next((c for c in two_tier_communes() if c.district == SAMSON_DISTRICT and c.code in org), None)
        if commune is not None:
            people.append(("samson1", f"Đầu mối {commune.name}", Role.COMMUNE_FOCAL, commune.code))
    return people


async def demo_users(conn: asyncpg.Connection,
                     people: list[tuple[str, str, Role, str]]) -> list[tuple[str, str, Role, str]]:
    """Create the demo's users (``demo_people``), or give them new passwords: (username,
    password, role, unit), for the terminal to show once. Stored passwords are hashes, so each
    start sets new ones."""
    shown = []
    for username, name, role, unit in people:
        password = new_password()
        if not await set_password(conn, username, password):
            await create_user(conn, username, name, role, unit, password)
        shown.append((username, password, role, unit))
    return shown
