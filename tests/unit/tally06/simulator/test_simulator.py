"""The field simulator's pure model: deterministic, inside working hours, never in the future,
faithful to the funnel, and messy in the measured amounts the demo relies on."""

from __future__ import annotations

import collections
import datetime as dt
import random
import re
from functools import cache

from pydantic import ValidationError

from tally06.contract.events import LOCAL_TZ, DeviceEvent
from tally06.imports.reference import demo_org
from tally06.simulator import FaultConfig, SimulatorStats, TeamRole, events_between, new_team_state, plan_teams
from tally06.simulator.device import Device
from tally06.simulator.faults import INVALID_KINDS, ClaimPool, corrupt, invalid_copy
from tally06.simulator.model import WORK_END, WORK_START, silent_window
from tally06.simulator.people import citizen
from tally06.simulator.sim_clock import SimClock

START = dt.datetime(2023, 4, 3, 0, 0, tzinfo=LOCAL_TZ)  # a Monday of phase 1
DAYS = 7


@cache
def plans(seed: int = 6):
    return tuple(plan_teams(demo_org(), seed=seed))


def run(plan, *, seed: int = 1, start: dt.datetime = START, hours: float = 24 * DAYS, step_h: float = 1.0):
    """Events of one team over ``hours``, asked for in back-to-back steps like the runner does."""
    rng = random.Random(f"{seed}:{plan.team}")
    state = new_team_state(plan, start, rng)
    events, at, end = [], start, start + dt.timedelta(hours=hours)
    while at < end:
        nxt = min(end, at + dt.timedelta(hours=step_h))
        events += events_between(state, at, nxt, rng)
        at = nxt
    return events


@cache
def sample() -> tuple[dict, ...]:
    """A week of 40 teams of every role: the shared corpus of the property tests."""
    chosen = [p for p in plans() if p.role is not TeamRole.ON_PACE][:20] + [
        p for p in plans() if p.role is TeamRole.ON_PACE][:20]
    return tuple(e for p in chosen for e in run(p))


@cache
def by_team() -> dict:
    return {p.team: p for p in plans()}


def moment(event: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(event["occurred_at"])


def test_same_seed_same_events_other_seed_other_events():
    plan = plans()[0]
    assert plan_teams(demo_org(), seed=6) == list(plans())
    assert run(plan, seed=3, hours=48) == run(plan, seed=3, hours=48)
    assert run(plan, seed=3, hours=48) != run(plan, seed=4, hours=48)
    assert [p.role for p in plan_teams(demo_org(), seed=7)] != [p.role for p in plans()]


def test_plans_have_realistic_targets_laggards_and_officers():
    all_plans = plans()
    assert len(all_plans) == 501
    assert all(15 <= p.daily_target <= 80 for p in all_plans)
    lagging = [p for p in all_plans if p.role is TeamRole.LAGGING]
    assert 0.10 < len(lagging) / len(all_plans) < 0.20
    assert all(0.3 <= p.rate_factor <= 0.6 for p in lagging)
    assert all(0.9 <= p.rate_factor <= 1.2 for p in all_plans if p.role is TeamRole.ON_PACE)
    assert any(p.role is TeamRole.SILENT for p in all_plans)
    for p in all_plans:
        assert 3 <= len(p.officers) <= 5
        compact = p.team.replace("-", "", 1)
        assert all(re.fullmatch(rf"CA-{compact}-0[1-5]", o) for o in p.officers)


def test_events_only_in_working_hours_and_never_in_silence():
    events = sample()
    assert len(events) > 20_000
    for event in events:
        local = moment(event).astimezone(LOCAL_TZ).time()
        assert WORK_START <= local < WORK_END, event["occurred_at"]
    for event in events:
        quiet = silent_window(by_team()[event["team"]], moment(event).astimezone(LOCAL_TZ).date())
        assert quiet is None or not quiet[0] <= moment(event) < quiet[1]


def test_events_fall_inside_the_asked_interval_never_in_the_future():
    plan = plans()[5]
    rng = random.Random(9)
    state = new_team_state(plan, START, rng)
    at = START
    for minutes in [7, 90, 1, 600, 33, 2000, 5]:
        now = at + dt.timedelta(minutes=minutes)
        for event in events_between(state, at, now, rng):
            assert at <= moment(event) < now
        at = now


def test_clock_replays_fast_then_follows_real_time_never_ahead():
    real_start = dt.datetime(2023, 4, 3, 9, 0, 0, 500_000, tzinfo=dt.UTC)
    clock = SimClock(real_start, dt.timedelta(hours=6), speed=120)
    assert clock.at(real_start) == real_start.replace(microsecond=0) - dt.timedelta(hours=6)
    assert clock.at(real_start + dt.timedelta(minutes=1)) == clock.sim_start + dt.timedelta(hours=2)
    for seconds in range(0, 3600, 7):
        real_now = real_start + dt.timedelta(seconds=seconds)
        assert clock.at(real_now) <= real_now
    later = real_start + dt.timedelta(minutes=10)
    assert clock.caught_up(later) and clock.at(later) == later.replace(microsecond=0)


def test_funnel_order_per_citizen():
    steps = collections.defaultdict(list)
    for event in sample():
        person = event["citizen"]
        key = (person["id_number"], person.get("full_name"), person.get("phone"))
        steps[key].append((moment(event), event["type"], event.get("level")))
    assert len(steps) > 8_000
    for key, history in steps.items():
        history.sort()
        kinds = [(t, lvl) for _, t, lvl in history]
        assert len(set(kinds)) == len(kinds), "each step happens once per citizen"
        if ("account_activated", 1) in kinds:
            assert kinds.index(("app_installed", None)) < kinds.index(("account_activated", 1))
        if ("account_activated", 2) in kinds:
            assert kinds.index(("application_approved", 2)) < kinds.index(("account_activated", 2))
        if ("registration_collected", 2) in kinds and ("application_approved", 2) in kinds:
            assert kinds.index(("registration_collected", 2)) < kinds.index(("application_approved", 2))
        assert {lvl for _, lvl in kinds if lvl is not None} in (set(), {1}, {2})


def test_valid_events_satisfy_the_contract():
    for event in sample():
        parsed = DeviceEvent.model_validate(event)
        assert parsed.citizen.id_number.startswith("038")
        assert parsed.occurred_at.utcoffset() == dt.timedelta(hours=7)
        assert parsed.team in demo_org()


def test_citizens_look_real():
    rng = random.Random(2)
    people = [citizen(rng, year=2023) for _ in range(2000)]
    assert all(re.fullmatch(r"038[0-3][0-9]{8}", p["id_number"]) for p in people)
    phones = [p["phone"] for p in people if "phone" in p]
    assert 0.75 < len(phones) / len(people) < 0.95
    assert all(re.fullmatch(r"0[35789][0-9]{8}", ph) for ph in phones)
    names = [p["full_name"] for p in people if "full_name" in p]
    assert any("Nguyễn" in n for n in names) and any("Thị" in n for n in names)


def test_lagging_teams_fall_clearly_short_of_their_target():
    # Days 2..7: on day 1 some level-2 activations are still waiting for approval.
    done = collections.Counter(
        e["team"] for e in sample()
        if e["type"] == "account_activated" and moment(e) >= START + dt.timedelta(days=1))
    ratios = {p.team: done[p.team] / (p.daily_target * (DAYS - 1)) for p in plans() if p.team in done}
    lagging = [r for t, r in ratios.items() if by_team()[t].role is TeamRole.LAGGING]
    on_pace = [r for t, r in ratios.items() if by_team()[t].role is TeamRole.ON_PACE]
    assert len(lagging) >= 10 and len(on_pace) >= 10
    assert max(lagging) < 0.75
    assert sum(lagging) / len(lagging) < 0.55
    assert sum(on_pace) / len(on_pace) > 0.9
    assert max(lagging) < min(on_pace)


def test_invalid_share_roughly_as_configured_and_each_is_refused():
    real_now = dt.datetime(2023, 4, 10, 12, 0, tzinfo=dt.UTC)
    events = list(sample())
    rng = random.Random(5)
    out, kinds = [], collections.Counter()
    for i in range(0, len(events), 490):
        batch, found = corrupt(events[i:i + 490], rng, share=0.005, real_now=real_now, limit=500)
        assert len(batch) <= 500
        out += batch
        kinds += found
    invalid = sum(kinds.values())
    assert invalid == len(out) - len(events)
    assert 0.0035 < invalid / len(out) < 0.0065
    assert set(kinds) == set(INVALID_KINDS)
    org, tolerance = demo_org(), dt.timedelta(minutes=10)
    originals = {e["event_id"] for e in events}
    for bad in (e for e in out if e["event_id"] not in originals):
        try:
            parsed = DeviceEvent.model_validate(bad)
        except ValidationError:
            continue
        assert parsed.team not in org or parsed.occurred_at > real_now + tolerance


def test_unknown_team_twin_keeps_the_commune_and_is_not_a_team():
    event = sample()[0]
    bad = invalid_copy(event, "unknown_team", random.Random(1), dt.datetime.now(dt.UTC))
    assert bad["team"].startswith(event["team"].rsplit("-", 1)[0]) and bad["team"] not in demo_org()
    assert bad["event_id"] != event["event_id"]


def test_cross_team_claims_reuse_a_citizen_activated_earlier_by_a_neighbour():
    first, second = (p for p in plans() if p.commune == "TH-01-C01" and p.team[-2:] in ("T1", "T2"))
    pool = ClaimPool()
    pool.remember(run(first, hours=24))
    own = run(second, hours=48)
    claims = pool.claims(own, random.Random(3), share=0.5)
    assert claims
    earlier = {e["citizen"]["id_number"]: e for e in run(first, hours=24) if e["type"] == "account_activated"}
    for claim in claims:
        original = earlier[claim["citizen"]["id_number"]]
        assert claim["team"] == second.team and claim["level"] == original["level"]
        assert moment(claim) > moment(original)
        DeviceEvent.model_validate(claim)


def test_offline_device_sends_its_queue_later_in_one_late_batch():
    faults = FaultConfig(offline_per_hour=1000.0, offline_hours=(3.0, 3.0), invalid_share=0.0, drift_share=0.0)
    device, rng = Device.new("TH-01-C01-T1", random.Random(1), faults), random.Random(2)
    at = dt.datetime(2023, 4, 3, 8, 0, tzinfo=LOCAL_TZ)
    assert device.tick(at, at, rng, faults) == []  # first tick: online, nothing queued
    device.enqueue(list(sample()[:700]))
    assert device.tick(at + dt.timedelta(minutes=5), at, rng, faults) == [] and device.offline
    assert device.tick(at + dt.timedelta(hours=2), at, rng, faults) == []
    batches = device.tick(at + dt.timedelta(hours=3, minutes=6), at, rng, faults)
    assert [len(b.events) for b in batches] == [490, 210] and all(b.late for b in batches)
    assert device.outbox == []


def test_stats_count_answers_by_status_and_reason():
    stats = SimulatorStats()
    stats.record({"results": [
        {"index": 0, "status": "accepted", "credited": True, "errors": []},
        {"index": 1, "status": "accepted", "credited": False, "errors": []},
        {"index": 2, "status": "duplicate", "errors": []},
        {"index": 3, "status": "rejected", "errors": [{"field": "team", "message": "is not a known team"}]},
    ]})
    assert (stats.posted, stats.accepted, stats.duplicate, stats.rejected) == (4, 2, 1, 1)
    assert (stats.credited, stats.not_credited, stats.batches) == (1, 1, 1)
    assert stats.as_dict()["rejected_by_reason"] == {"team: is not a known team": 1}


def test_clean_faults_change_nothing():
    clean = FaultConfig.clean()
    events = list(sample()[:100])
    out, kinds = corrupt(events, random.Random(1), share=clean.invalid_share, real_now=START, limit=500)
    assert out == events and not kinds
