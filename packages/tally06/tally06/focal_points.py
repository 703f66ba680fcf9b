"""Focal points (đầu mối): the people alerts about a unit's children are sent to.

A commune's focal point hears about its teams, a district's about its communes and the
province's duty desk about its districts, so teams have none of their own. Each
(unit, channel, address) is one recipient. Recipients are retired, never deleted or edited:
notifications already sent keep pointing at the row, and so at the name, they went to.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg

from tally06.org import OrgRegistry, UnitKind
from tally06.targets_import import RowError

CSV_COLUMNS = ("unit_code", "name", "channel", "address")
CHANNELS = ("email", "webhook", "console")
_KINDS = (UnitKind.PROVINCE, UnitKind.DISTRICT, UnitKind.COMMUNE)
# Enough to catch a name or a phone number typed into the address column, not RFC 5322.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


@dataclass(frozen=True)
class FocalPointRow:
    """A recipient as a file gives it, before it has an id."""

    unit_code: str
    name: str
    channel: str
    address: str


@dataclass(frozen=True)
class Recipient:
    id: int
    unit: str
    name: str
    channel: str
    address: str


@dataclass(frozen=True)
class LoadResult:
    added: int
    retired: int
    kept: int


def _address_problem(channel: str, address: str) -> str | None:
    if not address:
        return "is required"
    if channel == "email" and not _EMAIL.fullmatch(address):
        return f"{address!r} is not an email address"
    if channel == "webhook":
        url = urlsplit(address)
        if url.scheme not in ("http", "https") or not url.hostname:
            return f"{address!r} is not an http(s) URL"
    return None


def parse_focal_points_csv(text: str, org: OrgRegistry) -> tuple[list[FocalPointRow], list[RowError]]:
    """Rows of ``unit_code,name,channel,address``; bad rows are reported, never raised."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        return [], [RowError(1, "header", f"must be {','.join(CSV_COLUMNS)}")]
    rows: list[FocalPointRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, raw in enumerate(reader, start=2):
        unit_code, name, channel, address = ((raw.get(c) or "").strip() for c in CSV_COLUMNS)
        if not (unit_code or name or channel or address):
            continue
        before = len(errors)
        channel = channel.lower()
        if channel == "email":
            address = address.lower()  # one mailbox typed in two cases is still one recipient
        unit = org.get(unit_code)
        if unit is None:
            errors.append(RowError(line, "unit_code", f"{unit_code!r} is not a known unit"))
        elif unit.kind not in _KINDS:
            errors.append(RowError(line, "unit_code", (
                f"{unit_code} is a {unit.kind.value}; only communes, districts and the province "
                "have focal points (a team's alerts go to its commune)")))
        if not name:
            errors.append(RowError(line, "name", "is required"))
        if channel not in CHANNELS:
            errors.append(RowError(line, "channel", f"{channel!r} is not one of {', '.join(CHANNELS)}"))
        elif (problem := _address_problem(channel, address)) is not None:
            errors.append(RowError(line, "address", problem))
        if len(errors) > before:
            continue
        key = (unit_code, channel, address)
        if key in seen:
            errors.append(RowError(line, "address", f"{unit_code} {channel} {address} is already given on row {seen[key]}"))
            continue
        seen[key] = line
        rows.append(FocalPointRow(unit_code, name, channel, address))
    return rows, errors


async def load_focal_points(conn: asyncpg.Connection, rows: list[FocalPointRow], *, replace: bool) -> LoadResult:
    """Make the rows active recipients, in one transaction.

    A recipient already active with the same name is kept (same id). One with a new name is
    retired and inserted again, so earlier notifications keep the name they were sent to.
    With ``replace``, the other active recipients of the units in ``rows`` are retired too;
    units not in ``rows`` are never touched.
    """
    wanted = {(r.unit_code, r.channel, r.address): r for r in rows}
    retire: list[int] = []
    kept = 0
    async with conn.transaction():
        current = await conn.fetch(
            "SELECT id, unit, name, channel, address FROM focal_points "
            "WHERE active AND unit = ANY($1::text[]) FOR UPDATE", sorted({r.unit_code for r in rows}))
        for row in current:
            key = (row["unit"], row["channel"], row["address"])
            same = wanted.get(key)
            if same is not None and same.name == row["name"]:
                kept += 1
                del wanted[key]
            elif same is not None or replace:
                retire.append(row["id"])
        # Retire first: the unique index allows one active row per (unit, channel, address).
        await conn.execute(
            "UPDATE focal_points SET active = false, retired_at = now() WHERE id = ANY($1::bigint[])", retire)
        await conn.executemany(
            "INSERT INTO focal_points (unit, name, channel, address) VALUES ($1, $2, $3, $4)",
            [(r.unit_code, r.name, r.channel, r.address) for r in wanted.values()])
    return LoadResult(added=len(wanted), retired=len(retire), kept=kept)


async def recipients_by_unit(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, list[Recipient]]:
    """Active recipients of each unit that has any, oldest first."""
    rows = await conn.fetch(
        "SELECT id, unit, name, channel, address FROM focal_points WHERE active ORDER BY unit, id")
    found: dict[str, list[Recipient]] = {}
    for r in rows:
        found.setdefault(r["unit"], []).append(Recipient(r["id"], r["unit"], r["name"], r["channel"], r["address"]))
    return found


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
