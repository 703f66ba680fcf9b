"""The demo's registry feed: extracts of the national registry, imported as a province would.

Every few seconds the registry's word on the simulator's citizens (``simulator.registry_truth``)
is written as an extract file, what changed since the last one, the way the police receive
daily extracts; it goes through the same path as ``tally06 registry import`` (read, protected,
applied in one transaction) and the file is deleted at once: an extract is never kept. The
aggregator's reconciler then judges the claims against it, so the board shows claimed and
confirmed part and the work lists shrink as activations arrive. The terminal gets counts only:
the made-up CCCDs are personal data like real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import asyncpg
from rich.console import Console

from tally06.contract.events import LOCAL_TZ
from tally06.domain.metrics import FAMILIES
from tally06.domain.org import OrgRegistry, UnitKind
from tally06.domain.pii import CitizenProtector
from tally06.imports.registry_extract import read_extract
from tally06.simulator.registry_extracts import write_extract
from tally06.simulator.registry_truth import ExtractChanges, RegistryTruth, TruthConfig
from tally06.store.backlog_goals import GoalRefused, goals, set_goal
from tally06.store.read_model_map import load_live_map
from tally06.store.registry_extracts import ExtractResult, apply_extract

ACTOR = "demo registry feed"
SOURCE = "demo: national registry extract"
INBOX = "registry-inbox"
# Seconds between the extract and the figures printed: the reconciler runs every second.
RECONCILE_WAIT_S = 2.0
GOAL_DAYS = 14

# The console line's figures by their families (domain.metrics), summed for the root unit.
_SHOWN = {"claimed": "activated", "confirmed": "confirmed", "pending": "pending", "already": "already_active",
          "unclaimed": "unclaimed"}
_FIGURES = "SELECT " + ", ".join(
    f"coalesce(sum(credited) FILTER (WHERE metric IN ({', '.join(repr(m.value) for m in FAMILIES[family])})), 0) "
    f"AS {name}" for name, family in _SHOWN.items()) + " FROM unit_total WHERE unit = $1"
_LISTS = """
SELECT count(*) FILTER (WHERE status = 'approved') AS approved,
       count(*) FILTER (WHERE status = 'collected') AS collected
FROM registry_citizens
"""


def team_communes(org: OrgRegistry) -> dict[str, str]:
    """Team → the commune it works in, in ``org``: where the registry says its people live."""
    found = {}
    for team in org.units(UnitKind.TEAM):
        lineage = org.lineage(team.code)
        if lineage is not None and UnitKind.COMMUNE in lineage.kinds:
            found[team.code] = lineage.codes[lineage.kinds.index(UnitKind.COMMUNE)]
    return found


@dataclass
class RegistryFeed:
    truth: RegistryTruth
    protector: CitizenProtector
    inbox: Path
    now: Callable[[], dt.datetime]
    changes: ExtractChanges
    extracts: int = 0

    @classmethod
    def for_demo(cls, env: dict[str, str], home: Path, now: Callable[[], dt.datetime], *, seed: int,
                 start: dt.datetime, teams: list[str]) -> RegistryFeed:
        protector = CitizenProtector(env["TALLY06_HMAC_KEY"], env["TALLY06_PII_KEYS"])
        inbox = home / INBOX
        inbox.mkdir(mode=0o700, exist_ok=True)
        for left in inbox.iterdir():  # a run stopped half-way must not leave an extract behind
            left.unlink()
        truth = RegistryTruth(TruthConfig(seed=seed), start=start, teams=teams)
        return cls(truth, protector, inbox, now, ExtractChanges())

    def observe(self, events: list[dict]) -> None:
        """The simulator's ``on_recorded``: the registry hears what the teams do."""
        self.truth.observe(events)

    async def extract_once(self, conn: asyncpg.Connection) -> ExtractResult | None:
        """Write, import and delete one extract of what changed; None when nothing did."""
        as_of = self.now().astimezone(LOCAL_TZ).replace(microsecond=0)
        live = await load_live_map(conn)
        if live is None:
            return None
        rows = self.changes.since_last(self.truth.rows(as_of, team_communes(live.registry)))
        if not rows:
            return None
        self.extracts += 1
        path = self.inbox / f"extract-{self.extracts:05d}.csv"
        try:
            await asyncio.to_thread(write_extract, path, rows)
            parsed = await asyncio.to_thread(read_extract, path, self.protector)
            # force: a demo restarted with the same home may run its clock behind the last one's
            # extracts; an older extract then only fills in, never overwrites newer records.
            result = await apply_extract(conn, parsed, as_of=as_of, source=SOURCE, force=True, actor=ACTOR)
        finally:
            path.unlink(missing_ok=True)
        if result.applied:
            self.changes.sent(rows)
        return result


async def _demo_goal(conn: asyncpg.Connection, unit: str, today: dt.date, now: dt.datetime) -> str | None:
    """A goal like Sầm Sơn's: every citizen approved but not activated, activated in two weeks."""
    if await goals(conn, unit):
        return None
    try:
        stored = await set_goal(conn, unit=unit, list_name="approved_not_activated", share=Decimal(100),
                                due=today + dt.timedelta(days=GOAL_DAYS), now=now, actor=ACTOR)
    except GoalRefused as exc:
        return f"no demo goal: {exc}"
    return (f"backlog goal: 100 % of the {stored.goal.baseline:,} citizens of {unit} approved but not activated, "
            f"by {stored.goal.due} (board and GET /v1/units/{unit}/goals)")


def _moved(now: int, before: int | None) -> str:
    """"4,248 (+4)": the figure and how it moved since the extract before."""
    return f"{now:,}" if before is None or now == before else f"{now:,} ({now - before:+,})"


async def _report(conn: asyncpg.Connection, console: Console, result: ExtractResult, root: str,
                  before: dict[str, int]) -> dict[str, int]:
    """One line: the extract, then the province's claimed and confirmed and the lists' sizes."""
    now = {**dict(await conn.fetchrow(_FIGURES, root)), **dict(await conn.fetchrow(_LISTS))}
    m = {k: _moved(v, before.get(k)) for k, v in now.items()}
    as_of = result.as_of.astimezone(LOCAL_TZ)
    console.print(
        f"[dim]{dt.datetime.now(LOCAL_TZ):%H:%M:%S}[/] registry extract as of {as_of:%H:%M}: {result.rows:,} rows, "
        f"{result.changed:,} changed ({result.outcome.value})  {root} claimed [bold]{m['claimed']}[/] "
        f"confirmed [bold]{m['confirmed']}[/] (pending {m['pending']}, already active {m['already']}), "
        f"unclaimed {m['unclaimed']}; work lists: {m['approved']} approved not activated, "
        f"{m['collected']} collected not approved", soft_wrap=True)
    return now


async def run_registry_feed(feed: RegistryFeed, database_url: str, console: Console, *, every_s: float,
                            caught_up: asyncio.Event, stop: asyncio.Event) -> None:
    """Once the simulator has caught up with now, an extract every ``every_s`` seconds."""
    await asyncio.wait([asyncio.ensure_future(caught_up.wait()), asyncio.ensure_future(stop.wait())],
                       return_when=asyncio.FIRST_COMPLETED)
    if stop.is_set():
        return
    console.print(f"registry: an extract of the national registry every {every_s:g} s (what changed), "
                  "imported and deleted")
    conn = await asyncpg.connect(database_url)
    goal_set = False
    figures: dict[str, int] = {}
    try:
        while not stop.is_set():
            try:
                result = await feed.extract_once(conn)
                if result is not None:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), RECONCILE_WAIT_S)
                    live = await load_live_map(conn)
                    root = live.registry.roots()[0].code if live is not None else "TH"
                    figures = await _report(conn, console, result, root, figures)
                    if result.applied and not goal_set:
                        goal_set = True
                        now = feed.now()
                        line = await _demo_goal(conn, root, now.astimezone(LOCAL_TZ).date(), now)
                        if line:
                            console.print(line, soft_wrap=True)
            except Exception as exc:  # noqa: BLE001 - the demo goes on; the next extract tries again
                console.print(f"[red]registry extract failed[/]: {type(exc).__name__}: {exc}", soft_wrap=True)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
    finally:
        await conn.close()
