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
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from tally06.contract.events import LOCAL_TZ
from tally06.domain.org import UnitKind
from tally06.domain.pii import CitizenProtector, SealedPii, mask_cccd, mask_phone
from tally06.reports.appendix1 import _COLUMN, ACTIVATED, _aware
from tally06.reports.exceptions import ReportError
from tally06.store.org import load_org

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


def may_see_clear(role: str) -> bool:
    return role in CLEAR_ROLES


async def _unit(conn: asyncpg.Connection, unit_code: str):  # noqa: ANN202
    unit = (await load_org(conn)).get(unit_code)
    if unit is None:
        raise ReportError(f"unknown unit {unit_code!r}")
    return unit


async def build_appendix2(
    conn: asyncpg.Connection, unit_code: str, period_to: dt.datetime,
    period_from: dt.datetime | None = None, *, protector: CitizenProtector, clear: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Appendix2Report:
    _aware(period_to, "the end of the period")
    if period_from is not None and _aware(period_from, "the start of the period") >= period_to:
        raise ReportError("the period must start before it ends")
    unit = await _unit(conn, unit_code)
    column = _COLUMN[unit.kind]
    records = await conn.fetch(
        f"SELECT e.seq, e.level, e.officer, e.team, e.occurred_at, e.citizen_key, p.key_id, p.sealed "
        f"FROM events e LEFT JOIN citizen_pii p ON p.seq = e.seq "
        f"WHERE e.{column} = $1 AND e.credited AND e.metric = ANY($2::text[]) "
        "AND e.occurred_at <= $3 AND e.received_at <= $3 "
        "AND ($4::timestamptz IS NULL OR e.occurred_at > $4) ORDER BY e.occurred_at, e.seq",
        unit_code, list(ACTIVATED), period_to, period_from)
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
        rows.append(Appendix2Row(i, name, cccd, phone, r["level"], r["officer"], r["team"],
                                 r["occurred_at"], i))
        if progress and (i % 500 == 0 or i == len(records)):
            progress(i, len(records))
    return Appendix2Report(unit.code, unit.name, period_from, period_to, clear, rows)


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


async def build_officer_report(
    conn: asyncpg.Connection, unit_code: str, period_to: dt.datetime,
    period_from: dt.datetime | None = None,
) -> tuple[list[TeamRow], list[OfficerRow]]:
    """Per team and per officer of ``unit_code`` (same counting rule as Appendix II); teams
    without any activation are listed too (0 officers), since they are the ones to chase."""
    _aware(period_to, "the end of the period")
    unit = await _unit(conn, unit_code)
    column = _COLUMN[unit.kind]
    records = await conn.fetch(
        f"SELECT team, officer, count(*) FILTER (WHERE metric = 'activated_l1') AS l1, "
        "count(*) FILTER (WHERE metric = 'activated_l2') AS l2, count(DISTINCT citizen_key) AS citizens "
        f"FROM events WHERE {column} = $1 AND credited AND metric = ANY($2::text[]) "
        "AND occurred_at <= $3 AND received_at <= $3 "
        "AND ($4::timestamptz IS NULL OR occurred_at > $4) GROUP BY team, officer ORDER BY team, officer",
        unit_code, list(ACTIVATED), period_to, period_from)
    officers = [OfficerRow(r["team"], r["officer"], r["l1"], r["l2"], r["citizens"]) for r in records]
    org = await load_org(conn)
    teams_of_unit = sorted((u for u in org.units(UnitKind.TEAM) if unit.code in org.ancestors(u.code)),
                           key=lambda u: u.code)
    teams = []
    for team in teams_of_unit:
        mine = [o for o in officers if o.team == team.code]
        teams.append(TeamRow(
            team.code, team.name, len(mine), sum(not o.meets_minimum for o in mine),
            sum(o.activated_level1 for o in mine), sum(o.activated_level2 for o in mine),
            sum(o.citizens for o in mine)))
    return teams, officers


def local_time(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")
