"""What a simulated verifier finds: the registry's never-activated claims, the fakes of the
faking communes' officers (which the registry confirms), calls nobody answers; the same findings
for the same claims."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

from tally06.contract.events import LOCAL_TZ
from tally06.domain.spot_checks import FAILURES, UNREACHABLE_AFTER_TRIES, Outcome
from tally06.simulator.registry_truth import Fate, RegistryTruth, TruthConfig
from tally06.simulator.spot_check_truth import SpotCheckTruth, SpotTruthConfig
from tests.support import factories

START = dt.datetime(2024, 11, 20, 8, 0, tzinfo=LOCAL_TZ)
FAKING, HONEST = "TH-03-C02", "TH-03-C05"
COMMUNES = {f"{c}-T{i}": c for c in (FAKING, HONEST) for i in (1, 2, 3)}
CLEAN_REGISTRY = TruthConfig(never_share=0.0, already_active_share=0.0, other_level_share=0.0,
                             backlog_approved_per_team=0, backlog_collected_per_team=0, unclaimed_per_claim=0.0)
ALWAYS_ANSWER: dict[str, Any] = {"second_try": 0.0, "third_try": 0.0, "never_answers": 0.0}


def key(cccd: str) -> str:
    return hashlib.sha256(cccd.encode()).hexdigest()


def officer(team: str, n: int) -> str:
    return f"CA-{team.replace('-', '', 1)}-{n:02d}"


def claims(per_team: int) -> list[dict]:
    events = []
    for i in range(per_team):
        for team in COMMUNES:
            person = {"id_number": factories.cccd(), "full_name": "Lê Thị Hoa", "phone": factories.phone()}
            events.append({"event_id": str(uuid.uuid4()), "type": "account_activated", "level": 1,
                           "occurred_at": (START + dt.timedelta(minutes=i)).isoformat(), "team": team,
                           "officer": officer(team, 1 + i % 4), "citizen": person})
    return events


def truth(events: list[dict], registry: TruthConfig = CLEAN_REGISTRY, **spot: Any) -> SpotCheckTruth:
    reg = RegistryTruth(registry, start=START, teams=COMMUNES)
    reg.observe(events)
    found = SpotCheckTruth(SpotTruthConfig(**{"faking_communes": (FAKING,), "faking_commune_share": 0.0,
                                              **spot}), reg, COMMUNES, key)
    found.observe(events)
    return found


def findings(t: SpotCheckTruth, events: list[dict]) -> dict[str, list[Outcome]]:
    out: dict[str, list[Outcome]] = {}
    for e in events:
        f = t.finding(e["team"], e["officer"], key(e["citizen"]["id_number"]))
        out.setdefault(COMMUNES[e["team"]], []).append(f.outcome)
    return out


def test_only_the_faking_communes_officers_fake_and_the_registry_does_not_see_it():
    events = claims(10)
    t = truth(events, faker_share=1.0, fake_share=1.0, colleague_phone_share=1.0, **ALWAYS_ANSWER)
    found = findings(t, events)
    assert found[HONEST] == [Outcome.CONFIRMED] * 30
    assert found[FAKING] == [Outcome.NOT_OWN_ACCOUNT] * 30
    # An account was activated, on a colleague's phone: the registry confirms every claim.
    assert all(p.fate is Fate.CONFIRMED for p in t.registry.people.values())
    assert t.not_real(t.communes) == (60, 30)


def test_claims_the_registry_never_confirms_were_not_activated_wherever_they_are():
    events = claims(5)
    never = TruthConfig(**{**CLEAN_REGISTRY.__dict__, "never_share": 1.0})
    found = findings(truth(events, never, faker_share=1.0, fake_share=1.0, **ALWAYS_ANSWER), events)
    assert found[HONEST] == found[FAKING] == [Outcome.NOT_ACTIVATED] * 15


def test_the_shares_of_the_demo_field():
    events = claims(400)
    t = truth(events, TruthConfig())
    teams = {c: [team for team, commune in COMMUNES.items() if commune == c] for c in (FAKING, HONEST)}
    (honest_n, honest_fake), (faking_n, faking_fake) = t.not_real(teams[HONEST]), t.not_real(teams[FAKING])
    assert honest_n == faking_n == 1200
    # Honest: the registry's never-activated (10 %) and already-active (4 %) claims only.
    assert 0.10 < honest_fake / honest_n < 0.18
    # Faking: some officers (here 2 or 3 of the 4 of each team, by the seed) fake 80 % of theirs.
    fakers = sum(t.faker(team, officer(team, n)) for team in teams[FAKING] for n in range(1, 5))
    expected = 0.14 + 0.86 * 0.8 * fakers / 12
    assert abs(faking_fake / faking_n - expected) < 0.05
    kinds = {o for outcomes in findings(t, events).values() for o in outcomes}
    assert kinds == {Outcome.CONFIRMED} | FAILURES


def test_calls_nobody_answers_then_the_answer():
    events = claims(3)
    e = next(x for x in events if COMMUNES[x["team"]] == HONEST)
    later = truth(events, second_try=0.0, third_try=1.0, never_answers=0.0)
    f = later.finding(e["team"], e["officer"], key(e["citizen"]["id_number"]))
    assert [f.answer(t)[0] for t in range(3)] == [Outcome.NO_ANSWER, Outcome.NO_ANSWER, Outcome.CONFIRMED]
    never = truth(events, second_try=0.0, third_try=0.0, never_answers=1.0)
    f = never.finding(e["team"], e["officer"], key(e["citizen"]["id_number"]))
    assert not f.reachable
    assert [f.answer(t)[0] for t in range(UNREACHABLE_AFTER_TRIES)] == [Outcome.NO_ANSWER] * UNREACHABLE_AFTER_TRIES


def test_same_claims_same_findings_in_any_order():
    events = claims(20)
    a, b = truth(events, TruthConfig()), truth(list(reversed(events)), TruthConfig())
    assert findings(a, events) == findings(b, events)


def test_claims_of_an_earlier_run_get_the_registrys_shares():
    """A reused home holds claims this run's registry never heard of: they still answer."""
    events = claims(400)
    t = truth([], TruthConfig(), faker_share=0.0)
    found = [t.finding(e["team"], e["officer"], key(e["citizen"]["id_number"])).outcome for e in events]
    assert found == [t.finding(e["team"], e["officer"], key(e["citizen"]["id_number"])).outcome for e in events]
    assert 0.07 < found.count(Outcome.NOT_ACTIVATED) / len(found) < 0.13
    assert 0.02 < found.count(Outcome.NOT_GUIDED) / len(found) < 0.06
    assert found.count(Outcome.CONFIRMED) + found.count(Outcome.NOT_ACTIVATED) + found.count(Outcome.NOT_GUIDED) == 2400
