"""What the demo stack loads besides the reference org: focal points and users."""

from __future__ import annotations

import asyncpg

from tally06.domain.accounts import Role, new_password
from tally06.domain.focal_points import FocalPointRow
from tally06.domain.org import OrgRegistry, UnitKind
from tally06.store.users import create_user, set_password


def _commune_title(name: str) -> str:
    # Generated and real commune names often carry their kind already ("Xã/Phường 01", "Phường Bắc Sơn").
    has_kind = name.lower().startswith(("xã", "phường", "thị trấn"))
    return f"Đầu mối {name}" if has_kind else f"Đầu mối xã {name}"


def demo_focal_points(org: OrgRegistry) -> list[FocalPointRow]:
    """One console recipient per commune, district and province, addressed by unit code."""
    names = {
        UnitKind.PROVINCE: lambda _: "Trực ban Công an tỉnh",
        UnitKind.DISTRICT: lambda name: f"Đầu mối {name}",
        UnitKind.COMMUNE: _commune_title,
    }
    return [FocalPointRow(u.code, names[u.kind](u.name), "console", u.code)
            for u in org.units() if u.kind in names]


# The demo's people: the province operator and the focal point of Sầm Sơn (the reference district).
DEMO_USERS = (("tinh", "Trực ban Công an tỉnh", Role.PROVINCE_OPERATOR, "TH"),
              ("samson", "Đầu mối Công an TP Sầm Sơn", Role.DISTRICT_FOCAL, "TH-03"))


async def demo_users(conn: asyncpg.Connection) -> list[tuple[str, str, Role, str]]:
    """Create the demo's users, or give them new passwords: (username, password, role, unit),
    for the terminal to show once. Stored passwords are hashes, so each start sets new ones."""
    shown = []
    for username, name, role, unit in DEMO_USERS:
        password = new_password()
        if not await set_password(conn, username, password):
            await create_user(conn, username, name, role, unit, password)
        shown.append((username, password, role, unit))
    return shown
