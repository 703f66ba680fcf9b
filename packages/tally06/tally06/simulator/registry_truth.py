"""What the national registry shows about the simulator's citizens, and from when.

The devices claim; the registry knows. This module is the registry's side of the demo: it is told
every event the simulated teams record (it knows their citizens in clear, as the real registry
does) and decides, per citizen, what the registry records and at which moment:

* most activation claims are *confirmed*: the registry records the activation a lag after the
  claim (the code takes one to three days in the field; the demo compresses that to hours, so
  claimed and confirmed visibly diverge and converge within minutes of ``make demo``);
* a share is *never* activated (the citizen never entered the code): the claim is not confirmed,
  and a level-2 citizen stays on the registry's approved-but-not-activated list;
* a share was *already active* long before the claim (no work was done);
* a few are activated at the *other level* than claimed;
* the registry also holds people no team claimed: activations in the teams' areas (unclaimed),
  and a backlog of citizens collected or approved but not activated when the demo starts (the
  work lists), some of whom get activated as the demo runs.

Pure and seeded: no clock, no I/O. A citizen's fate is drawn from the seed and the citizen
alone, and the people no team claimed from the seed and the team or event beside them, so the
same events give the same registry.
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tally06.contract.events import LOCAL_TZ, EventType
from tally06.domain.registry import RegistryStatus
from tally06.simulator.people import citizen as make_citizen
from tally06.simulator.registry_extracts import ExtractRow


class Fate(enum.StrEnum):
    """What the registry makes of a citizen's activation claim."""

    CONFIRMED = "confirmed"
    NEVER = "never"
    ALREADY_ACTIVE = "already_active"
    OTHER_LEVEL = "other_level"


@dataclass(frozen=True)
class TruthConfig:
    """Shares and delays; the hours are the demo's compression of the field's days."""

    seed: int = 6
    never_share: float = 0.10
    already_active_share: float = 0.04
    other_level_share: float = 0.02
    lag_hours: tuple[float, float] = (0.25, 6.0)  # claim → registry activation (field: 1–3 days)
    already_active_days: tuple[int, int] = (30, 365)  # how long before the claim
    unclaimed_per_claim: float = 0.06  # registry activations no team claimed, per claim seen
    unclaimed_level2_share: float = 0.15
    backlog_approved_per_team: int = 8  # approved, not activated, when the demo starts
    backlog_collected_per_team: int = 4  # collected, not approved
    backlog_activated_share: float = 0.3  # of the approved backlog, activated later, unclaimed
    backlog_hours: float = 48.0  # those activations spread over this many hours from the start
    villages_per_commune: int = 6

    def __post_init__(self) -> None:
        shares = (self.never_share, self.already_active_share, self.other_level_share)
        if min(shares) < 0 or sum(shares) > 1:
            raise ValueError("the fate shares must be non-negative and add up to at most 1")
        if not 0 <= self.lag_hours[0] <= self.lag_hours[1]:
            raise ValueError("lag_hours must be an ordered, non-negative range")


@dataclass
class Person:
    """One citizen as the registry will record them; ``None`` stages are never reached."""

    cccd: str
    team: str  # the team whose area they live in
    village: int
    full_name: str | None = None
    phone: str | None = None
    level: int = 1  # the level applied for or claimed
    activated_level: int | None = None  # the level the registry activated, when not ``level``
    collected: dt.datetime | None = None
    approved: dt.datetime | None = None
    activated: dt.datetime | None = None
    claimed: dt.datetime | None = None  # the first activation claim; None: no team claimed
    fate: Fate | None = None  # only for citizens the simulator's teams worked with
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def status(self, as_of: dt.datetime) -> RegistryStatus | None:
        for status, moment in ((RegistryStatus.ACTIVATED, self.activated), (RegistryStatus.APPROVED, self.approved),
                               (RegistryStatus.COLLECTED, self.collected)):
            if moment is not None and moment <= as_of:
                return status
        return None


def _day(moment: dt.datetime | None, as_of: dt.datetime) -> dt.date | None:
    return moment.astimezone(LOCAL_TZ).date() if moment is not None and moment <= as_of else None


def _hours(rng: random.Random, low: float, high: float) -> dt.timedelta:
    return dt.timedelta(hours=rng.uniform(low, high))


class RegistryTruth:
    """The registry's record of every citizen it has been told about, as of any moment."""

    def __init__(self, config: TruthConfig, *, start: dt.datetime, teams: Iterable[str]) -> None:
        self.config = config
        self.start = start
        self.people: dict[str, Person] = {}
        for team in sorted(teams):
            self._backlog(team)

    def _new(self, person: dict[str, Any], team: str, rng: random.Random) -> Person | None:
        cccd = person["id_number"]
        if cccd in self.people:  # a made-up number that is already someone's: keep the first
            return None
        found = Person(cccd, team, rng.randint(1, self.config.villages_per_commune), person.get("full_name"),
                       person.get("phone"), rng=rng)
        self.people[cccd] = found
        return found

    def _backlog(self, team: str) -> None:
        """Citizens the registry holds from before the demo: the work lists' first names."""
        cfg = self.config
        rng = random.Random(f"{cfg.seed}:backlog:{team}")
        year = self.start.astimezone(LOCAL_TZ).year
        for n in range(cfg.backlog_approved_per_team + cfg.backlog_collected_per_team):
            person = self._new(make_citizen(rng, year=year), team, rng)
            if person is None:
                continue
            person.level = 2
            person.collected = self.start - _hours(rng, 24 * 5, 24 * 60)
            if n < cfg.backlog_approved_per_team:
                person.approved = person.collected + _hours(rng, 24, 24 * 4)
                if rng.random() < cfg.backlog_activated_share:
                    person.activated = self.start + _hours(rng, 0, cfg.backlog_hours)

    def observe(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Fold in events the simulator's devices recorded (before any device fault)."""
        for event in events:
            citizen = event.get("citizen")
            if not citizen or "id_number" not in citizen:
                continue
            at = dt.datetime.fromisoformat(event["occurred_at"])
            person = self.people.get(citizen["id_number"])
            if person is None:
                rng = random.Random(f"{self.config.seed}:citizen:{citizen['id_number']}")
                person = self._new(citizen, event["team"], rng)
                assert person is not None
                person.fate = self._fate(rng)
            kind = EventType(event["type"])
            if kind is EventType.REGISTRATION_COLLECTED:
                person.level = 2
                if person.collected is None or at < person.collected:
                    person.collected = at
            elif kind is EventType.APPLICATION_APPROVED:
                person.level = 2
                person.approved = at
                if person.collected is None:  # collected before the demo's first hour
                    person.collected = at - _hours(person.rng, 24, 24 * 5)
            elif kind is EventType.ACCOUNT_ACTIVATED and "level" in event and person.claimed is None:
                self._claimed(person, at, int(event["level"]), str(event.get("event_id", "")))

    def _fate(self, rng: random.Random) -> Fate:
        cfg, draw = self.config, rng.random()
        for fate, share in ((Fate.NEVER, cfg.never_share), (Fate.ALREADY_ACTIVE, cfg.already_active_share),
                            (Fate.OTHER_LEVEL, cfg.other_level_share)):
            if draw < share:
                return fate
            draw -= share
        return Fate.CONFIRMED

    def _claimed(self, person: Person, at: dt.datetime, level: int, event_id: str) -> None:
        """The first activation claim of a citizen: the registry answers it by their fate."""
        cfg, rng = self.config, person.rng
        person.claimed, person.level = at, level
        if person.fate is Fate.ALREADY_ACTIVE:
            person.activated = at - dt.timedelta(days=rng.randint(*cfg.already_active_days))
            # The registry's own earlier dates stand, not what the team recorded this time.
            person.approved = person.activated - _hours(rng, 0, 48) if level == 2 else None
            person.collected = person.approved - _hours(rng, 24, 24 * 5) if person.approved else None
        elif person.fate in (Fate.CONFIRMED, Fate.OTHER_LEVEL):
            person.activated = at + _hours(rng, *cfg.lag_hours)
            if person.fate is Fate.OTHER_LEVEL:
                person.activated_level = 3 - level
        self._unclaimed_beside(person.team, at, event_id)

    def _unclaimed_beside(self, team: str, at: dt.datetime, event_id: str) -> None:
        """Now and then someone in the same area activates without any team (a relative
        helped, a police station did it): the registry has it, no claim does."""
        cfg = self.config
        rng = random.Random(f"{cfg.seed}:unclaimed:{event_id}")
        if not event_id or rng.random() >= cfg.unclaimed_per_claim:
            return
        person = self._new(make_citizen(rng, year=at.astimezone(LOCAL_TZ).year), team, rng)
        if person is None:
            return
        person.activated = at + _hours(rng, *cfg.lag_hours)
        if rng.random() < cfg.unclaimed_level2_share:
            person.level = 2
            person.approved = person.activated - _hours(rng, 2, 30)
            person.collected = person.approved - _hours(rng, 24, 24 * 3)

    def rows(self, as_of: dt.datetime, communes: Mapping[str, str]) -> list[ExtractRow]:
        """The registry's rows as of ``as_of``: every citizen with a stage reached by then, in
        the commune of their team in ``communes`` (team → commune code of the map in force);
        citizens of a team the map does not know are left out."""
        rows = []
        for person in self.people.values():
            status = person.status(as_of)
            commune = communes.get(person.team)
            if status is None or commune is None:
                continue
            level = person.activated_level if status is RegistryStatus.ACTIVATED and person.activated_level else None
            rows.append(ExtractRow(
                cccd=person.cccd, status=status, level=level or person.level, commune=commune,
                full_name=person.full_name, phone=person.phone, village=f"{commune}-V{person.village:02d}",
                collected_on=_day(person.collected, as_of), approved_on=_day(person.approved, as_of),
                activated_on=_day(person.activated, as_of)))
        return rows


class ExtractChanges:
    """Daily extracts carry what changed: the rows that differ from the ones sent before."""

    def __init__(self) -> None:
        self._sent: dict[str, ExtractRow] = {}

    def since_last(self, rows: Iterable[ExtractRow]) -> list[ExtractRow]:
        return [row for row in rows if self._sent.get(row.cccd) != row]

    def sent(self, rows: Iterable[ExtractRow]) -> None:
        """Call once the rows were loaded, so a refused extract is sent again in full."""
        self._sent.update((row.cccd, row) for row in rows)
