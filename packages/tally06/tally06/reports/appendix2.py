"""Appendix II ("Phụ lục II"): the per-activation list a unit reports, and the per-officer
report with the plan-70 rule that every official guides at least 10 citizens.

Which activations are listed follows the Appendix I rule (docs/reports.md): credited
activation events of the unit with ``period_from < occurred_at <= period_to`` (no lower bound
without ``period_from``) and ``received_at <= period_to``. They are listed in the order they
occurred (then by sequence number), with a running total ("Lũy kế").

Personal data is opened from ``citizen_pii`` (AES-GCM) only to build the list. It is masked
(``038******234``, ``091****678``, initials of the name) unless the caller asks for clear data
AND its role is allowed to see it (``CLEAR_ROLES``). Every export is written to the audit log
by the caller (the CLI), refusals included.

Both reports are made in a map like Appendix I (``reports.scope``): the map in force on the
local day of the period's end unless another is asked for. The unit may be any unit of that
map; its activations are those of the teams it holds there, and each is listed under the team of
that map that holds its work (a renamed team's old code is shown as the new one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from tally06.contract.events import LOCAL_TZ
from tally06.domain.metrics import ACTIVATED
from tally06.domain.org import UnitKind
from tally06.domain.pii import CitizenProtector, SealedPii, mask_cccd, mask_phone
from tally06.reports.exceptions import ReportError
from tally06.reports.scope import MapRef, check_aware, report_scope

# Roles that may export clear CCCD, names and phones: the provincial / district police, who
# run the spot checks ("kiểm tra xác suất"). Everybody else gets masked lists.
CLEAR_ROLES = frozenset({"police"})
MIN_CITIZENS_PER_OFFICIAL = 10


def mask_name(full_name: str) -> str:
    """Initials and the given name: "Lê Thị Hoa" -> "L. T. Hoa", so lists stay usable."""
    parts = full_name.split()
    if len(parts) <= 1:
        return full_name[:1] + "." if full_name else ""
    return " ".join([*(p[0] + "." for p in parts[:-1]), parts[-1]])


@dataclass(frozen=True)
class Appendix2Row:
    no: int
    full_name: str
    id_number: str
    phone: str
    level: int
    officer: str
    team: str
    occurred_at: dt.datetime
    running_total: int


@dataclass
class Appendix2Report:
    unit_code: str
    unit_name: str
    period_from: dt.datetime | None
    period_to: dt.datetime
    clear: bool
    rows: list[Appendix2Row]
    map: MapRef | None = None
    unit_kind: UnitKind | None = None


def may_see_clear(role: str) -> bool:
    return role in CLEAR_ROLES


async def build_appendix2(
    conn: asyncpg.Connection, unit_code: str, period_to: dt.datetime,
    period_from: dt.datetime | None = None, *, protector: CitizenProtector, clear: bool = False,
    map_id: int | None = None, progress: Callable[[int, int], None] | None = None,
) -> Appendix2Report:
    check_aware(period_to, "the end of the period")
    if period_from is not None and check_aware(period_from, "the start of the period") >= period_to:
        raise ReportError("the period must start before it ends")
    scope = await report_scope(conn, unit_code, period_to, map_id)
    records = await conn.fetch(
        "SELECT e.seq, e.level, e.officer, e.team, e.occurred_at, e.citizen_key, p.key_id, p.sealed "
        "FROM events e LEFT JOIN citizen_pii p ON p.seq = e.seq "
        "WHERE e.team = ANY($1::text[]) AND e.credited AND e.metric = ANY($2::text[]) "
        "AND e.occurred_at <= $3 AND e.received_at <= $3 "
        "AND ($4::timestamptz IS NULL OR e.occurred_at > $4) ORDER BY e.occurred_at, e.seq",
        scope.team_codes(), list(ACTIVATED), period_to, period_from)
    rows = []
    for i, r in enumerate(records, start=1):
        if r["sealed"] is None:  # an event without stored personal data (e.g. a bulk baseline)
            values: dict = {}
        else:
            values = protector.open(SealedPii(r["key_id"], bytes(r["sealed"])), associated=r["citizen_key"])
        name, cccd, phone = values.get("full_name") or "", values.get("id_number") or "", values.get("phone") or ""
        if not clear:
            name, cccd = mask_name(name), mask_cccd(cccd) if cccd else ""
            phone = mask_phone(phone) if phone else ""
        rows.append(Appendix2Row(i, name, cccd, phone, r["level"], r["officer"], scope.map.holder(r["team"]),
                                 r["occurred_at"], i))
        if progress and (i % 500 == 0 or i == len(records)):
            progress(i, len(records))
    unit = scope.unit
    return Appendix2Report(unit.code, unit.name, period_from, period_to, clear, rows, scope.ref, unit.kind)


@dataclass(frozen=True)
class OfficerRow:
    team: str
    officer: str
    activated_level1: int
    activated_level2: int
    citizens: int  # distinct citizens guided to an activation

    @property
    def meets_minimum(self) -> bool:
        return self.citizens >= MIN_CITIZENS_PER_OFFICIAL


@dataclass(frozen=True)
class TeamRow:
    team: str
    team_name: str
    officers: int
    officers_below_minimum: int
    activated_level1: int
    activated_level2: int
    citizens: int


@dataclass
class OfficerReport:
    """The per-team and per-officer tables of a unit, and the map they are in."""

    unit_code: str
    unit_name: str
    period_from: dt.datetime | None
    period_to: dt.datetime
    map: MapRef
    teams: list[TeamRow]
    officers: list[OfficerRow]


async def build_officer_report(
    conn: asyncpg.Connection, unit_code: str, period_to: dt.datetime,
    period_from: dt.datetime | None = None, *, map_id: int | None = None,
) -> OfficerReport:
    """Per team and per officer of ``unit_code`` (same counting rule as Appendix II); teams
    without any activation are listed too (0 officers), since they are the ones to chase."""
    check_aware(period_to, "the end of the period")
    scope = await report_scope(conn, unit_code, period_to, map_id)
    # Per (team of the map, officer): a renamed team's old code counts in the team holding it.
    records = await conn.fetch(
        "SELECT h.holder AS team, e.officer, count(*) FILTER (WHERE e.metric = 'activated_l1') AS l1, "
        "count(*) FILTER (WHERE e.metric = 'activated_l2') AS l2, count(DISTINCT e.citizen_key) AS citizens "
        "FROM events e JOIN map_holders h ON h.map_id = $1 AND h.team = e.team "
        "WHERE e.team = ANY($2::text[]) AND e.credited AND e.metric = ANY($3::text[]) "
        "AND e.occurred_at <= $4 AND e.received_at <= $4 "
        "AND ($5::timestamptz IS NULL OR e.occurred_at > $5) GROUP BY 1, 2 ORDER BY 1, 2",
        scope.map.id, scope.team_codes(), list(ACTIVATED), period_to, period_from)
    officers = [OfficerRow(r["team"], r["officer"], r["l1"], r["l2"], r["citizens"]) for r in records]
    by_team: dict[str, list[OfficerRow]] = {}
    for o in officers:
        by_team.setdefault(o.team, []).append(o)
    teams = []
    for team in scope.teams():
        mine = by_team.get(team.code, [])
        teams.append(TeamRow(
            team.code, team.name, len(mine), sum(not o.meets_minimum for o in mine),
            sum(o.activated_level1 for o in mine), sum(o.activated_level2 for o in mine),
            sum(o.citizens for o in mine)))
    return OfficerReport(scope.unit.code, scope.unit.name, period_from, period_to, scope.ref, teams, officers)


def local_time(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")
