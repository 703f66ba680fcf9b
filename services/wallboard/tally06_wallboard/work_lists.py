"""The work lists' answers: who may see which list, clear or masked, and the audit of each
clear view and export (docs/work-lists.md).

Every list is of a unit the user may read (their own unit's subtree in the live map), so a
list never holds a citizen outside it. Names and phones are opened only for the roles that
call or organise the calls (``domain.work_lists.CLEAR_ROLES``) and only when asked; the read
and its audit entry are one transaction, so there is no clear view without its entry.
"""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass

import asyncpg
from pydantic import BaseModel, Field, field_validator

from tally06.contract.events import local_day
from tally06.domain.accounts import Role
from tally06.domain.exceptions import KeyConfigError
from tally06.domain.pii import CitizenProtector
from tally06.domain.work_lists import (
    LIST_WORDS,
    MAX_NOTE,
    REASON_WORDS,
    Area,
    Reason,
    WorkList,
    area_of,
    days_waiting,
    masked,
    may_record,
    may_see_clear,
    ref_key,
    worklist_ref,
)
from tally06.store.audit_log import record_export
from tally06.store.work_lists import ListRow, contact, list_rows, listed_keys, record_outcome, team_of
from tally06_wallboard.exceptions import Forbidden, NotFound, Unavailable
from tally06_wallboard.runtime import WallboardRuntime
from tally06_wallboard.scope import default_unit, readable
from tally06_wallboard.sessions import Principal


class Outcome(BaseModel):
    reason: Reason
    at: dt.datetime


class WorkListItem(BaseModel):
    ref: str = Field(description="opaque reference of the citizen on the list (for POST /v1/worklists/outcomes)")
    commune: str
    village: str | None
    team: str | None = Field(description="the team the work areas give the citizen's village; null: none yet")
    status: str
    level: int
    since: dt.date | None = Field(description="the day the citizen reached the stage")
    days_waiting: int | None
    full_name: str | None = Field(None, description="only in a clear list")
    phone: str | None = Field(None, description="clear in a clear list, masked otherwise")
    outcome: Outcome | None = Field(None, description="the latest outcome a team recorded")


class WorkListAnswer(BaseModel):
    unit: str
    list: WorkList
    title_vi: str
    title_en: str
    total: int = Field(description="citizens on the list; items is one page of them, longest waiting first")
    offset: int
    items: builtins.list[WorkListItem]
    clear: bool


class OutcomeBody(BaseModel):
    ref: str = Field(min_length=1, max_length=64)
    reason: Reason
    note: str | None = Field(None, max_length=MAX_NOTE, description="no names or numbers, please")

    @field_validator("note")
    @classmethod
    def _printable(cls, note: str | None) -> str | None:
        # PostgreSQL text cannot hold NUL, and no other control character belongs in a note.
        if note is not None and any(ord(ch) < 32 and ch not in "\n\t" for ch in note):
            raise ValueError("must not contain control characters")
        return note


class RecordedOutcome(BaseModel):
    ref: str
    reason: Reason
    at: dt.datetime


class ReasonWords(BaseModel):
    reason: Reason
    vi: str
    en: str


class ReasonCount(ReasonWords):
    count: int


class ReasonCounts(BaseModel):
    unit: str
    waiting: int = Field(description="citizens of the unit on the lists asked for")
    reasons: list[ReasonCount] = Field(description="the latest outcome of each of them, counted")


def reason_words() -> list[ReasonWords]:
    return [ReasonWords(reason=r, vi=w.vi, en=w.en) for r, w in REASON_WORDS.items()]


@dataclass(frozen=True)
class Asked:
    """A list request admitted: the unit readable, clear data allowed if asked for."""

    unit: str
    area: Area
    work_list: WorkList
    clear: bool
    principal: Principal

    async def audit(self, conn: asyncpg.Connection, action: str, rows: int, now: dt.datetime, target: str) -> None:
        # Codes and counts only: the entry names the unit and the list, never a citizen.
        await record_export(conn, actor=self.principal.username, role=self.principal.role.value, action=action,
                            unit=self.unit, period_from=None, period_to=now, clear_pii=self.clear, row_count=rows,
                            target=target, detail={"list": self.work_list.value})


async def admit(runtime: WallboardRuntime, principal: Principal, unit: str | None, work_list: WorkList,
                clear: bool) -> Asked:
    reports = runtime.reports
    code = default_unit(principal, unit)
    readable(reports, principal, code, "unit")
    asked = Asked(code, area_of(reports.tree().org, code), work_list, clear, principal)
    if clear and not may_see_clear(principal.role):
        await asked.audit(runtime.pool, "worklist.refused", 0, runtime.clock.now(), f"worklist:{work_list.value}")
        raise Forbidden("clear", f"a {principal.role} sees work lists masked (refused and logged)")
    return asked


def _ref_key(runtime: WallboardRuntime) -> bytes:
    try:
        return ref_key(runtime.settings.hmac_key)
    except KeyConfigError as exc:
        raise Unavailable("hmac_key", f"work lists cannot be served here: {exc}") from exc


def _item(row: ListRow, key: bytes, protector: CitizenProtector, clear: bool, today: dt.date) -> WorkListItem:
    person = contact(protector, row)
    return WorkListItem(
        ref=worklist_ref(key, row.citizen_key), commune=row.commune, village=row.village, team=row.team,
        status=row.status, level=row.level, since=row.since, days_waiting=days_waiting(row.since, today),
        full_name=person.full_name if clear else None, phone=person.phone if clear else masked(person.phone),
        outcome=Outcome(reason=Reason(row.reason), at=row.outcome_at) if row.reason and row.outcome_at else None)


async def items(runtime: WallboardRuntime, asked: Asked, limit: int | None, offset: int,
                action: str, target: str) -> tuple[int, list[WorkListItem]]:
    """One page (or, without ``limit``, all) of the list; a clear view or any export is audited
    in the read's transaction."""
    key, protector = _ref_key(runtime), runtime.protector()
    now = runtime.clock.now()
    async with runtime.pool.acquire() as conn, conn.transaction():
        total, rows = await list_rows(conn, asked.area, asked.work_list, limit=limit, offset=offset)
        found = [_item(r, key, protector, asked.clear, local_day(now)) for r in rows]
        if asked.clear or action.startswith("export."):
            await asked.audit(conn, action, len(found), now, target)
    return total, found


async def work_list(runtime: WallboardRuntime, asked: Asked, limit: int, offset: int) -> WorkListAnswer:
    total, found = await items(runtime, asked, limit, offset, "worklist.view", f"worklist:{asked.work_list.value}")
    words = LIST_WORDS[asked.work_list]
    return WorkListAnswer(unit=asked.unit, list=asked.work_list, title_vi=words.vi, title_en=words.en, total=total,
                          offset=offset, items=found, clear=asked.clear)


async def outcome(runtime: WallboardRuntime, principal: Principal, body: OutcomeBody) -> RecordedOutcome:
    """An outcome for a citizen on a list of the user's own area; a ref elsewhere is as unknown
    as a ref that never was (404), so no one learns who is on another team's list."""
    if not may_record(principal.role):
        raise Forbidden("role", f"a {principal.role} does not record outcomes; the teams and communes do")
    tree = runtime.reports.tree()
    if tree.get(principal.unit) is None:
        raise Forbidden("role", f"{principal.unit} is not in the live map")
    key = _ref_key(runtime)
    area = area_of(tree.org, principal.unit)
    note = (body.note or "").strip() or None
    async with runtime.pool.acquire() as conn, conn.transaction():
        citizen = next((k for k in await listed_keys(conn, area) if worklist_ref(key, k) == body.ref), None)
        if citizen is None:
            raise NotFound("ref", f"no citizen with this ref is on the work lists of {principal.unit}")
        team = principal.unit if principal.role is Role.TEAM_LEAD else await team_of(conn, citizen)
        at = await record_outcome(conn, citizen, body.reason, note, team, principal.username)
    return RecordedOutcome(ref=body.ref, reason=body.reason, at=at)
