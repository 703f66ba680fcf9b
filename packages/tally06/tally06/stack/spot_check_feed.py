"""The demo's spot checks: a verifier draws a commune's sample every minute and calls its citizens.

Once the simulator has caught up with now, a verifier of the demo (the district focal point
above the commune when the map has one, else the province operator) draws a spot check of a
commune's credited activations, in turn of a commune where the simulator's officers fake claims
and of one where they do not, through the same store calls as the board's draw. A simulated
verifier then calls the drawn citizens at a human pace and records what each says
(``simulator.spot_check_truth``): calls nobody answers are tried again later, a citizen reached
by no call is replaced by a reserve, and it stops at the verdict. A failed check raises the
notifier's ``spot_check_failed`` alert, which the console prints with the others. The terminal
gets the check's figures only, and the simulator's own answer to compare them with.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
from rich.console import Console

from tally06.domain.accounts import Role
from tally06.domain.lqas import Thresholds
from tally06.domain.org import OrgRegistry
from tally06.domain.pii import CitizenProtector
from tally06.domain.spot_checks import (
    STATUS_TEXTS,
    VERIFIER_ROLES,
    CheckStatus,
    Outcome,
    Population,
    sees_open_check,
)
from tally06.imports.reference import demo_org
from tally06.simulator.registry_truth import RegistryTruth, TruthConfig
from tally06.simulator.spot_check_truth import SpotCheckTruth, SpotTruthConfig
from tally06.stack.demo_data import FAKING_COMMUNES, OPERATOR, demo_people
from tally06.stack.registry_feed import team_communes
from tally06.store import spot_checks as store
from tally06.store.read_model_map import load_live_map

# The demo's field is not perfect: a tenth of every commune's claims are never activated (the
# registry's ``never`` citizens), a few more were active long before. The default thresholds
# (95 %/70 %) would fail honest communes of that field one time in three; the province of the
# demo uses the classic LQAS table of health campaigns instead (80 %/50 %, 10 % risks: 19
# checked, pass with at most 6 failing), which tells them from the communes that fake.
DEMO_THRESHOLDS = Thresholds(upper=0.80, lower=0.50, alpha=0.10, beta=0.10)
MIN_CLAIMS = 30  # a commune with fewer credited claims is not worth a draw yet
PACE_S = (1.5, 3.5)  # seconds between two calls of the simulated verifier
MAX_CALLS = 200  # of one check: a guard, a check of 19 + reserves needs far fewer


@dataclass
class SpotCheckFeed:
    truth: SpotCheckTruth
    start: dt.datetime  # claims from here on: the ones the simulator made (and the truth heard)
    rng: random.Random
    own_registry: bool = False  # no registry feed: the truth's registry hears the events here
    pace_s: tuple[float, float] = PACE_S
    drawn: int = 0
    faking_done: list[str] = field(default_factory=list)
    honest_done: list[str] = field(default_factory=list)

    @classmethod
    def for_demo(cls, env: dict[str, str], *, seed: int, start: dt.datetime, teams: Sequence[str],
                 registry: RegistryTruth | None) -> SpotCheckFeed:
        """The demo's field, beside the registry feed's truth (or a registry of its own)."""
        protector = CitizenProtector(env["TALLY06_HMAC_KEY"], env["TALLY06_PII_KEYS"])
        own = registry is None
        registry = registry or RegistryTruth(TruthConfig(seed=seed), start=start, teams=teams)
        # The teams' places in the map the demo starts from: a reorganisation moves them, not
        # what their officers do.
        truth = SpotCheckTruth(SpotTruthConfig(seed=seed, faking_communes=FAKING_COMMUNES), registry,
                               team_communes(demo_org()), protector.citizen_key)
        return cls(truth, start, random.Random(f"{seed}:spot-check-feed"), own_registry=own)

    def observe(self, events: list[dict]) -> None:
        """The simulator's ``on_recorded``, after the registry feed's."""
        if self.own_registry:
            self.truth.registry.observe(events)
        self.truth.observe(events)

    def next_group(self, faking: bool) -> tuple[str, tuple[str, ...]] | None:
        """The next commune (of the truth's map) to check and its teams: of the faking ones, the
        demo's named ones first, then the one with the most claims not real, not checked yet; of
        the others, one by the seed among those with enough claims."""
        groups: dict[str, list[str]] = {}
        for team, commune in self.truth.communes.items():
            groups.setdefault(commune, []).append(team)
        done = self.faking_done if faking else self.honest_done
        candidates = sorted(c for c in groups if (c in self.truth.faking_communes) == faking and c not in done)
        if not candidates and done:
            done.clear()
            return self.next_group(faking)
        if faking:
            named = self.truth.config.faking_communes
            ranked = sorted(((self.truth.not_real(groups[c]), c) for c in candidates),
                            key=lambda x: (x[1] not in named, -x[0][1], x[1]))
            found = [c for (claims, _), c in ranked if claims >= MIN_CLAIMS]
        else:
            self.rng.shuffle(candidates)
            found = [c for c in candidates[:20] if self.truth.not_real(groups[c])[0] >= MIN_CLAIMS]
        if not found:
            return None
        done.append(found[0])
        return found[0], tuple(sorted(groups[found[0]]))


def verifier_for(org: OrgRegistry, chain: Sequence[str]) -> tuple[str, Role]:
    """The demo user nearest above the unit who may draw its check (username, role)."""
    allowed = [(chain.index(unit), username, role) for username, _, role, unit in demo_people(org)
               if role in VERIFIER_ROLES and unit in chain and sees_open_check(role, unit, chain)]
    if not allowed:
        return OPERATOR[0], OPERATOR[2]
    _, username, role = min(allowed)
    return username, role


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


async def ensure_thresholds(conn: asyncpg.Connection, root: str) -> str | None:
    """The province operator sets the demo's thresholds once; what was set, for the terminal."""
    _, source = await store.thresholds_source(conn, [root])
    if source is not None:
        return None
    t = DEMO_THRESHOLDS
    made = await store.set_thresholds(conn, root, t, actor=OPERATOR[0], role=str(OPERATOR[2]))
    return (f"spot checks: {OPERATOR[0]} set the thresholds of {root}: {_pct(t.upper)} / {_pct(t.lower)}, risks "
            f"{_pct(t.alpha)} / {_pct(t.beta)} → check {made.rule.n}, pass with at most {made.rule.d} failing")


async def draw(conn: asyncpg.Connection, feed: SpotCheckFeed, *, faking: bool,
               period_to: dt.datetime) -> tuple[store.CheckRow, str] | None:
    """Draw the next check (None when no commune has enough claims yet); the draw's line."""
    live = await load_live_map(conn)
    group = feed.next_group(faking)
    if live is None or group is None:
        return None
    _, teams = group
    lineage = live.registry.lineage(teams[0])
    if lineage is None or lineage.commune is None:
        return None
    unit = lineage.commune
    chain = live.registry.ancestors(unit)
    username, role = verifier_for(live.registry, chain)
    check = await store.draw_check(
        conn, unit=unit, teams=live.registry.teams_under(unit), population=Population.CREDITED,
        period_from=feed.start, period_to=period_to, thresholds=await store.thresholds_for(conn, chain), rule=None,
        seed=None, actor=username, map_version=live.id, role=str(role))
    feed.drawn += 1
    line = (f"spot check #{check.id} drawn by {username} ({role}): {unit}, {min(check.n, check.drawn)} of "
            f"{check.population_size:,} credited claims and {max(0, check.drawn - check.n)} reserves; "
            f"passes with at most {check.d} failing")
    return check, line


@dataclass
class Calls:
    made: int = 0
    no_answers: int = 0


async def verify(conn: asyncpg.Connection, truth: SpotCheckTruth, check: store.CheckRow, actor: str, *,
                 pause: Callable[[], Awaitable[bool]]) -> tuple[store.CheckRow, Calls]:
    """Call the drawn citizens until the verdict: each call goes to the sampled item tried the
    least (then the first drawn), so an unanswered citizen is called again after the others.
    ``pause`` waits between calls and says whether to go on."""
    keys = {r["rank"]: r["citizen_key"] for r in await conn.fetch(
        "SELECT rank, citizen_key FROM spot_check_items WHERE check_id = $1", check.id)}
    calls = Calls()
    while check.status is CheckStatus.OPEN and calls.made < MAX_CALLS:
        open_items = [i for i in await store.items(conn, check.id) if i.active and i.outcome is None]
        if not open_items or not await pause():
            break
        item = min(open_items, key=lambda i: (i.tries, i.rank))
        outcome, note = truth.finding(item.team, item.officer, keys[item.rank]).answer(item.tries)
        result = await store.record_outcome(conn, check.id, item.rank, outcome_id=uuid.uuid4(), outcome=outcome,
                                            note=note, actor=actor)
        calls.made += 1
        calls.no_answers += outcome is Outcome.NO_ANSWER
        check = result.check
    return check, calls


def verdict_line(check: store.CheckRow, calls: Calls, truth: tuple[int, int]) -> str:
    """"Spot check #3 TH-01-C02: 19 checked, 7 failed → Không đạt … (ước tính 45 %, 95 %: 23–68 %)"."""
    words = STATUS_TEXTS[check.status][0]
    colour = {CheckStatus.FAILED: "red", CheckStatus.PASSED: "green"}.get(check.status, "yellow")
    claims, fake = truth
    return (f"Spot check #{check.id} {check.unit}: {check.successes + check.failures} checked, {check.failures} "
            f"failed → [bold {colour}]{words}[/] (ước tính {_pct(check.estimate)}, 95 %: "
            f"{_pct(check.ci_low)}–{_pct(check.ci_high)}); {calls.made} calls, {calls.no_answers} unanswered; "
            f"the simulator knows {fake:,} of the {claims:,} claims of its teams are not real "
            f"({_pct(fake / claims if claims else None)} fake)")


async def run_check(database_url: str, feed: SpotCheckFeed, console: Console, *, faking: bool,
                    now: Callable[[], dt.datetime], stop: asyncio.Event) -> None:
    """One check, from the draw to the verdict, on a connection of its own."""
    conn = await asyncpg.connect(database_url)

    async def pause() -> bool:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), feed.rng.uniform(*feed.pace_s))
        return not stop.is_set()

    try:
        drawn = await draw(conn, feed, faking=faking, period_to=now())
        if drawn is None:
            return
        check, line = drawn
        console.print(line, soft_wrap=True)
        check, calls = await verify(conn, feed.truth, check, check.drawn_by, pause=pause)
        if check.status is not CheckStatus.OPEN:
            console.print(verdict_line(check, calls, feed.truth.not_real(check.teams)), soft_wrap=True)
    except Exception as exc:  # noqa: BLE001 - the demo goes on; the next check tries again
        console.print(f"[red]spot check failed to run[/]: {type(exc).__name__}: {exc}", soft_wrap=True)
    finally:
        await conn.close()


async def run_spot_check_feed(feed: SpotCheckFeed, database_url: str, console: Console, *, every_s: float,
                              caught_up: asyncio.Event, stop: asyncio.Event) -> None:
    """Once the simulator has caught up with now, a check of a faking commune and one of an
    honest commune, then one every ``every_s`` seconds, in turn; checks run side by side, as
    several verifiers' would."""
    await asyncio.wait([asyncio.ensure_future(caught_up.wait()), asyncio.ensure_future(stop.wait())],
                       return_when=asyncio.FIRST_COMPLETED)
    if stop.is_set():
        return
    conn = await asyncpg.connect(database_url)
    try:
        live = await load_live_map(conn)
        line = await ensure_thresholds(conn, live.registry.roots()[0].code) if live is not None else None
    finally:
        await conn.close()
    console.print(f"spot checks: a commune drawn every {every_s:g} s, its citizens called by a simulated "
                  "verifier" + (f"\n{line}" if line else ""), soft_wrap=True)
    running: set[asyncio.Task] = set()
    # Both kinds at once first, so a demo of a few minutes shows a failed and a passed check.
    turns = [True, False]
    try:
        while not stop.is_set():
            for faking in turns:
                # Ingest stamps receipt with the wall clock, which the demo's clock may run behind.
                task = asyncio.create_task(run_check(database_url, feed, console, faking=faking,
                                                     now=lambda: dt.datetime.now(dt.UTC), stop=stop))
                running.add(task)
                task.add_done_callback(running.discard)
            turns = [not turns[-1]]
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
