"""Work lists: the citizens the registry shows stuck at a stage, handed to the teams that work
where they live, and what the teams found when they called or visited. Pure.

A list is not stored: it is a question put to the registry's latest word (``registry_citizens``),
so a citizen an extract shows activated leaves it by itself. Teams work areas (villages, or a
whole commune) given by an editable mapping; a team's lead sees the names and phones of the
team's area, since the team must call or visit; the commune's focal point too, since they
organise the teams; the district and the province decide with masked lists and the reasons
(docs/work-lists.md).
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
from dataclasses import dataclass
from typing import NamedTuple

from tally06.domain.accounts import Role
from tally06.domain.exceptions import WorkAreaError
from tally06.domain.org import OrgRegistry, UnitKind
from tally06.domain.pii import derived_key, mask_phone
from tally06.domain.registry import RegistryStatus


class WorkList(enum.StrEnum):
    APPROVED_NOT_ACTIVATED = "approved_not_activated"
    COLLECTED_NOT_APPROVED = "collected_not_approved"

    @property
    def status(self) -> RegistryStatus:
        """The registry status a citizen on this list has now."""
        return _LIST_STATUS[self]


_LIST_STATUS = {WorkList.APPROVED_NOT_ACTIVATED: RegistryStatus.APPROVED,
                WorkList.COLLECTED_NOT_APPROVED: RegistryStatus.COLLECTED}


class Words(NamedTuple):
    vi: str
    en: str


LIST_WORDS: dict[WorkList, Words] = {
    WorkList.APPROVED_NOT_ACTIVATED: Words("Đã phê duyệt, chưa kích hoạt", "Approved, not activated"),
    WorkList.COLLECTED_NOT_APPROVED: Words("Đã thu nhận, chưa phê duyệt", "Collected, not approved"),
}


class Reason(enum.StrEnum):
    """What a team found about one citizen. The first four are the causes Sóc Trăng reported for
    citizens approved but never activated; the others are what a call or a visit ends with."""

    NO_SMARTPHONE = "no_smartphone"
    PHONE_NOT_OWN = "phone_not_own"
    AWAY_FROM_HOME = "away_from_home"
    DATA_ERROR = "data_error"
    NO_ACTIVATION_CODE = "no_activation_code"
    WILL_ACTIVATE = "will_activate"
    ACTIVATED = "activated"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    MOVED_AWAY = "moved_away"
    DECEASED = "deceased"
    OTHER = "other"


# The one home of these words: the read API serves them (GET /v1/worklists/reasons), the page
# and the export take them from there.
REASON_WORDS: dict[Reason, Words] = {
    Reason.NO_SMARTPHONE: Words("Không có điện thoại thông minh", "No smartphone"),
    Reason.PHONE_NOT_OWN: Words("Số điện thoại không chính chủ", "Phone number not registered to the citizen"),
    Reason.AWAY_FROM_HOME: Words("Đi làm ăn xa", "Working away from home"),
    Reason.DATA_ERROR: Words("Sai sót dữ liệu", "Data errors"),
    Reason.NO_ACTIVATION_CODE: Words("Chưa nhận được mã kích hoạt", "Activation code not received"),
    Reason.WILL_ACTIVATE: Words("Hẹn sẽ kích hoạt", "Will activate"),
    Reason.ACTIVATED: Words("Đã liên hệ, đã kích hoạt", "Reached and activated"),
    Reason.REFUSED: Words("Từ chối", "Refused"),
    Reason.UNREACHABLE: Words("Không liên lạc được", "Unreachable"),
    Reason.MOVED_AWAY: Words("Đã chuyển đi nơi khác", "Moved away"),
    Reason.DECEASED: Words("Đã qua đời", "Deceased"),
    Reason.OTHER: Words("Lý do khác", "Other"),
}

# Who sees names and phones in clear: the team that calls, and the commune focal point who
# hands villages to teams. District and province decide from masked lists and the reasons;
# that is why this differs from Appendix II's CLEAR_PII_ROLES (police spot checks).
CLEAR_ROLES = frozenset({Role.TEAM_LEAD, Role.COMMUNE_FOCAL})

# Who records outcomes: those who do (or organise) the calls and visits.
OUTCOME_ROLES = frozenset({Role.TEAM_LEAD, Role.COMMUNE_FOCAL})

MAX_NOTE = 500

_REF_PURPOSE = b"worklist-ref"
_REF_HEX = 32


@dataclass(frozen=True)
class WorkArea:
    """A team works ``village`` of ``commune``; an empty village is the whole commune."""

    commune: str
    village: str
    team: str


@dataclass(frozen=True)
class Area:
    """Where a unit's lists come from: citizens living in ``communes`` (only ``village`` when
    set); for a team, only those the mapping gives it (``team``)."""

    unit: str
    communes: tuple[str, ...]
    village: str | None = None
    team: str | None = None


def may_see_clear(role: Role) -> bool:
    return role in CLEAR_ROLES


def may_record(role: Role) -> bool:
    return role in OUTCOME_ROLES


def days_waiting(since: dt.date | None, today: dt.date) -> int | None:
    """Whole days since the citizen reached the stage; None when the registry gave no date.
    A date after ``today`` (an extract from a clock ahead) counts as 0, not negative."""
    if since is None:
        return None
    return max(0, (today - since).days)


def masked(phone: str | None) -> str | None:
    return mask_phone(phone) if phone else None


def ref_key(hmac_key: str) -> bytes:
    return derived_key(hmac_key, _REF_PURPOSE)


def worklist_ref(key: bytes, citizen_key: str) -> str:
    """The reference a list item is named by outside the server: stable, not the CCCD, not the
    citizen key (which is the same keyed hash claims carry), and resolvable only by a server
    that holds the key."""
    return hmac.digest(key, citizen_key.encode(), "sha256").hex()[:_REF_HEX]


def team_commune(org: OrgRegistry, team: str) -> str | None:
    """The commune a team belongs to in the map, or None (not a team, or no commune above it)."""
    lineage = org.lineage(team)
    return lineage.commune if lineage is not None else None


def area_of(org: OrgRegistry, code: str) -> Area:
    """The area a unit's lists cover in the map: a team's commune (narrowed to the team's share
    by the mapping), a village, or every commune at or below the unit."""
    unit = org.get(code)
    if unit is None:
        return Area(code, ())
    if unit.kind is UnitKind.TEAM:
        commune = team_commune(org, code)
        return Area(code, (commune,) if commune else (), team=code)
    if unit.kind is UnitKind.VILLAGE:
        communes = tuple(u.code for u in org.chain(code) if u.kind is UnitKind.COMMUNE)
        return Area(code, communes[:1], village=code)
    found, todo = [], [code]
    while todo:
        current = todo.pop()
        if (org.get(current) or unit).kind is UnitKind.COMMUNE:
            found.append(current)
            continue
        todo.extend(c.code for c in org.children(current))
    return Area(code, tuple(sorted(found)))


def work_area(org: OrgRegistry, place: str, team: str) -> WorkArea:
    """What giving ``place`` (a village code or name, or the team's commune; empty: the whole
    commune) to ``team`` means. The commune is always the team's own: a team works where it is."""
    if not team:
        raise WorkAreaError("team", "is required")
    if org.lineage(team) is None:
        raise WorkAreaError("team", f"{team!r} is not a team of the map in force")
    commune = team_commune(org, team)
    if commune is None:
        raise WorkAreaError("team", f"{team} has no commune above it in the map")
    if not place or place == commune:
        return WorkArea(commune, "", team)
    unit = org.get(place)
    if unit is None:
        # A village the map does not list (most maps stop at the commune): its name or code as
        # the registry writes it.
        return WorkArea(commune, place, team)
    if unit.kind is not UnitKind.VILLAGE:
        raise WorkAreaError("village", f"{place} is a {unit.kind.value}, not a village of {commune}")
    if commune not in org.ancestors(place):
        raise WorkAreaError("village", f"{place} is not in {commune}, the commune of {team}")
    return WorkArea(commune, place, team)
