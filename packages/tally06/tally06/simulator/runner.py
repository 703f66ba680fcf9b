"""The simulator's I/O shell: a clock, HTTP uploads per team device, retries, statistics.

All decisions about what happens in the field are made by the pure modules (``model``,
``device``, ``faults``); this module only reads the wall clock, posts, sleeps and logs. Logs
carry team codes and counts, never a citizen's CCCD, name or phone.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import structlog

from tally06.domain.org import OrgRegistry
from tally06.imports.reference import demo_org
from tally06.simulator.device import Batch, Device
from tally06.simulator.faults import ClaimPool, FaultConfig
from tally06.simulator.model import TeamState, events_between, local_iso, new_team_state
from tally06.simulator.plan import TeamPlan, plan_teams
from tally06.simulator.sim_clock import SimClock
from tally06.simulator.stats import SimulatorStats

log = structlog.get_logger("tally06.simulator")

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_BACKOFF_S = 30.0
OnResult = Callable[[str, dict[str, Any]], Any]
# Told every event a team records, before its phone queues it (the demo's registry hears it).
OnRecorded = Callable[[list[dict[str, Any]]], None]


@dataclass
class _Team:
    plan: TeamPlan
    token: str
    state: TeamState
    device: Device
    model_rng: random.Random
    device_rng: random.Random


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    """Sleep, but wake as soon as ``stop`` is set."""
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _teams(org: OrgRegistry, tokens: dict[str, str], *, seed: int, clock: SimClock,
           faults: FaultConfig) -> list[_Team]:
    # Plans depend on the seed only; event streams also on the start, so a restarted demo never
    # reuses an event id (ingest would reject it) nor re-sends yesterday's citizens.
    run_seed = f"{seed}:{clock.sim_start.isoformat()}"
    teams = []
    for plan in plan_teams(org, seed=seed, teams=tokens):
        model_rng = random.Random(f"{run_seed}:model:{plan.team}")
        device_rng = random.Random(f"{run_seed}:device:{plan.team}")
        teams.append(_Team(plan, tokens[plan.team], new_team_state(plan, clock.sim_start, model_rng),
                           Device.new(plan.team, device_rng, faults), model_rng, device_rng))
    unknown = sorted(set(tokens) - {t.plan.team for t in teams})
    if unknown:
        log.warning("simulator.unknown_teams", count=len(unknown), examples=unknown[:5])
    return teams


class _Sender:
    """Uploads batches like a phone: one batch at a time per device, same body on every retry."""

    def __init__(self, client: httpx.AsyncClient, stats: SimulatorStats, stop: asyncio.Event,
                 concurrency: int, faults: FaultConfig, on_result: OnResult | None) -> None:
        self._client, self._stats, self._stop = client, stats, stop
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._faults, self._on_result = faults, on_result

    async def send_all(self, uploads: list[tuple[_Team, list[Batch]]], *, persistent: bool) -> None:
        await asyncio.gather(*(self._send_device(t, b, persistent) for t, b in uploads))

    async def _send_device(self, team: _Team, batches: list[Batch], persistent: bool) -> None:
        for batch in batches:
            body = orjson.dumps({"events": batch.events})
            if not await self._post(team, body, len(batch.events), persistent):
                continue
            # The answer got lost on the way back, so the phone sends the same batch again.
            if self._faults.resend_share and team.device_rng.random() < self._faults.resend_share:
                self._stats.resent_batches += 1
                await self._post(team, body, len(batch.events), persistent)

    async def _post(self, team: _Team, body: bytes, count: int, persistent: bool) -> bool:
        headers = {"Authorization": f"Bearer {team.token}", "Content-Type": "application/json"}
        attempt = 0
        while True:
            async with self._slots:
                try:
                    response = await self._client.post("/v1/events", content=body, headers=headers)
                except httpx.TransportError as exc:
                    self._stats.network_errors += 1
                    problem = type(exc).__name__
                else:
                    if response.status_code == 200:
                        await self._answered(team, response.json())
                        return True
                    problem = f"http {response.status_code}"
                    if response.status_code not in RETRY_STATUSES:
                        # A bad token or envelope will not get better by retrying.
                        self._stats.refused_batches += 1
                        self._stats.dropped_events += count
                        log.warning("simulator.batch_refused", team=team.plan.team,
                                    status=response.status_code, events=count)
                        return False
                    self._stats.server_errors += 1
            if not persistent or self._stop.is_set():
                self._stats.dropped_events += count
                # At shutdown every device gives up at once: the final statistics sum it up.
                log.debug("simulator.batch_given_up", team=team.plan.team, events=count, error=problem)
                return False
            attempt += 1
            self._stats.retries += 1
            delay = min(MAX_BACKOFF_S, 0.5 * 2 ** min(attempt, 8)) * team.device_rng.uniform(0.5, 1.5)
            # Only the first retry is worth a line: when ingest is down every device retries.
            (log.info if attempt == 1 else log.debug)(
                "simulator.retry", team=team.plan.team, attempt=attempt, error=problem,
                delay_s=round(delay, 2))
            await _sleep(self._stop, delay)

    async def _answered(self, team: _Team, answer: dict[str, Any]) -> None:
        self._stats.record(answer)
        if self._on_result is not None:
            outcome = self._on_result(team.plan.team, answer)
            if inspect.isawaitable(outcome):
                await outcome


def _advance(teams: list[_Team], start: dt.datetime, end: dt.datetime, real_now: dt.datetime, *,
             pool: ClaimPool, claims_rng: random.Random, faults: FaultConfig,
             stats: SimulatorStats, budget: int | None,
             on_recorded: OnRecorded | None = None) -> list[tuple[_Team, list[Batch]]]:
    """Let every team work ``[start, end)`` and collect what their phones upload at ``end``."""
    uploads = []
    for team in teams:
        events = events_between(team.state, start, end, team.model_rng)
        claims = pool.claims(events, claims_rng, share=faults.claim_share)
        pool.remember(events)
        recorded = sorted(events + claims, key=lambda e: e["occurred_at"])
        if budget is not None:
            recorded, budget = recorded[:max(0, budget)], max(0, budget - len(recorded))
        stats.generated += len(recorded)
        if on_recorded is not None and recorded:
            on_recorded(recorded)
        claim_ids = {e["event_id"] for e in claims}
        stats.cross_team_claims += sum(1 for e in recorded if e["event_id"] in claim_ids)
        team.device.enqueue(recorded)
        batches = team.device.tick(end, real_now, team.device_rng, faults)
        if batches:
            uploads.append((team, batches))
    return uploads


def _count_batches(stats: SimulatorStats, uploads: list[tuple[_Team, list[Batch]]]) -> None:
    for _, batches in uploads:
        for batch in batches:
            stats.late_batches += batch.late
            stats.injected_invalid.update(batch.invalid)


async def run_simulator(
    ingest_url: str,
    tokens: dict[str, str],
    *,
    seed: int,
    speed: float,
    backfill_hours: float,
    stop: asyncio.Event | None = None,
    max_events: int | None = None,
    concurrency: int = 8,
    on_result: OnResult | None = None,
    org: OrgRegistry | None = None,
    faults: FaultConfig | None = None,
    tick_s: float = 1.0,
    log_every_s: float = 15.0,
    transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], dt.datetime] = _utcnow,
    caught_up: asyncio.Event | None = None,
    on_recorded: OnRecorded | None = None,
) -> SimulatorStats:
    """Simulate the field teams of ``tokens`` (team code → device token) against ingest.

    The simulated clock starts ``backfill_hours`` before ``now()``, runs ``speed``× real time
    until it reaches now, then follows that clock (the wall clock, or the demo's shifted one);
    ``caught_up`` is set once everything up to now has been sent. Runs until ``stop`` is set or ``max_events`` valid
    events were generated (then every queue is flushed); returns the statistics. ``on_recorded`` hears
    every event a team records, before its phone queues it (the demo's registry is told so).
    """
    stop = stop or asyncio.Event()
    faults = faults or FaultConfig()
    loop = asyncio.get_running_loop()
    clock = SimClock(now(), dt.timedelta(hours=max(0.0, backfill_hours)), speed)
    teams = _teams(org or demo_org(), tokens, seed=seed, clock=clock, faults=faults)
    pool, claims_rng = ClaimPool(), random.Random(f"{seed}:{clock.sim_start.isoformat()}:claims")
    stats = SimulatorStats(sim_time=local_iso(clock.sim_start))
    log.info("simulator.start", teams=len(teams), sim_start=stats.sim_time, speed=speed,
             max_events=max_events)
    async with httpx.AsyncClient(
        base_url=ingest_url.rstrip("/"), transport=transport, timeout=httpx.Timeout(30.0, connect=5.0),
        limits=httpx.Limits(max_connections=max(1, concurrency)),
    ) as client:
        sender = _Sender(client, stats, stop, concurrency, faults, on_result)
        sim_from, last_log = clock.sim_start, loop.time()
        try:
            while not stop.is_set():
                tick_began, real_now = loop.time(), now()
                sim_to = clock.at(real_now)
                budget = None if max_events is None else max_events - stats.generated
                uploads = _advance(teams, sim_from, sim_to, real_now, pool=pool, claims_rng=claims_rng,
                                   faults=faults, stats=stats, budget=budget, on_recorded=on_recorded)
                sim_from, stats.sim_time = sim_to, local_iso(sim_to)
                if not stats.caught_up and clock.caught_up(real_now):
                    stats.caught_up = True
                    log.info("simulator.caught_up", sim_time=stats.sim_time)
                _count_batches(stats, uploads)
                await sender.send_all(uploads, persistent=True)
                if stats.caught_up and caught_up is not None:
                    caught_up.set()  # after the catch-up's last uploads went out
                if max_events is not None and stats.generated >= max_events:
                    break
                if loop.time() - last_log >= log_every_s:
                    last_log = loop.time()
                    log.info("simulator.progress", teams=len(teams), **stats.as_dict())
                await _sleep(stop, tick_s - (loop.time() - tick_began))
            # Whatever phones still hold goes out now: all of it when done, one try when stopping.
            real_now = now()
            uploads = [(t, t.device.drain(real_now, t.device_rng, faults)) for t in teams if t.device.outbox]
            _count_batches(stats, uploads)
            await sender.send_all(uploads, persistent=not stop.is_set())
        finally:
            log.info("simulator.stopped", teams=len(teams), **stats.as_dict())
    return stats
