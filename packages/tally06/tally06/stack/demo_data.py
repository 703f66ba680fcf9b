"""What the demo stack loads besides the reference maps: focal points and users."""

from __future__ import annotations

import asyncpg

from tally06.domain.accounts import Role, new_password
from tally06.domain.focal_points import FocalPointRow
from tally06.domain.org import OrgRegistry, UnitKind
from tally06.domain.work_lists import WorkArea
from tally06.imports.reference import PROVINCE_CODE, two_tier_communes
from tally06.simulator.registry_truth import TruthConfig
from tally06.store.users import create_user, set_password
from tally06.store.work_lists import areas as stored_areas
from tally06.store.work_lists import save_areas


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
# A commune of Sầm Sơn (2023 code) where some officers fake claims, for the demo's spot checks to
# find (stack/spot_check_feed.py); simulator/spot_check_truth.py picks a few more by the seed.
FAKING_COMMUNES = ("TH-03-C02",)


def demo_people(org: OrgRegistry) -> list[tuple[str, str, Role, str]]:
    """(username, display name, role, unit) of the demo's users for a map: with a team lead of
    Sầm Sơn, who sees the work list of the team's villages with names and phones."""
    people = [OPERATOR]
    if org.get(SAMSON_DISTRICT) is not None:
        people.append(("samson", "Đầu mối Công an TP Sầm Sơn", Role.DISTRICT_FOCAL, SAMSON_DISTRICT))
        teams = org.teams_under(SAMSON_DISTRICT)
    else:
        commune = next((c for c in two_tier_communes() if c.district == SAMSON_DISTRICT and c.code in org), None)
        teams = org.teams_under(commune.code) if commune is not None else []
        if commune is not None:
            people.append(("samson1", f"Đầu mối {commune.name}", Role.COMMUNE_FOCAL, commune.code))
    team = org.get(min(teams)) if teams else None
    if team is not None:
        people.append(("totruong", f"Tổ trưởng {team.name}", Role.TEAM_LEAD, team.code))
    return people


def demo_work_areas(org: OrgRegistry, villages_per_commune: int) -> list[WorkArea]:
    """The demo registry's villages (``<commune>-V01`` …) shared out among the teams of their
    commune in turn, as a commune gives each team its villages."""
    areas = []
    for commune in org.units(UnitKind.COMMUNE):
        teams = sorted(t.code for t in org.children(commune.code) if t.kind is UnitKind.TEAM)
        areas += [WorkArea(commune.code, f"{commune.code}-V{v:02d}", teams[(v - 1) % len(teams)])
                  for v in range(1, villages_per_commune + 1) if teams]
    return areas


async def load_demo_work_areas(conn: asyncpg.Connection, org: OrgRegistry) -> None:
    """Give the demo registry's villages to teams, unless the communes have areas already."""
    areas = demo_work_areas(org, TruthConfig().villages_per_commune)
    async with conn.transaction():
        have = {(a.commune, a.village) for a in await stored_areas(conn, sorted({a.commune for a in areas}))}
        await save_areas(conn, [a for a in areas if (a.commune, a.village) not in have], actor="demo")


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
