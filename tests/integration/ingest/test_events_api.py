"""POST /v1/events against a real ingest process, PostgreSQL and broker."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import orjson
import pytest

from tests.support import factories

TEAM = "TH-03-C01-T1"


@pytest.fixture
async def ingest(start_service, make_token):
    service = start_service("ingest")
    token = await make_token(TEAM)
    async with httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=10) as client:
        client.service = service  # type: ignore[attr-defined]
        yield client


async def post(client, events):
    return await client.post("/v1/events", json={"events": events})


async def test_mixed_batch_gets_a_status_per_item(ingest, db):
    good = factories.event()
    bad_cccd = factories.event(citizen_body={"id_number": "12345"})
    no_level = factories.event()
    no_level.pop("level")
    unknown_team = factories.event(team="TH-99-C01-T1")
    future = factories.event(occurred_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30))
    other_team = factories.event(team="TH-01-C01-T1")
    installed = factories.event(type="app_installed", level=None)

    response = await post(ingest, [good, bad_cccd, no_level, unknown_team, future, other_team, installed])

    assert response.status_code == 200
    body = response.json()
    statuses = [(r["index"], r["status"], [e["field"] for e in r["errors"]]) for r in body["results"]]
    assert statuses == [
        (0, "accepted", []),
        (1, "rejected", ["citizen.id_number"]),
        (2, "rejected", ["level"]),
        (3, "rejected", ["team"]),
        (4, "rejected", ["occurred_at"]),
        (5, "rejected", ["team"]),
        (6, "accepted", []),
    ]
    assert body["totals"] == {"accepted": 2, "duplicate": 0, "rejected": 5}
    assert body["results"][1]["event_id"] == bad_cccd["event_id"]
    stored = await db.fetch("SELECT event_id::text, district, commune, metric FROM events ORDER BY seq")
    assert [(r["event_id"], r["district"], r["metric"]) for r in stored] == [
        (good["event_id"], "TH-03", "activated_l1"),
        (installed["event_id"], "TH-03", "installed"),
    ]


async def test_resend_is_idempotent(ingest, db):
    events = [factories.event() for _ in range(3)]
    first = (await post(ingest, events)).json()
    again = (await post(ingest, events)).json()
    assert [r["status"] for r in first["results"]] == ["accepted"] * 3
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 3
    assert [r["seq"] for r in again["results"]] == [r["seq"] for r in first["results"]]
    assert await db.fetchval("SELECT count(*) FROM events") == 3


async def test_reused_id_with_other_content_is_rejected(ingest, db):
    original = factories.event()
    await post(ingest, [original])
    changed = dict(original, officer="CA-TH03-0099")
    result = (await post(ingest, [changed])).json()["results"][0]
    assert result["status"] == "rejected"
    assert result["errors"][0]["field"] == "event_id"
    assert "different content" in result["errors"][0]["message"]
    assert await db.fetchval("SELECT officer FROM events") == original["officer"]


async def test_same_id_twice_in_one_batch(ingest):
    event = factories.event()
    results = (await post(ingest, [event, event, dict(event, officer="X-2")])).json()["results"]
    assert [r["status"] for r in results] == ["accepted", "duplicate", "rejected"]


async def test_first_claim_earns_the_credit_later_ones_are_duplicate_claims(ingest, make_token, db):
    person = factories.citizen()
    ours = factories.event(citizen_body=person)
    other_token = await make_token("TH-03-C02-T1")
    theirs = factories.event(team="TH-03-C02-T1", citizen_body=person)
    mine = (await post(ingest, [ours])).json()["results"][0]
    other = await ingest.post("/v1/events", json={"events": [theirs]},
                              headers={"Authorization": f"Bearer {other_token}"})
    assert mine["credited"] is True
    assert other.json()["results"][0]["status"] == "accepted"
    assert other.json()["results"][0]["credited"] is False
    level2 = factories.event(citizen_body=person, level=2)
    assert (await post(ingest, [level2])).json()["results"][0]["credited"] is True
    assert await db.fetchval("SELECT count(*) FROM credits") == 2


@pytest.mark.parametrize(
    ("content", "headers", "status", "field"),
    [
        (b"{oops", {"Content-Type": "application/json"}, 400, "body"),
        (b"x" * (1024 * 1024 + 1), {"Content-Type": "application/json"}, 413, "body"),
        (b'{"events": []}', {"Content-Type": "text/plain"}, 415, "content-type"),
        (b'{"events": []}', {"Content-Type": "application/json"}, 422, "events"),
        (b'{"nothing": 1}', {"Content-Type": "application/json"}, 422, "nothing"),
    ],
)
async def test_whole_request_problems(ingest, content, headers, status, field):
    response = await ingest.post("/v1/events", content=content, headers=headers)
    assert response.status_code == status
    assert response.json()["detail"][0]["field"] == field


async def test_too_many_events(ingest):
    events = [factories.event() for _ in range(501)]
    response = await ingest.post("/v1/events", content=orjson.dumps({"events": events}),
                                 headers={"Content-Type": "application/json"})
    assert response.status_code in (413, 422)


@pytest.mark.parametrize("auth", [None, "Bearer nope", "Basic abc", "Bearer t06_abc_def"])
async def test_missing_or_bad_token(ingest, auth):
    headers = {"Authorization": auth} if auth else {}
    async with httpx.AsyncClient(base_url=ingest.service.url, headers=headers) as anonymous:
        response = await anonymous.post("/v1/events", json={"events": [factories.event()]})
    assert response.status_code == 401
    assert response.json()["detail"][0]["field"] == "authorization"


async def test_full_batch_of_500_is_accepted(ingest, db):
    events = [factories.event() for _ in range(500)]
    body = (await post(ingest, events)).json()
    assert body["totals"]["accepted"] == 500
    assert await db.fetchval("SELECT last_seq FROM event_seq") == 500


async def test_health_and_readiness(ingest):
    assert (await ingest.get("/healthz")).json() == {"status": "ok"}
    assert (await ingest.get("/readyz")).status_code == 200
    assert b"tally06_ingest_events_total" in (await ingest.get("/metrics")).content


async def test_revoked_token_stops_working(start_service, make_token, db):
    from tally06.store.device_tokens import revoke_token, token_id_of

    service = start_service("ingest", TALLY06_TOKEN_CACHE_S="0.5")
    token = await make_token(TEAM)
    async with httpx.AsyncClient(base_url=service.url, headers={"Authorization": f"Bearer {token}"}) as client:
        assert (await post(client, [factories.event()])).status_code == 200
        assert await revoke_token(db, token_id_of(token))
        await asyncio.sleep(1)
        assert (await post(client, [factories.event()])).status_code == 401
