"""Concurrent posts share transactions (group commit) yet each gets exactly its own answers."""

from __future__ import annotations

import asyncio

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
