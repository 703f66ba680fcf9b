"""What a verifier finds when they call a simulated citizen: which activation claims are not real.

The registry (``registry_truth``) knows whether and when an account was activated; it cannot know
on whose phone, nor who guided it. This module is the rest of the field, what a spot check
reaches by phone, and it agrees with the registry:

* a claim the registry never confirms (its ``never`` citizens) did not happen: the citizen says
  the account was never activated;
* a citizen the registry had active long before the claim (``already_active``) was guided by
  nobody: the officer named did not guide it;
* in a few communes pushed past what their teams can do, some officers fake most of their claims
  in ways the registry cannot see, because an account *was* activated: on a colleague's phone, or
  credited to an officer who did not guide it. The registry confirms those; only the call finds
  them out;
* some citizens do not pick up: after one or two tries, or never (unreachable after
  ``UNREACHABLE_AFTER_TRIES`` tries, and a reserve is called instead).

Pure and seeded, like the registry: a claim's finding depends on the seed, its officer, its team's
commune and the citizen alone, so the same claims give the same findings in any order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tally06.contract.events import EventType
from tally06.domain.spot_checks import UNREACHABLE_AFTER_TRIES, Outcome
from tally06.simulator.registry_truth import Fate, RegistryTruth

# What a verifier writes down; no personal data (the note is stored and shown on the board).
NOTES = {
    "never": "Người dân cho biết chưa kích hoạt tài khoản",
    "already_active": "Tài khoản đã kích hoạt từ trước, không do cán bộ hướng dẫn",
    "colleague_phone": "Tài khoản kích hoạt trên điện thoại của cán bộ khác",
    "not_guided": "Người dân không được cán bộ này hướng dẫn",
    "no_answer": "Gọi không nghe máy",
}


@dataclass(frozen=True)
class SpotTruthConfig:
    seed: int = 6
    faking_communes: tuple[str, ...] = ()  # named by the demo (stack/demo_data.py)
    faking_commune_share: float = 0.03  # and a few more drawn by the seed
    faker_share: float = 0.6  # of the officers of a faking commune's teams
    fake_share: float = 0.8  # of a faking officer's claims
    colleague_phone_share: float = 0.65  # of the fakes; the others name an officer who did not guide
    # Citizens who answer only at the second try, only at the third, or never.
    second_try: float = 0.12
    third_try: float = 0.05
    never_answers: float = 0.08

    def __post_init__(self) -> None:
        shares = (self.faking_commune_share, self.faker_share, self.fake_share, self.colleague_phone_share,
                  self.second_try, self.third_try, self.never_answers)
        if min(shares) < 0 or max(shares) > 1 or self.second_try + self.third_try + self.never_answers > 1:
            raise ValueError("the shares must lie in [0, 1] and the answer shares add up to at most 1")


@dataclass(frozen=True)
class Finding:
    """The truth of one claim (``outcome``: what the citizen says once reached) and how calling
    them goes: ``no_answers`` calls reach nobody first; ``UNREACHABLE_AFTER_TRIES`` or more, never
    reached, and the check learns nothing of this claim."""

    outcome: Outcome
    no_answers: int
    note: str | None = None

    @property
    def fake(self) -> bool:
        return self.outcome.failure

    @property
    def reachable(self) -> bool:
        return self.no_answers < UNREACHABLE_AFTER_TRIES

    def answer(self, tries: int) -> tuple[Outcome, str | None]:
        """The outcome of the next call, after ``tries`` calls that reached nobody."""
        if tries < self.no_answers:
            return Outcome.NO_ANSWER, NOTES["no_answer"]
        return self.outcome, self.note




class SpotCheckTruth:
    """The findings of every activation claim the simulated teams made, beside the registry's word.

    ``communes`` is team → commune, the teams' places that decide which of them fake (a map of
    the demo's start: a later reorganisation moves teams, not what they do); ``citizen_key`` is
    the keyed hash ingest stores, so a drawn claim leads back to its citizen.
    """

    def __init__(self, config: SpotTruthConfig, registry: RegistryTruth, communes: Mapping[str, str],
                 citizen_key: Callable[[str], str]) -> None:
        self.config = config
        self.registry = registry
        self.communes = dict(communes)
        self._key = citizen_key
        self._cccd: dict[str, str] = {}  # citizen key → CCCD of each claimed citizen
        self._claims: dict[str, list[tuple[str, str]]] = {}  # team → (officer, citizen key) of first claims
        self._claimed: set[str] = set()
        self._fakers: dict[str, bool] = {}
        every = sorted(set(self.communes.values()))
        self.faking_communes = frozenset(
            c for c in every if c in config.faking_communes
            or random.Random(f"{config.seed}:faking:{c}").random() < config.faking_commune_share)

    def faker(self, team: str, officer: str) -> bool:
        """Whether ``officer`` fakes claims: some officers of the faking communes' teams do."""
        if self.communes.get(team) not in self.faking_communes:
            return False
        if officer not in self._fakers:
            cfg = self.config
            self._fakers[officer] = random.Random(f"{cfg.seed}:faker:{officer}").random() < cfg.faker_share
        return self._fakers[officer]

    def observe(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Fold in events the simulator's devices recorded; the registry must have heard them
        first (its verdict on a citizen is decided when it first hears of them)."""
        for event in events:
            citizen = event.get("citizen")
            if event.get("type") != EventType.ACCOUNT_ACTIVATED.value or not citizen or "id_number" not in citizen:
                continue
            key = self._key(citizen["id_number"])
            self._cccd.setdefault(key, citizen["id_number"])
            if key not in self._claimed:  # a neighbour team's later claim of the citizen is not credited
                self._claimed.add(key)
                self._claims.setdefault(event["team"], []).append((event["officer"], key))

    def finding(self, team: str, officer: str, citizen_key: str) -> Finding:
        """What a verifier finds for the claim that ``officer`` of ``team`` guided the citizen."""
        cccd = self._cccd.get(citizen_key)
        person = self.registry.people.get(cccd) if cccd is not None else None
        cfg = self.config
        if person is not None:
            fate, activated = person.fate, person.activated is not None
        else:
            # A claim of an earlier run in a reused home: this run's registry never heard of the
            # citizen, so their fate is drawn with the registry's shares from the claim alone.
            fate, activated = self._earlier_fate(citizen_key), True
        rng = random.Random(f"{cfg.seed}:spot:{citizen_key}")
        draw = rng.random()
        no_answers = (UNREACHABLE_AFTER_TRIES if draw < cfg.never_answers
                      else 2 if draw < cfg.never_answers + cfg.third_try
                      else 1 if draw < cfg.never_answers + cfg.third_try + cfg.second_try else 0)
        fake, colleague = rng.random() < cfg.fake_share, rng.random() < cfg.colleague_phone_share
        if fate is Fate.NEVER or (fate is None and not activated):
            return Finding(Outcome.NOT_ACTIVATED, no_answers, NOTES["never"])
        if fate is Fate.ALREADY_ACTIVE:
            return Finding(Outcome.NOT_GUIDED, no_answers, NOTES["already_active"])
        if fake and self.faker(team, officer):
            if colleague:
                return Finding(Outcome.NOT_OWN_ACCOUNT, no_answers, NOTES["colleague_phone"])
            return Finding(Outcome.NOT_GUIDED, no_answers, NOTES["not_guided"])
        return Finding(Outcome.CONFIRMED, no_answers)

    def _earlier_fate(self, citizen_key: str) -> Fate:
        reg, draw = self.registry.config, random.Random(f"{self.config.seed}:earlier:{citizen_key}").random()
        if draw < reg.never_share:
            return Fate.NEVER
        return Fate.ALREADY_ACTIVE if draw < reg.never_share + reg.already_active_share else Fate.CONFIRMED

    def claims_of(self, teams: Iterable[str]) -> list[tuple[str, str, str]]:
        """(team, officer, citizen key) of the first claim of every citizen the teams claimed."""
        return [(team, officer, key) for team in sorted(set(teams)) for officer, key in self._claims.get(team, ())]

    def not_real(self, teams: Iterable[str]) -> tuple[int, int]:
        """(claims, claims that are not real) of the teams' citizens, reachable or not: the
        simulator's answer to what a spot check of them estimates."""
        findings = [self.finding(*claim) for claim in self.claims_of(teams)]
        return len(findings), sum(f.fake for f in findings)
