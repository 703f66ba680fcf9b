"""Abuse limits of a real ingest process: rate limits per token and per client address, body
size and time limits on raw connections, implausible-activity flags in PostgreSQL, security
headers, and the docs endpoints hidden in production."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from urllib.parse import urlsplit

import httpx
import orjson

from tally06.store.device_tokens import token_id_of
from tally06_ingest.activity_flags import local_hour
from tests.support import factories

TEAM = "TH-03-C01-T1"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}


def client_for(service, token: str | None = None, address: str | None = None) -> httpx.AsyncClient:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if address:
        # The test client connects from 127.0.0.1, a trusted proxy by default.
        headers["X-Forwarded-For"] = address
    return httpx.AsyncClient(base_url=service.url, headers=headers, timeout=10)


async def post(client: httpx.AsyncClient, events: list[dict]) -> httpx.Response:
    return await client.post("/v1/events", json={"events": events})


def assert_error(response: httpx.Response, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["detail"] and len(body["detail"]) == 1
    assert body["detail"][0]["field"] == field
    assert isinstance(body["detail"][0]["message"], str) and body["detail"][0]["message"]


def assert_secured(response: httpx.Response, csp: bool = True) -> None:
    for name, value in SECURITY_HEADERS.items():
        if name == "content-security-policy" and not csp:
            assert name not in response.headers
        else:
            assert response.headers.get(name) == value, (name, dict(response.headers))


def metric(text: str, line_start: str) -> float:
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_posts_and_events_are_limited_per_device_token(start_service, make_token, db):
    service = start_service("ingest", TALLY06_RATE_LIMIT_PER_S="0.1", TALLY06_RATE_LIMIT_BURST="3",
                            TALLY06_RATE_LIMIT_EVENTS_PER_MINUTE="60")
    token_a, token_b, token_c = [await make_token(TEAM) for _ in range(3)]

    # Someone who knows A's token id but not its secret spends nothing of A's budget.
    forged = f"t06_{token_id_of(token_a)}_{'x' * 43}"
    async with client_for(service, forged) as forger:
        for _ in range(8):
            assert_error(await post(forger, [factories.event()]), 401, "authorization")

    async with client_for(service, token_a) as phone_a, client_for(service, token_b) as phone_b:
        for _ in range(3):
            assert (await post(phone_a, [factories.event()])).status_code == 200
        refused = await post(phone_a, [factories.event()])
        assert_error(refused, 429, "authorization")
        assert 1 <= int(refused.headers["Retry-After"]) <= 10
        assert_secured(refused)
        assert (await post(phone_b, [factories.event()])).status_code == 200

    # Events per minute: 60 a minute, one a second back; a refused batch stores nothing.
    async with client_for(service, token_c) as phone_c:
        assert (await post(phone_c, [factories.event() for _ in range(50)])).status_code == 200
        refused = await post(phone_c, [factories.event() for _ in range(20)])
        assert_error(refused, 429, "events")
        assert 5 <= int(refused.headers["Retry-After"]) <= 10  # 10 short, less what came back since
        assert (await post(phone_c, [factories.event() for _ in range(9)])).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM events") == 3 + 1 + 50 + 9

    async with client_for(service) as anyone:
        metrics = (await anyone.get("/metrics")).text
        # Outside production the docs are served; only their page goes without the strict CSP.
        docs = await anyone.get("/docs")
        assert docs.status_code == 200
        assert_secured(docs, csp=False)
        assert_secured(await anyone.get("/openapi.json"))
    assert metric(metrics, 'tally06_ingest_limited_total{reason="token_requests"}') == 1
    assert metric(metrics, 'tally06_ingest_limited_total{reason="token_events"}') == 1


async def test_unknown_tokens_are_limited_per_client_address(start_service, make_token):
    service = start_service("ingest", TALLY06_AUTH_FAILURE_BURST="3", TALLY06_AUTH_FAILURE_PER_S="0.1")
    known, fresh = await make_token(TEAM), await make_token(TEAM)
    guesser, elsewhere = "203.0.113.7", "198.51.100.9"

    async with client_for(service, known, guesser) as phone:
        assert (await post(phone, [factories.event()])).status_code == 200  # now in the cache
    async with client_for(service, address=guesser) as no_token:
        for _ in range(5):  # no token at all needs no look-up and costs nothing
            assert_error(await post(no_token, [factories.event()]), 401, "authorization")
    for n in range(3):
        async with client_for(service, f"t06_guess{n}_{'y' * 43}", guesser) as guessing:
            assert_error(await post(guessing, [factories.event()]), 401, "authorization")
    async with client_for(service, f"t06_guess9_{'y' * 43}", guesser) as guessing:
        refused = await post(guessing, [factories.event()])
    assert_error(refused, 429, "authorization")
    assert 8 <= int(refused.headers["Retry-After"]) <= 10
    assert_secured(refused)

    # The cached device behind the same address keeps posting; a token that would need a
    # look-up waits; another address has its own budget.
    async with client_for(service, known, guesser) as phone:
        assert (await post(phone, [factories.event()])).status_code == 200
    async with client_for(service, fresh, guesser) as other_phone:
        assert_error(await post(other_phone, [factories.event()]), 429, "authorization")
    async with client_for(service, f"t06_guess10_{'y' * 43}", elsewhere) as guessing:
        assert_error(await post(guessing, [factories.event()]), 401, "authorization")
    async with client_for(service, fresh, elsewhere) as other_phone:
        assert (await post(other_phone, [factories.event()])).status_code == 200
    async with client_for(service) as anyone:
        metrics = (await anyone.get("/metrics")).text
    assert metric(metrics, 'tally06_ingest_limited_total{reason="unknown_tokens"}') == 2


class RawHttp:
    """One TCP connection, to send what no well-behaved client would."""

    def __init__(self, url: str, token: str) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.token = parts.hostname, parts.port, token

    async def __aenter__(self) -> RawHttp:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.writer.close()

    def head(self, *lines: str) -> bytes:
        return ("\r\n".join(["POST /v1/events HTTP/1.1", f"Host: {self.host}",
                             f"Authorization: Bearer {self.token}", "Content-Type: application/json",
                             *lines]) + "\r\n\r\n").encode()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self, timeout_s: float = 5) -> tuple[int, dict[str, str], dict | bytes]:
        """Status, headers (names in lower case) and body (decoded if JSON) of the next answer."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout_s)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            if line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await asyncio.wait_for(self.reader.readexactly(int(headers.get("content-length", 0))), timeout_s)
        if headers.get("content-type", "").startswith("application/json"):
            return int(status_line.split(" ")[1]), headers, json.loads(body)
        return int(status_line.split(" ")[1]), headers, body

    async def closed_by_server(self, timeout_s: float = 5) -> bool:
        return await asyncio.wait_for(self.reader.read(1), timeout_s) == b""


async def test_bodies_that_are_too_large_lie_or_never_arrive_are_refused(start_service, make_token):
    service = start_service("ingest", TALLY06_MAX_BODY_BYTES="20000", TALLY06_BODY_TIMEOUT_S="1",
                            TALLY06_MAX_BATCH_EVENTS="5")
    token = await make_token(TEAM)

    # Chunked, over the limit and never finished: refused once past the limit (waiting for
    # the end would have answered 408).
    async with RawHttp(service.url, token) as raw:
        await raw.send(raw.head("Transfer-Encoding: chunked"))
        chunk = b"[" * 1000
        await raw.send(b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(30)))
        status, _, body = await raw.response()
        assert (status, body["detail"][0]["field"]) == (413, "body")

    # A Content-Length above the limit is refused before any of the body.
    async with RawHttp(service.url, token) as raw:
        await raw.send(raw.head("Content-Length: 5000000"))
        status, _, _ = await raw.response()
        assert status == 413

    # A Content-Length larger than what is sent: 408 after the body timeout, then closed.
    async with RawHttp(service.url, token) as raw:
        await raw.send(raw.head("Content-Length: 5000") + b'{"events": [')
        started = time.monotonic()
        status, headers, body = await raw.response()
        assert (status, body["detail"][0]["field"]) == (408, "body")
        assert 0.8 < time.monotonic() - started < 4
        assert headers["connection"] == "close"
        assert headers["x-content-type-options"] == "nosniff"
        assert await raw.closed_by_server()

    # Trickled a byte at a time: the timeout is for the whole body, not between bytes.
    async with RawHttp(service.url, token) as raw:
        await raw.send(raw.head("Content-Length: 100"))
        started = time.monotonic()
        trickle = asyncio.create_task(_trickle(raw, count=40, every_s=0.1))
        status, _, _ = await raw.response()
        trickle.cancel()
        await asyncio.gather(trickle, return_exceptions=True)
        assert status == 408
        assert time.monotonic() - started < 3

    # A Content-Length smaller than the body: the cut body is no JSON, the rest no request.
    async with RawHttp(service.url, token) as raw:
        await raw.send(raw.head("Content-Length: 10") + orjson.dumps({"events": [factories.event()]}))
        # ingest's 400 for the cut JSON, uvicorn's for the rest, or both: never a 5xx.
        status, _, _ = await raw.response()
        assert status == 400
        try:
            status, _, _ = await raw.response()
            assert status == 400
        except asyncio.IncompleteReadError:
            pass  # closed after the first answer

    # The client goes away in the middle of the body.
    async with RawHttp(service.url, token) as raw:
        await raw.send(raw.head("Content-Length: 1000") + b'{"events": [')
    await asyncio.sleep(0.3)

    async with client_for(service, token) as phone:
        assert_error(await post(phone, [factories.event() for _ in range(6)]), 422, "events")
        assert (await post(phone, [factories.event() for _ in range(5)])).status_code == 200
        metrics = (await phone.get("/metrics")).text
    assert metric(metrics, 'tally06_ingest_limited_total{reason="body_too_large"}') == 2
    assert metric(metrics, 'tally06_ingest_limited_total{reason="body_timeout"}') == 2
    log = service.log_tail(200_000)
    assert "Traceback" not in log and "Exception in ASGI application" not in log


async def _trickle(raw: RawHttp, count: int, every_s: float) -> None:
    for _ in range(count):
        await raw.send(b" ")
        await asyncio.sleep(every_s)


async def wait_for(db, query: str, *args, check=bool, timeout_s: float = 10):
    deadline = time.monotonic() + timeout_s
    while True:
        value = await db.fetch(query, *args)
        if check(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


async def test_implausibly_many_activations_flag_the_officer_hour(start_service, make_token, db):
    service = start_service("ingest", TALLY06_IMPLAUSIBLE_ACTIVATIONS_PER_HOUR="5")
    token = await make_token(TEAM)
    now = dt.datetime.now(dt.UTC)
    hour = local_hour(now - dt.timedelta(hours=3))
    start = hour.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))

    def activation(officer: str, minute: int, **kw) -> dict:
        return factories.event(officer=officer, occurred_at=start + dt.timedelta(minutes=minute), **kw)

    busy = [activation("CA-BUSY", m) for m in range(6)]
    at_threshold = [activation("CA-STEADY", m) for m in range(5)]
    installs = [activation("CA-INSTALLS", m, type="app_installed", level=None) for m in range(7)]
    two_hours = [activation("CA-SPLIT", m) for m in (10, 20, 30, 40, 70, 80, 90, 100)]
    # The same citizens and level again: duplicate claims, no credit, no count.
    claims = [activation("CA-CLAIMS", m, citizen_body=e["citizen"]) for m, e in enumerate(at_threshold)]

    async with client_for(service, token) as phone:
        first = await post(phone, busy[:3] + at_threshold + installs + two_hours)
        second = await post(phone, busy[3:] + claims)
        assert first.json()["totals"]["accepted"] == 3 + 5 + 7 + 8
        assert second.json()["totals"]["accepted"] == 3 + 5  # flagged events are accepted all the same
        assert [r["credited"] for r in second.json()["results"][3:]] == [False] * 5

        flags = await wait_for(db, "SELECT * FROM activity_flags")
        assert [(f["officer"], f["team"], f["local_hour"], f["activations"], f["threshold"]) for f in flags] == [
            ("CA-BUSY", TEAM, hour, 6, 5)]
        first_flagged = flags[0]["first_flagged_at"]
        assert now - dt.timedelta(seconds=5) < first_flagged < dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)

        # More work in the same hour: the count grows on the same row.
        await post(phone, [activation("CA-BUSY", 30), activation("CA-BUSY", 31)])
        flags = await wait_for(db, "SELECT * FROM activity_flags",
                               check=lambda rows: rows and rows[0]["activations"] == 8)
        assert len(flags) == 1 and flags[0]["activations"] == 8
        assert flags[0]["first_flagged_at"] == first_flagged <= flags[0]["last_flagged_at"]

        # A resent batch is answered "duplicate" and counts nothing again; a later post from
        # the same process tells when the tallies before it were written.
        assert (await post(phone, busy[3:])).json()["totals"]["duplicate"] == 3
        await post(phone, [activation("CA-LAST", 0)])
        await wait_for(db, "SELECT 1 FROM officer_hour_activations WHERE officer = 'CA-LAST'")
        metrics = (await phone.get("/metrics")).text

    tallies = {(r["officer"], r["local_hour"]): r["activations"]
               for r in await db.fetch("SELECT * FROM officer_hour_activations")}
    assert tallies == {
        ("CA-BUSY", hour): 8, ("CA-STEADY", hour): 5, ("CA-SPLIT", hour): 4,
        ("CA-SPLIT", hour + dt.timedelta(hours=1)): 4, ("CA-LAST", hour): 1,
    }
    assert await db.fetchval("SELECT count(*) FROM activity_flags") == 1
    assert metric(metrics, "tally06_ingest_activity_flags_total ") == 1

    # One log line for the new flag: officer, team, hour and figures, nothing about citizens.
    lines = [json.loads(line) for line in service.log_tail(200_000).splitlines()
             if "implausible_activity_flagged" in line]
    assert len(lines) == 1
    assert {k: lines[0][k] for k in ("officer", "team", "activations", "threshold")} == {
        "officer": "CA-BUSY", "team": TEAM, "activations": 6, "threshold": 5}
    assert lines[0]["local_hour"] == hour.isoformat(timespec="minutes")
    assert set(lines[0]) <= {"event", "officer", "team", "local_hour", "activations", "threshold",
                             "level", "timestamp", "service"}


async def test_production_hides_the_docs_and_every_answer_carries_security_headers(start_service, make_token):
    service = start_service("ingest", TALLY06_MODE="production")
    token = await make_token(TEAM)
    async with client_for(service) as anyone:
        for path in ("/docs", "/openapi.json", "/redoc", "/docs/oauth2-redirect"):
            response = await anyone.get(path)
            assert response.status_code == 404, path
            assert_secured(response)
        assert_secured(await anyone.get("/healthz"))
        unauthorized = await post(anyone, [factories.event()])
        assert_error(unauthorized, 401, "authorization")
        assert_secured(unauthorized)
    async with client_for(service, token) as phone:
        accepted = await post(phone, [factories.event()])
        assert accepted.status_code == 200
        assert_secured(accepted)


async def test_security_headers_middleware_takes_a_policy_and_keeps_what_a_route_set():
    """The shared middleware as another service (the wallboard) would use it: its own policy,
    caching left to the routes, a header a route set left alone."""
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from tally06.kit.http_security import SecurityHeaders

    async def page(_):
        return PlainTextResponse("board")

    async def asset(_):
        return PlainTextResponse("css", headers={"Cache-Control": "max-age=3600"})

    app = SecurityHeaders(Starlette(routes=[Route("/", page), Route("/static/board.css", asset)]),
                          content_security_policy="default-src 'self'", cache_control=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://board") as board:
        index, css = await board.get("/"), await board.get("/static/board.css")
    assert index.headers["content-security-policy"] == "default-src 'self'"
    assert index.headers["x-content-type-options"] == "nosniff"
    assert index.headers["referrer-policy"] == "no-referrer"
    assert "cache-control" not in index.headers
    assert css.headers.get_list("cache-control") == ["max-age=3600"]
