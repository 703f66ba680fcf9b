"""Re-encryption of personal data under a new key, on the real database.

Rows are written by ingest's own EventStore (so they are sealed exactly as in production), then
`tally06 pii keys` and `tally06 pii rekey` run as the operator runs them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from functools import cache

import asyncpg

from tally06.domain.org import OrgRegistry
from tally06.domain.pii import CitizenProtector, KeyRing, SealedPii, new_key
from tally06.imports.reference import demo_org
from tally06.store.pii_rotation import rekey, rows_by_key
from tally06_ingest.store import Candidate, EventStore
from tally06_ingest.validation import ValidEvent, validate_event
from tests.conftest import TEST_KEYS
from tests.support import factories
from tests.support.cli import tally06

KEY_A, KEY_B, KEY_Z = new_key(), new_key(), new_key()
RING_A, RING_BA, RING_B = f"a:{KEY_A}", f"b:{KEY_B},a:{KEY_A}", f"b:{KEY_B}"
TEAM = "TH-03-C01-T1"


@cache
def _org() -> OrgRegistry:
    return demo_org()




async def append(store: EventStore, n: int) -> dict[int, dict]:
    """``n`` new events through ingest's event store; returns seq -> the citizen's clear values."""
    now = dt.datetime.now(dt.UTC)
    raws = [factories.event(team=TEAM) for _ in range(n)]
    candidates = []
    for i, raw in enumerate(raws):
        valid = validate_event(raw, registry=_org(), token_team=TEAM, now=now, future_tolerance=dt.timedelta(minutes=5))
        assert isinstance(valid, ValidEvent), valid
        candidates.append(Candidate(i, valid, "test"))
    outcomes = await store.append(candidates)
    assert [o.status for o in outcomes] == ["accepted"] * n
    return {o.seq: raws[o.index]["citizen"] for o in outcomes}


async def ingest(database: str, pii_keys: str, n: int) -> dict[int, dict]:
    """What an ingest with this key ring stores for ``n`` events."""
    pool = await asyncpg.create_pool(database, min_size=1, max_size=1)
    try:
        return await append(EventStore(pool, CitizenProtector(TEST_KEYS["TALLY06_HMAC_KEY"], pii_keys)), n)
    finally:
        await pool.close()


async def opened(db: asyncpg.Connection, pii_keys: str) -> dict[int, dict]:
    """Every row of citizen_pii opened with this ring, as the reports open them."""
    ring = KeyRing(pii_keys)
    rows = await db.fetch("SELECT seq, citizen_key, key_id, sealed FROM citizen_pii ORDER BY seq")
    return {r["seq"]: ring.open(SealedPii(r["key_id"], bytes(r["sealed"])), associated=r["citizen_key"]) for r in rows}


def key_rows(out: str) -> dict[str, tuple[str, int]]:
    """`pii keys` table: key id -> (use, rows)."""
    found = {}
    for line in out.splitlines():
        match = re.match(r"\W*(\w+)\s+│\s+(.+?)\s+│\s+([\d,]+)\s+│", line)
        if match:
            found[match[1]] = (match[2], int(match[3].replace(",", "")))
    return found


async def test_rotation_re_encrypts_every_row_and_the_old_key_can_go(database, db):
    clear = await ingest(database, RING_A, 25)
    assert await rows_by_key(db) == {"a": 25}

    code, out, err = await tally06(database, "pii", "keys", TALLY06_PII_KEYS=RING_BA)
    assert code == 0, err
    assert key_rows(out) == {"b": ("active: seals new rows", 0), "a": ("old: opens only", 25)}
    assert KEY_A not in out + err and KEY_B not in out + err

    code, out, err = await tally06(database, "pii", "rekey", "--batch-size", "7", "--actor", "ops",
                                   TALLY06_PII_KEYS=RING_BA)
    assert code == 0, out + err
    assert "re-encrypted 25 rows under key b in 4 batches" in out
    assert "the old keys may leave the ring" in out
    assert await rows_by_key(db) == {"b": 25}
    assert await opened(db, RING_B) == clear  # the new key alone opens everything, values unchanged

    code, out, err = await tally06(database, "pii", "keys", TALLY06_PII_KEYS=RING_B)
    assert code == 0, err
    assert key_rows(out) == {"b": ("active: seals new rows", 25)}

    # Again (a retry, a second operator): nothing left to do, nothing changes.
    before = await db.fetch("SELECT seq, sealed FROM citizen_pii ORDER BY seq")
    code, out, err = await tally06(database, "pii", "rekey", "--actor", "ops", TALLY06_PII_KEYS=RING_BA)
    assert code == 0, out + err
    assert "re-encrypted 0 rows under key b" in out
    assert await db.fetch("SELECT seq, sealed FROM citizen_pii ORDER BY seq") == before

    audit = await db.fetch("SELECT actor, role, action, target, row_count, detail::jsonb->>'summary' AS summary "
                           "FROM audit_log ORDER BY id")
    assert [(r["actor"], r["role"], r["action"], r["target"], r["row_count"]) for r in audit] == [
        ("ops", "admin", "pii.rekey", "citizen_pii", 25), ("ops", "admin", "pii.rekey", "citizen_pii", 0)]
    assert audit[0]["summary"] == "25 rows re-encrypted under key b"


async def test_rows_under_a_key_missing_from_the_ring_are_reported_not_fatal(database, db):
    lost = await ingest(database, f"z:{KEY_Z}", 3)
    clear = await ingest(database, RING_A, 4)
    lost_blobs = await db.fetch("SELECT seq, sealed FROM citizen_pii WHERE key_id = 'z' ORDER BY seq")

    code, out, err = await tally06(database, "pii", "rekey", "--batch-size", "2", TALLY06_PII_KEYS=RING_BA)
    assert code == 1, out + err
    assert "Traceback" not in err
    assert "re-encrypted 4 rows under key b" in out
    assert "3 rows are sealed with key 'z', which is not in TALLY06_PII_KEYS" in " ".join(err.split())
    assert await rows_by_key(db) == {"b": 4, "z": 3}
    # Untouched: with the key found again they still open.
    assert await db.fetch("SELECT seq, sealed FROM citizen_pii WHERE key_id = 'z' ORDER BY seq") == lost_blobs
    assert await opened(db, f"{RING_B},z:{KEY_Z}") == lost | clear

    code, out, _ = await tally06(database, "pii", "keys", TALLY06_PII_KEYS=RING_BA)
    assert code == 0
    assert key_rows(out) == {"b": ("active: seals new rows", 4), "a": ("old: opens only (may leave the ring)", 0),
                             "z": ("NOT IN TALLY06_PII_KEYS: unreadable here", 3)}
    detail = await db.fetchval("SELECT detail::text FROM audit_log WHERE action = 'pii.rekey'")
    assert '"unknown_keys": {"z": 3}' in detail


async def test_two_runs_at_once_while_ingest_writes(database, db):
    """Two rekey runs share the rows, while ingest pods with the old and the new ring write."""
    pool = await asyncpg.create_pool(database, min_size=1, max_size=4)
    hmac_key = TEST_KEYS["TALLY06_HMAC_KEY"]
    old_pod = EventStore(pool, CitizenProtector(hmac_key, RING_A))  # not restarted yet
    new_pod = EventStore(pool, CitizenProtector(hmac_key, RING_BA))
    ring = KeyRing(RING_BA)
    try:
        clear = await append(old_pod, 150)

        async def run() -> object:
            async with pool.acquire() as conn:
                return await rekey(conn, ring, batch_size=10)

        async def keep_ingesting() -> None:
            for i in range(8):
                clear.update(await append(old_pod if i % 2 else new_pod, 5))

        first, second, _ = await asyncio.gather(run(), run(), keep_ingesting())
        sealed_with_a = 150 + 4 * 5
        # What the old pod wrote after both runs had passed is left for the next run.
        async with pool.acquire() as conn:
            last = await rekey(conn, ring, batch_size=10)
    finally:
        await pool.close()

    # Every row re-encrypted exactly once (none twice, none missed), none unreadable.
    assert first.resealed + second.resealed + last.resealed == sealed_with_a
    assert first.unreadable == second.unreadable == last.unreadable == {}
    assert last.complete and last.remaining == 0
    assert await rows_by_key(db) == {"b": 150 + 8 * 5}
    assert await opened(db, RING_B) == clear
