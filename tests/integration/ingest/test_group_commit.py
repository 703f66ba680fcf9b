"""Concurrent posts share transactions (group commit) yet each gets exactly its own answers."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
from prometheus_client import REGISTRY

from tally06.domain.pii import CitizenProtector
from tally06.imports.reference import demo_org
from tally06_ingest.store import Candidate, EventStore
from tally06_ingest.validation import validate_event
from tests.conftest import TEST_KEYS
from tests.integration.ingest.test_events_api import ingest, post  # noqa: F401 - the fixture
from tests.support import factories


async def test_concurrent_posts_get_their_own_answers_and_store_each_event_once(ingest, db):  # noqa: F811
    shared = factories.event()
    posts = [[factories.event() for _ in range(1 + n % 3)] for n in range(60)]
    posts[7].append(shared)
    posts[33].append(dict(shared))
    answers = await asyncio.gather(*(post(ingest, events) for events in posts))

    assert all(a.status_code == 200 for a in answers)
    statuses: dict[str, list[str]] = {}
    for events, answer in zip(posts, answers, strict=True):
        results = answer.json()["results"]
        assert [r["index"] for r in results] == list(range(len(events)))
        assert [r["event_id"] for r in results] == [e["event_id"] for e in events]
        for event, result in zip(events, results, strict=True):
            statuses.setdefault(event["event_id"], []).append(result["status"])
    assert sorted(statuses.pop(shared["event_id"])) == ["accepted", "duplicate"]
    assert all(s == ["accepted"] for s in statuses.values())

    unique = len(statuses) + 1
    rows = await db.fetch("SELECT seq FROM events ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(1, unique + 1))


async def test_two_processes_storing_the_same_new_ids_at_once_store_each_once(database, db):
    """Two ingest processes (two stores, two pools) write posts sharing new ids at the same
    moment, as a phone retrying through another process does: the look-up before the sequence
    lock misses the other's write, the insert finds it, and the write is looked at again."""
    org, team, now = demo_org(), "TH-03-C01-T1", dt.datetime.now(dt.UTC)

    def candidates(raws):
        return [Candidate(i, validate_event(raw, registry=org, token_team=team, now=now,
                                            future_tolerance=dt.timedelta(minutes=5)), "t") for i, raw in enumerate(raws)]

    protector = CitizenProtector(TEST_KEYS["TALLY06_HMAC_KEY"], TEST_KEYS["TALLY06_PII_KEYS"])
    retried_before = REGISTRY.get_sample_value("tally06_ingest_writes_retried_total") or 0
    pools = [await asyncpg.create_pool(database, min_size=1, max_size=1) for _ in range(2)]
    try:
        stores = [EventStore(pool, protector) for pool in pools]
        statuses: dict[str, list[str]] = {}
        for _ in range(15):
            shared = [factories.event(team=team) for _ in range(3)]
            posts = [shared + [factories.event(team=team)], [dict(e) for e in shared]]
            answers = await asyncio.gather(*(store.append(candidates(raws)) for store, raws in zip(stores, posts)))
            for raws, outcomes in zip(posts, answers, strict=True):
                for outcome in outcomes:
                    statuses.setdefault(raws[outcome.index]["event_id"], []).append(outcome.status.value)
    finally:
        for pool in pools:
            await pool.close()
    shared_statuses = [sorted(s) for s in statuses.values() if len(s) == 2]
    assert len(shared_statuses) == 45 and all(s == ["accepted", "duplicate"] for s in shared_statuses)
    stored = await db.fetch("SELECT seq, credited FROM events ORDER BY seq")
    assert [r["seq"] for r in stored] == list(range(1, 15 * 4 + 1))  # gapless: a failed try numbers nothing
    assert all(r["credited"] for r in stored)
    assert REGISTRY.get_sample_value("tally06_ingest_writes_retried_total") > retried_before  # the race happened
