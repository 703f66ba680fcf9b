"""Work lists over the registry's latest word: which team works where (``work_areas``), the
citizens of an area stuck at a stage, and the outcomes teams record (migration 0016).

A list is a query, never a copy: a citizen leaves it as soon as an extract moves them on. Names
and phones stay sealed in ``registry_citizens`` until a caller that may show them asks
(``contact``); the caller writes the audit entry in the transaction of the read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import asyncpg

from tally06.domain.pii import CitizenProtector, SealedPii
from tally06.domain.work_lists import Area, Reason, WorkArea, WorkList

Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True)
class ListRow:
    citizen_key: str
    commune: str
    village: str | None
    team: str | None
    status: str
    level: int
    since: dt.date | None
    reason: str | None
    outcome_at: dt.datetime | None
    pii_key_id: str | None
    pii_sealed: bytes | None


@dataclass(frozen=True)
class Contact:
    full_name: str | None
    phone: str | None


# The team of a citizen: the team given their village, else the team given their whole commune.
# Within the area, a team with no area of its own takes the citizens no team was given (a
# commune with one team needs no mapping at all).
_LISTED = """
WITH listed AS (
    SELECT r.citizen_key, r.commune, r.village, r.status, r.level, r.pii_key_id, r.pii_sealed,
           CASE r.status WHEN 'approved' THEN r.approved_on ELSE r.collected_on END AS since,
           coalesce(wv.team, wc.team) AS team
    FROM registry_citizens r
    LEFT JOIN work_areas wv ON wv.commune = r.commune AND wv.village = r.village AND wv.village <> ''
    LEFT JOIN work_areas wc ON wc.commune = r.commune AND wc.village = ''
    WHERE r.status = ANY($1::text[]) AND r.commune = ANY($2::text[]) AND ($3::text IS NULL OR r.village = $3)
), mine AS (
    SELECT * FROM listed WHERE $4::text IS NULL OR team = $4 OR (team IS NULL AND $5::boolean)
)
"""

_LATEST = """
LEFT JOIN LATERAL (
    SELECT o.reason, o.recorded_at FROM worklist_outcomes o
    WHERE o.citizen_key = m.citizen_key ORDER BY o.id DESC LIMIT 1
) latest ON true
"""


async def _filter(conn: Conn, area: Area, lists: Sequence[WorkList]) -> tuple:
    unassigned = area.team is not None and not await team_has_areas(conn, area.team)
    return ([wl.status.value for wl in lists], list(area.communes), area.village, area.team, unassigned)


async def team_has_areas(conn: Conn, team: str) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM work_areas WHERE team = $1)", team))


async def list_rows(conn: Conn, area: Area, work_list: WorkList, *, limit: int | None = None,
                    offset: int = 0) -> tuple[int, list[ListRow]]:
    """The area's citizens on one list, longest waiting first, with their latest outcome; and
    how many there are in all (``limit`` and ``offset`` page through them)."""
    if not area.communes:
        return 0, []
    rows = await conn.fetch(
        _LISTED + "SELECT m.*, latest.reason, latest.recorded_at AS outcome_at, count(*) OVER () AS total "
        "FROM mine m" + _LATEST +
        "ORDER BY m.since NULLS LAST, m.commune, m.village NULLS LAST, m.citizen_key LIMIT $6 OFFSET $7",
        *await _filter(conn, area, [work_list]), limit, offset)
    total = rows[0]["total"] if rows else await _count(conn, area, work_list)
    return total, [ListRow(**{k: v for k, v in r.items() if k != "total"}) for r in rows]


async def _count(conn: Conn, area: Area, work_list: WorkList) -> int:
    """The total when the page asked for is past the end (no row carries it)."""
    return int(await conn.fetchval(_LISTED + "SELECT count(*) FROM mine", *await _filter(conn, area, [work_list])))


async def listed_keys(conn: Conn, area: Area) -> list[str]:
    """The citizen keys on any list of the area: what an outcome may be recorded for."""
    if not area.communes:
        return []
    rows = await conn.fetch(_LISTED + "SELECT citizen_key FROM mine", *await _filter(conn, area, list(WorkList)))
    return [r["citizen_key"] for r in rows]


async def team_of(conn: Conn, citizen_key: str) -> str | None:
    """The team the mapping gives the citizen's village (or commune)."""
    return await conn.fetchval(
        "SELECT coalesce(wv.team, wc.team) FROM registry_citizens r "
        "LEFT JOIN work_areas wv ON wv.commune = r.commune AND wv.village = r.village AND wv.village <> '' "
        "LEFT JOIN work_areas wc ON wc.commune = r.commune AND wc.village = '' WHERE r.citizen_key = $1",
        citizen_key)


async def reason_counts(conn: Conn, area: Area,
                        lists: Sequence[WorkList] = tuple(WorkList)) -> tuple[int, dict[Reason, int]]:
    """How many citizens of the area are on the lists, and the latest reason of each, counted.
    Every reason is in the answer (0 when none), so the words line up on any board."""
    counts = dict.fromkeys(Reason, 0)
    if not area.communes:
        return 0, counts
    rows = await conn.fetch(
        _LISTED + "SELECT latest.reason, count(*) AS n FROM mine m" + _LATEST + "GROUP BY latest.reason",
        *await _filter(conn, area, lists))
    waiting = 0
    for row in rows:
        waiting += row["n"]
        if row["reason"] is not None:
            counts[Reason(row["reason"])] = row["n"]
    return waiting, counts


def contact(protector: CitizenProtector, row: ListRow) -> Contact:
    """The citizen's name and phone in clear: only for a caller allowed to show them, who audits."""
    if row.pii_key_id is None or row.pii_sealed is None:
        return Contact(None, None)
    values = protector.open(SealedPii(row.pii_key_id, bytes(row.pii_sealed)), associated=row.citizen_key)
    return Contact(values.get("full_name"), values.get("phone"))


async def record_outcome(conn: Conn, citizen_key: str, reason: Reason, note: str | None, team: str | None,
                         recorded_by: str) -> dt.datetime:
    return await conn.fetchval(
        "INSERT INTO worklist_outcomes (citizen_key, reason, note, team, recorded_by) VALUES ($1, $2, $3, $4, $5) "
        "RETURNING recorded_at", citizen_key, reason.value, note, team, recorded_by)


async def save_areas(conn: asyncpg.Connection, areas: Sequence[WorkArea], actor: str) -> tuple[int, int]:
    """Give each area to its team (replacing the team that had it); how many areas were new and
    how many changed team. The caller holds the transaction and writes the audit entry."""
    added = changed = 0
    for area in areas:
        before = await conn.fetchval("SELECT team FROM work_areas WHERE commune = $1 AND village = $2",
                                     area.commune, area.village)
        if before == area.team:
            continue
        await conn.execute(
            "INSERT INTO work_areas (commune, village, team, assigned_by) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (commune, village) DO UPDATE SET team = $3, assigned_by = $4, assigned_at = now()",
            area.commune, area.village, area.team, actor)
        added, changed = (added + 1, changed) if before is None else (added, changed + 1)
    return added, changed


async def areas(conn: Conn, communes: Sequence[str] | None = None) -> list[WorkArea]:
    rows = await conn.fetch("SELECT commune, village, team FROM work_areas "
                            "WHERE $1::text[] IS NULL OR commune = ANY($1) ORDER BY commune, village", communes)
    return [WorkArea(r["commune"], r["village"], r["team"]) for r in rows]
