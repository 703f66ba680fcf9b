"""Reconciling activation claims with the registry: claim states and their counters.

The reconciler is a projection of two logs, the event store (credited activation claims, by
``events.seq``) and the registry's changes (``registry_citizens.change_seq``), plus the day the
registry has been extracted to. It is their only writer of ``claim_states``,
``registry_unclaimed`` and the registry counters (``confirmed_l1`` …, ``unclaimed_l1`` …), and
writes a state, its counters and its positions in one transaction: a claim's counters move only
when its state does, so running it again, or over an extract loaded twice, changes nothing.

A step judges every citizen a step touches as a whole (all their claims and their record), so
the order things arrive in does not matter: a claim before or after its extract, a late claim,
an overlapping extract end in the same states. Steps take a ROW EXCLUSIVE lock on the
projection's positions, which lets the projection of facts run beside them but waits for a map
switch or a rebuild (both EXCLUSIVE), so registry counters never straddle two maps.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg

from tally06.domain.registry import (
    ClaimState,
    ReconcileRules,
    RegistryRecord,
    RegistryStatus,
    claim_state,
    residence_unit,
    state_metric,
    unclaimed_metric,
)
from tally06.store.counters import Counts, add_counts, add_to
from tally06.store.read_model_map import read_model_map, team_paths

# pg_advisory_xact_lock key: one reconciler step at a time, whichever process runs it.
_LOCK_KEY = 0x7A11_0617

_RECORD_COLUMNS = ("citizen_key, status, level, commune, village, collected_on, approved_on, activated_on, "
                   "rejected_on")


@dataclass
class Step:
    """What one step did; ``daily`` and ``total`` are the unit rows it changed (for the
    progress stream)."""

    claims: int = 0
    citizens: int = 0
    changed: int = 0
    more: bool = False
    daily: list[asyncpg.Record] = field(default_factory=list)
    total: list[asyncpg.Record] = field(default_factory=list)


@dataclass(frozen=True)
class _Claim:
    seq: int
    citizen_key: str
    team: str
    officer: str
    day: dt.date
    level: int


@dataclass
class _Deltas:
    unit_daily: dict[tuple[str, str, str], Counts] = field(default_factory=dict)
    unit_total: dict[tuple[str, str], Counts] = field(default_factory=dict)
    officer_daily: dict[tuple[str, str, str, str], Counts] = field(default_factory=dict)
    officer_total: dict[tuple[str, str, str], Counts] = field(default_factory=dict)

    def claim(self, claim: _Claim, metric: str, sign: int, path: Sequence[str]) -> None:
        day, counts = claim.day.isoformat(), [sign, 0]
        add_to(self.officer_daily, (claim.team, claim.officer, day, metric), counts)
        add_to(self.officer_total, (claim.team, claim.officer, metric), counts)
        self.unit(day, metric, sign, path)

    def unit(self, day: str, metric: str, sign: int, path: Sequence[str]) -> None:
        for unit in path:
            add_to(self.unit_daily, (unit, day, metric), [sign, 0])
            add_to(self.unit_total, (unit, metric), [sign, 0])

    def drop_zeros(self) -> None:
        tables: tuple[dict, ...] = (self.unit_daily, self.unit_total, self.officer_daily, self.officer_total)
        for table in tables:
            for key in [k for k, v in table.items() if v == [0, 0]]:
                del table[key]


def _record(row: Mapping) -> RegistryRecord:
    return RegistryRecord(row["citizen_key"], RegistryStatus(row["status"]), row["level"], row["commune"],
                          row["village"], row["collected_on"], row["approved_on"], row["activated_on"],
                          row["rejected_on"])


async def registry_day(conn: asyncpg.Connection) -> dt.date | None:
    """The local day the registry has been extracted to (the newest extract's moment)."""
    return await conn.fetchval(
        "SELECT (max(as_of) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date FROM registry_extracts")


async def reconcile_step(conn: asyncpg.Connection, rules: ReconcileRules, *, chunk: int = 20_000) -> Step:
    """Judge what changed since the last step, at most ``chunk`` new claims and ``chunk``
    changed records; ``Step.more`` says whether more is waiting."""
    step = Step()
    async with conn.transaction():
        await conn.execute("LOCK TABLE projection_positions IN ROW EXCLUSIVE MODE")
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        state = await conn.fetchrow("SELECT claims_position, registry_position, as_of FROM reconcile_state FOR UPDATE")
        as_of = await registry_day(conn)
        new_claims = [_Claim(r["seq"], r["citizen_key"], r["team"], r["officer"], r["day"], r["level"])
                      for r in await conn.fetch(
            "SELECT seq, citizen_key, team, officer, day, level FROM events "
            "WHERE credited AND type = 'account_activated' AND seq > $1 ORDER BY seq LIMIT $2",
            state["claims_position"], chunk)]
        changed = await conn.fetch(
            "SELECT citizen_key, change_seq FROM registry_citizens WHERE change_seq > $1 ORDER BY change_seq LIMIT $2",
            state["registry_position"], chunk)
        due: list[str] = []
        if as_of is not None and as_of != state["as_of"]:
            # Judged, a claim leaves pending for good: the next step's query finds the rest.
            due = [r["citizen_key"] for r in await conn.fetch(
                "SELECT DISTINCT citizen_key FROM claim_states WHERE state = 'pending' AND window_end < $1 LIMIT $2",
                as_of, chunk)]
        step.more = len(new_claims) == chunk or len(changed) == chunk or len(due) == chunk
        citizens = {c.citizen_key for c in new_claims} | {r["citizen_key"] for r in changed} | set(due)
        if citizens:
            step.claims, step.citizens = len(new_claims), len(citizens)
            step.changed, step.daily, step.total = await _judge(conn, rules, sorted(citizens), new_claims, as_of)
        await conn.execute(
            "UPDATE reconcile_state SET claims_position = $1, registry_position = $2, as_of = $3",
            new_claims[-1].seq if new_claims else state["claims_position"],
            changed[-1]["change_seq"] if changed else state["registry_position"],
            state["as_of"] if len(due) == chunk else as_of)
    return step


async def _judge(conn: asyncpg.Connection, rules: ReconcileRules, citizens: list[str], new_claims: list[_Claim],
                 as_of: dt.date | None) -> tuple[int, list[asyncpg.Record], list[asyncpg.Record]]:
    records = {r["citizen_key"]: _record(r) for r in await conn.fetch(
        f"SELECT {_RECORD_COLUMNS} FROM registry_citizens WHERE citizen_key = ANY($1::text[])", citizens)}
    claims: dict[str, list[tuple[_Claim, str | None]]] = defaultdict(list)
    for r in await conn.fetch(
            "SELECT seq, citizen_key, team, officer, day, level, state FROM claim_states "
            "WHERE citizen_key = ANY($1::text[])", citizens):
        claims[r["citizen_key"]].append(
            (_Claim(r["seq"], r["citizen_key"], r["team"], r["officer"], r["day"], r["level"]), r["state"]))
    known = {c.seq for pairs in claims.values() for c, _ in pairs}
    for claim in new_claims:
        if claim.seq not in known:
            claims[claim.citizen_key].append((claim, None))
    unclaimed_before = {r["citizen_key"]: r for r in await conn.fetch(
        "SELECT citizen_key, commune, village, day, metric FROM registry_unclaimed "
        "WHERE citizen_key = ANY($1::text[])", citizens)}

    map_id = await read_model_map(conn)
    paths = await team_paths(conn, map_id) if map_id is not None else {}
    deltas, writes = _Deltas(), []
    for citizen in citizens:
        record = records.get(citizen)
        for claim, before in claims.get(citizen, ()):
            after = claim_state(claim.day, claim.level, record, as_of, rules)
            if before == after.value:
                continue
            path = paths.get(claim.team, (claim.team,))
            if before is not None:
                deltas.claim(claim, state_metric(ClaimState(before), claim.level).value, -1, path)
            deltas.claim(claim, state_metric(after, claim.level).value, +1, path)
            writes.append((claim, after.value, rules.window(claim.day)[1]))
    unclaimed_after = {
        citizen: (record.commune, record.village, record.activated_on, unclaimed_metric(record.level).value)
        for citizen, record in records.items()
        if record.activated_on is not None and not claims.get(citizen)}
    residences = await _residence_paths(conn, map_id, [*unclaimed_before.values(), *(
        {"commune": c, "village": v} for c, v, _, _ in unclaimed_after.values())])
    gone, added = [], []
    for citizen in citizens:
        old, new = unclaimed_before.get(citizen), unclaimed_after.get(citizen)
        old_key = (old["commune"], old["village"], old["day"], old["metric"]) if old else None
        if old_key == new:
            continue
        if old_key is not None:
            deltas.unit(old_key[2].isoformat(), old_key[3], -1, residences.get((old_key[0], old_key[1]), ()))
            gone.append(citizen)
        if new is not None:
            deltas.unit(new[2].isoformat(), new[3], +1, residences.get((new[0], new[1]), ()))
            added.append((citizen, *new))
    deltas.drop_zeros()
    await _write(conn, writes, gone, added)
    daily, total = await add_counts(conn, deltas.unit_daily, deltas.unit_total, deltas.officer_daily,
                                    deltas.officer_total)
    return len(writes) + len(gone) + len(added), daily, total


async def _residence_paths(conn: asyncpg.Connection, map_id: int | None,
                           places: list[Mapping]) -> dict[tuple[str, str | None], tuple[str, ...]]:
    """(commune, village) → the path of the most precise unit of the read model's map."""
    if map_id is None or not places:
        return {}
    codes = {p["commune"] for p in places} | {p["village"] for p in places if p["village"]}
    found = {r["code"]: tuple(r["path"]) for r in await conn.fetch(
        "SELECT code, path FROM map_units WHERE map_id = $1 AND code = ANY($2::text[])", map_id, sorted(codes))}
    resolved = {}
    for place in places:
        unit = residence_unit(place["commune"], place["village"], found)
        if unit is not None:
            resolved[(place["commune"], place["village"])] = found[unit]
    return resolved


async def _write(conn: asyncpg.Connection, states: list[tuple[_Claim, str, dt.date]], gone: list[str],
                 added: list[tuple]) -> None:
    if states:
        await conn.execute(
            "INSERT INTO claim_states (seq, citizen_key, team, officer, day, level, state, window_end) "
            "SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::date[], $6::smallint[], "
            "$7::text[], $8::date[]) ORDER BY 1 ON CONFLICT (seq) DO UPDATE "
            "SET state = excluded.state, window_end = excluded.window_end, changed_at = now()",
            [c.seq for c, _, _ in states], [c.citizen_key for c, _, _ in states], [c.team for c, _, _ in states],
            [c.officer for c, _, _ in states], [c.day for c, _, _ in states], [c.level for c, _, _ in states],
            [s for _, s, _ in states], [end for _, _, end in states])
    if gone:
        await conn.execute("DELETE FROM registry_unclaimed WHERE citizen_key = ANY($1::text[])", gone)
    if added:
        await conn.execute(
            "INSERT INTO registry_unclaimed (citizen_key, commune, village, day, metric) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::text[])",
            *(list(column) for column in zip(*added, strict=True)))


async def reconcile(conn: asyncpg.Connection, rules: ReconcileRules, *, chunk: int = 20_000) -> list[Step]:
    """Steps until nothing is waiting."""
    steps = [await reconcile_step(conn, rules, chunk=chunk)]
    while steps[-1].more:
        steps.append(await reconcile_step(conn, rules, chunk=chunk))
    return steps

