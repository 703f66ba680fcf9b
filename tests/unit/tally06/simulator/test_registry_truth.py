"""The demo's registry: fates in the configured shares, activations a lag after the claim, a
backlog and unclaimed activations in the teams' areas, the same rows for the same events."""

from __future__ import annotations

import datetime as dt
import math
import uuid

import pytest

from tally06.contract.events import LOCAL_TZ
from tally06.domain.registry import RegistryStatus
from tally06.simulator.registry_truth import ExtractChanges, RegistryTruth, TruthConfig
from tests.support import factories

START = dt.datetime(2024, 11, 20, 8, 0, tzinfo=LOCAL_TZ)
CLAIM_AT = START + dt.timedelta(hours=2)
TEAMS = ("TH-01-C01-T1", "TH-01-C01-T2", "TH-02-C03-T1")
COMMUNES = {team: team.rsplit("-", 1)[0] for team in TEAMS}
NO_BACKLOG = {"backlog_approved_per_team": 0, "backlog_collected_per_team": 0}


def _event(kind: str, person: dict, at: dt.datetime, team: str, level: int | None = None) -> dict:
    event = {"event_id": str(uuid.uuid4()), "type": kind, "occurred_at": at.isoformat(), "team": team,
             "officer": "CA-TH01-C01-T1-01", "citizen": person}
    if level is not None:
        event["level"] = level
    return event


def _level1_claims(n: int, at: dt.datetime = CLAIM_AT) -> tuple[list[dict], set[str]]:
    events, cccds = [], set()
    for i in range(n):
        person = {"id_number": factories.cccd(), "full_name": "Lê Thị Hoa", "phone": factories.phone()}
        cccds.add(person["id_number"])
        team = TEAMS[i % len(TEAMS)]
        events += [_event("app_installed", person, at - dt.timedelta(minutes=5), team),
                   _event("account_activated", person, at, team, 1)]
    return events, cccds


def _truth(events: list[dict], **config) -> RegistryTruth:
    truth = RegistryTruth(TruthConfig(**{**NO_BACKLOG, **config}), start=START, teams=TEAMS)
    truth.observe(events)
    return truth


def _within(count: int, n: int, share: float) -> bool:
    """``count`` of ``n`` is a plausible draw at ``share`` (five standard deviations)."""
    return abs(count - n * share) <= 5 * math.sqrt(n * share * (1 - share)) + 1


def test_claims_meet_the_registry_in_the_configured_shares():
    n = 3000
    events, cccds = _level1_claims(n)
    config = TruthConfig(**NO_BACKLOG)
    rows = {r.cccd: r for r in _truth(events).rows(START + dt.timedelta(days=3), COMMUNES)}
    claim_day = CLAIM_AT.date()
    confirmed = sum(1 for c in cccds if c in rows and rows[c].level == 1
                    and rows[c].activated_on in (claim_day, claim_day + dt.timedelta(days=1)))
    already = sum(1 for c in cccds if c in rows and rows[c].activated_on < claim_day - dt.timedelta(days=29))
    other = sum(1 for c in cccds if c in rows and rows[c].level == 2)
    never = sum(1 for c in cccds if c not in rows)
    assert confirmed + already + other + never == n
    assert _within(never, n, config.never_share)
    assert _within(already, n, config.already_active_share)
    assert _within(other, n, config.other_level_share)
    assert _within(confirmed, n, 1 - config.never_share - config.already_active_share - config.other_level_share)
    # Someone in the same areas activated without a team, about once per configured share of claims.
    unclaimed = [r for c, r in rows.items() if c not in cccds]
    assert _within(len(unclaimed), n, config.unclaimed_per_claim)
    assert all(r.status is RegistryStatus.ACTIVATED and r.commune in COMMUNES.values() for r in unclaimed)


def test_the_registry_records_an_activation_a_lag_after_the_claim():
    n = 2000
    events, cccds = _level1_claims(n)
    truth = _truth(events, lag_hours=(1.0, 5.0), never_share=0.0, already_active_share=0.0,
                   other_level_share=0.0, unclaimed_per_claim=0.0)

    def activated_by(hours: float) -> int:
        as_of = CLAIM_AT + dt.timedelta(hours=hours)
        return sum(1 for r in truth.rows(as_of, COMMUNES) if r.status is RegistryStatus.ACTIVATED)

    assert activated_by(0.99) == 0
    assert _within(activated_by(2.0), n, 0.25)  # uniform over the four hours of lag
    assert _within(activated_by(3.0), n, 0.5)
    assert activated_by(5.0) == n


def test_level_two_citizens_wait_on_the_approved_list_until_the_registry_activates_them():
    config = TruthConfig(**NO_BACKLOG, unclaimed_per_claim=0.0)
    events, cccds = [], set()
    collected, approved, claimed = START, START + dt.timedelta(hours=3), START + dt.timedelta(hours=5)
    for i in range(1000):
        person = {"id_number": factories.cccd()}
        cccds.add(person["id_number"])
        team = TEAMS[i % len(TEAMS)]
        events += [_event("registration_collected", person, collected, team, 2),
                   _event("application_approved", person, approved, team, 2),
                   _event("account_activated", person, claimed, team, 2)]
    truth = _truth(events, unclaimed_per_claim=0.0)
    at = {hours: {r.cccd: r for r in truth.rows(START + dt.timedelta(hours=hours), COMMUNES)}
          for hours in (1, 4, 48)}
    assert {r.status for c, r in at[1].items() if r.activated_on is None} == {RegistryStatus.COLLECTED}
    waiting = [r for r in at[4].values() if r.status is RegistryStatus.APPROVED]
    assert _within(len(waiting), 1000, 1 - config.already_active_share)
    # Two days on, the approved list holds the claims the registry never saw activated.
    still = [r for r in at[48].values() if r.status is RegistryStatus.APPROVED]
    assert _within(len(still), 1000, config.never_share)
    for rows in at.values():
        for r in rows.values():
            days = [d for d in (r.collected_on, r.approved_on, r.activated_on) if d is not None]
            assert days == sorted(days)
    assert set(at[48]) == cccds


def test_a_backlog_is_on_the_lists_at_the_start_and_part_of_it_gets_activated():
    config = TruthConfig(backlog_approved_per_team=40, backlog_collected_per_team=20, backlog_hours=48.0)
    truth = RegistryTruth(config, start=START, teams=TEAMS)
    at_start = truth.rows(START, COMMUNES)
    by_status = {s: sum(1 for r in at_start if r.status is s) for s in RegistryStatus}
    assert by_status[RegistryStatus.APPROVED] == 40 * len(TEAMS)
    assert by_status[RegistryStatus.COLLECTED] == 20 * len(TEAMS)
    assert by_status[RegistryStatus.ACTIVATED] == 0
    assert all(r.collected_on < START.date() and r.level == 2 for r in at_start)
    later = truth.rows(START + dt.timedelta(hours=48), COMMUNES)
    activated = sum(1 for r in later if r.status is RegistryStatus.ACTIVATED)
    assert _within(activated, 40 * len(TEAMS), config.backlog_activated_share)
    assert {r.commune for r in later} == set(COMMUNES.values())
    assert all(r.village.startswith(f"{r.commune}-V") for r in later)


def test_the_same_events_give_the_same_registry_and_another_seed_another():
    events, _ = _level1_claims(300)
    as_of = START + dt.timedelta(days=2)
    first = RegistryTruth(TruthConfig(), start=START, teams=TEAMS)
    first.observe(events)
    again = RegistryTruth(TruthConfig(), start=START, teams=TEAMS)
    for event in events:  # told one at a time, as the runner does team by team
        again.observe([event])
    other = RegistryTruth(TruthConfig(seed=7), start=START, teams=TEAMS)
    other.observe(events)
    assert first.rows(as_of, COMMUNES) == again.rows(as_of, COMMUNES)
    assert first.rows(as_of, COMMUNES) != other.rows(as_of, COMMUNES)


def test_a_team_the_map_does_not_know_leaves_its_people_out():
    events, _ = _level1_claims(30)
    rows = _truth(events, never_share=0.0).rows(START + dt.timedelta(days=2), {TEAMS[0]: "TH-X001"})
    assert rows and {r.commune for r in rows} == {"TH-X001"}


def test_an_extract_carries_what_changed_since_the_last_one_loaded():
    events, _ = _level1_claims(200)
    truth, changes = _truth(events), ExtractChanges()
    early = truth.rows(CLAIM_AT + dt.timedelta(hours=1), COMMUNES)
    assert changes.since_last(early) == early
    changes.sent(early)
    assert changes.since_last(early) == []
    late = truth.rows(CLAIM_AT + dt.timedelta(hours=7), COMMUNES)
    moved = changes.since_last(late)
    assert moved and len(moved) < len(late)
    assert {r.cccd for r in moved} == {r.cccd for r in late} - {r.cccd for r in early if r in late}


def test_shares_that_do_not_add_up_are_refused():
    with pytest.raises(ValueError, match="shares"):
        TruthConfig(never_share=0.7, already_active_share=0.4)
    with pytest.raises(ValueError, match="lag_hours"):
        TruthConfig(lag_hours=(5.0, 1.0))


def test_a_day_of_simulated_teams_makes_an_extract_the_importer_reads_without_a_bad_row(tmp_path):
    import random

    from tally06.domain.pii import CitizenProtector, new_key
    from tally06.imports.reference import demo_org
    from tally06.imports.registry_extract import read_extract
    from tally06.simulator import events_between, new_team_state, plan_teams
    from tally06.simulator.registry_extracts import write_extract

    plans = plan_teams(demo_org(), seed=6)[:4]
    truth = RegistryTruth(TruthConfig(), start=START, teams=[p.team for p in plans])
    for plan in plans:
        rng = random.Random(plan.team)
        truth.observe(events_between(new_team_state(plan, START, rng), START, START + dt.timedelta(days=1), rng))
    as_of = START + dt.timedelta(days=1)
    rows = truth.rows(as_of, {p.team: p.team.rsplit("-", 1)[0] for p in plans})
    path = tmp_path / "extract.csv"
    assert write_extract(path, rows) == len(rows) > 100
    parsed = read_extract(path, CitizenProtector(new_key(), f"k1:{new_key()}"))
    records = parsed.all_records(last_day=as_of.date())
    assert (len(records), parsed.tally.bad) == (len(rows), 0), parsed.tally.errors[:3]
    assert {r.status for r in records} == {"collected", "approved", "activated"}
