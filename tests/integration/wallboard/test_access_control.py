"""Who may read what: every endpoint of the read API with every role, inside and outside the
user's units, including the live stream and the export; and the life of a session token."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import httpx
import jwt
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tally06.contract.topics import PROGRESS, progress_key
from tally06.domain.accounts import Role
from tally06_wallboard.sessions import session_key
from tests.conftest import TEST_KEYS
from tests.support.cli import tally06
from tests.support.sessions import PASSWORD, bearer, make_user
from tests.support.sse import sse_events

# Each role with its own unit and a unit of the same kind it must not see.
ROLES = {
    Role.TEAM_LEAD: ("TH-03-C01-T1", "TH-03-C01-T2"),
    Role.COMMUNE_FOCAL: ("TH-03-C01", "TH-03-C02"),
    Role.DISTRICT_FOCAL: ("TH-03", "TH-01"),
    Role.PROVINCE_OPERATOR: ("TH", None),
    Role.ADMIN: ("TH", None),
}
ACKNOWLEDGES = {Role.COMMUNE_FOCAL, Role.DISTRICT_FOCAL, Role.PROVINCE_OPERATOR}
# Teams whose alerts and progress changes exist: one inside every scope, the others outside some.
TEAMS = ["TH-03-C01-T1", "TH-03-C01-T2", "TH-03-C02-T1", "TH-01-C01-T1"]


def inside(unit: str, scope: str) -> bool:
    return scope == "TH" or unit == scope or unit.startswith(scope + "-")


def unit_paths(code: str) -> list[tuple[str, str, dict]]:
    return [("GET", f"/v1/units/{code}/progress", {}), ("GET", f"/v1/units/{code}/children", {}),
            ("GET", f"/v1/units/{code}/trend", {"days": 3}), ("GET", f"/v1/units/{code}/confirmation", {}),
            ("GET", "/v1/leaderboard", {"level": "team", "parent": code}),
            ("GET", "/v1/alerts", {"unit": code}), ("GET", "/v1/flags", {"unit": code}),
            ("GET", "/v1/reports/appendix1", {"unit": code, "format": "csv"})]


async def progress_changes(bootstrap: str) -> None:
    """A change of every team, as the aggregator publishes them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for n, team in enumerate(TEAMS):
            count = {"credited": n + 1, "claims": 0, "version": 10_000 + n}
            change = {"schema_version": 1, "unit": team, "day": dt.date.today().isoformat(),
                      "daily": {"activated_l1": count}, "total": {"activated_l1": count},
                      "as_of": dt.datetime.now(dt.UTC).isoformat()}
            await producer.send_and_wait(PROGRESS.name, orjson.dumps(change), key=progress_key(team))
    finally:
        await producer.stop()


async def stream_units(url: str, headers: dict[str, str], started: asyncio.Event, seconds: float) -> set[str]:
    """Units named by the stream's events while it is open."""
    seen: set[str] = set()
    async with (httpx.AsyncClient(base_url=url, headers=headers, timeout=httpx.Timeout(5, read=None)) as client,
                client.stream("GET", "/v1/stream") as response):
        assert response.status_code == 200
        events = sse_events(response)
        await anext(events)  # hello
        started.set()
        try:
            async with asyncio.timeout(seconds):
                async for kind, data, _ in events:
                    if kind in ("progress", "alert"):
                        seen.add(data["unit"])
        except TimeoutError:
            pass
    return seen


@pytest.mark.slow
async def test_every_endpoint_with_every_role(own_broker, database, db, start_service):
    wallboard = start_service("wallboard", bootstrap=own_broker.bootstrap, TALLY06_ALERTS_POLL_S="0.2")
    for n, team in enumerate(TEAMS):
        await db.execute("INSERT INTO activity_flags VALUES ($1, date_trunc('hour', localtimestamp), $2, 60, 40, now(), now())",
                         f"CA-{n}", team)
    alerts = {team: await db.fetchval(
        "INSERT INTO alerts (unit, rule, day, status, opened_at, last_opened_at, updated_at, detail) "
        "VALUES ($1, 'pace', current_date, 'open', now(), now(), now(), '{}') RETURNING id", team) for team in TEAMS}
    users = {role: await bearer(wallboard.url, await make_user(database, role, unit)) for role, (unit, _) in ROLES.items()}

    # The live stream: every user listens while progress changes and alert changes of every team happen.
    started = {role: asyncio.Event() for role in ROLES}
    listening = {role: asyncio.create_task(stream_units(wallboard.url, users[role], started[role], 6))
                 for role in ROLES}
    await asyncio.gather(*(e.wait() for e in started.values()))
    await progress_changes(own_broker.bootstrap)
    await db.execute("UPDATE alerts SET updated_at = now(), detail = '{\"touched\": true}'")

    cross_scope_reads = []
    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30) as client:
        # Nobody signed in: nothing but the board's page, health and the signed one-tap links.
        for method, path, params in unit_paths("TH") + [("GET", "/v1/units", {}), ("GET", "/v1/stream", {}),
                                                        ("GET", f"/v1/alerts/{alerts[TEAMS[0]]}", {}),
                                                        ("POST", f"/v1/alerts/{alerts[TEAMS[0]]}/ack", {}),
                                                        ("GET", "/v1/auth/me", {})]:
            answer = await client.request(method, path, params=params)
            assert answer.status_code == 401, (path, answer.status_code)
            assert answer.headers["www-authenticate"] == "Bearer"
        page = await client.get("/")
        assert page.status_code == 200
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "script-src 'self';" in page.headers["content-security-policy"]
        assert page.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"  # answers about people are never cached

        for role, (own, other) in ROLES.items():
            headers = users[role]
            me = (await client.get("/v1/auth/me", headers=headers)).json()
            assert (me["role"], me["unit"]) == (role, own)
            roots = [u["code"] for u in (await client.get("/v1/units", headers=headers)).json()]
            assert roots == [own]
            for method, path, params in unit_paths(own):
                answer = await client.request(method, path, params=params, headers=headers)
                # Appendix I lists the units under one; a team has none.
                expected = 422 if role is Role.TEAM_LEAD and path.endswith("appendix1") else 200
                assert answer.status_code == expected, (role, path, answer.text)
            if other is not None:
                for method, path, params in unit_paths(other):
                    answer = await client.request(method, path, params=params, headers=headers)
                    assert answer.status_code == 403, (role, path, answer.status_code)
            # Lists without a unit stay inside the user's units.
            listed = {
                "alerts": [a["unit"] for a in (await client.get("/v1/alerts", headers=headers)).json()],
                "flags": [f["team"] for f in (await client.get("/v1/flags", headers=headers)).json()],
                "leaderboard": [e["unit"]["code"] for e in (await client.get(
                    "/v1/leaderboard", params={"level": "team"}, headers=headers)).json()["entries"]],
                "children": [e["unit"]["code"] for e in (await client.get(
                    f"/v1/units/{own}/children", headers=headers)).json()["entries"]],
            }
            cross_scope_reads += [(role, what, u) for what, units in listed.items() for u in units if not inside(u, own)]
            assert set(listed["alerts"]) == set(listed["flags"]) == {t for t in TEAMS if inside(t, own)}
            # Alerts by id: another unit's alert is as missing as an alert that never was.
            for team, alert_id in alerts.items():
                answer = await client.get(f"/v1/alerts/{alert_id}", headers=headers)
                assert answer.status_code == (200 if inside(team, own) else 404), (role, team)
            ack = await client.post(f"/v1/alerts/{alerts['TH-03-C01-T1']}/ack", headers=headers)
            assert ack.status_code == (200 if role in ACKNOWLEDGES else 403), (role, ack.text)
            if other is not None and role in ACKNOWLEDGES:
                outside_alert = next(a for t, a in alerts.items() if not inside(t, own))
                assert (await client.post(f"/v1/alerts/{outside_alert}/ack", headers=headers)).status_code == 404
        # The export is audited with the user who asked for it.
        exporters = {r["actor"].split("-")[0] for r in await db.fetch("SELECT actor FROM audit_log")}
        assert len(await db.fetch("SELECT 1 FROM audit_log WHERE action = 'export.appendix1'")) == len(ROLES) - 1
        assert exporters  # actors are the users' names, not a service account

    heard = dict(zip(ROLES, await asyncio.gather(*listening.values()), strict=True))
    for role, (own, _) in ROLES.items():
        cross_scope_reads += [(role, "stream", u) for u in heard[role] if not inside(u, own)]
        assert heard[role] >= {t for t in TEAMS if inside(t, own)}, (role, heard[role])
    assert cross_scope_reads == []


async def test_session_tokens_expire_cannot_be_forged_and_end_when_revoked(own_broker, database, db, start_service):
    wallboard = start_service("wallboard", bootstrap=own_broker.bootstrap, TALLY06_ACCOUNT_CACHE_S="0.5")
    username = "hoa.th03"
    code, out, err = await tally06(database, "user", "add", username, "--role", "district_focal", "--unit", "TH-03",
                                   "--name", "Lê Thị Hoa", "--actor", "admin-test")
    assert code == 0, out + err
    password = out.split("password (shown once):")[1].split()[0]
    code, out, err = await tally06(database, "user", "add", "x.th01", "--role", "district_focal", "--unit", "TH-01-C01")
    assert code == 2 and "a district_focal belongs to a district" in out + err
    good = await bearer(wallboard.url, username, password)
    token = good["Authorization"].split()[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    key = session_key("", TEST_KEYS["TALLY06_HMAC_KEY"])

    def forged(**changes) -> dict[str, str]:
        return {"Authorization": "Bearer " + jwt.encode({**claims, **changes}, key, algorithm="HS256")}

    async with httpx.AsyncClient(base_url=wallboard.url, timeout=10) as client:
        async def status(headers: dict[str, str], path: str = "/v1/units/TH-03/progress") -> int:
            return (await client.get(path, headers=headers)).status_code

        assert await status(good) == 200
        # Expired, tampered (another unit, re-signed with a wrong key, unsigned), wrong audience.
        assert await status(forged(exp=int(time.time()) - 1)) == 401
        tampered = jwt.encode({**claims, "unit": "TH"}, b"not the key" * 4, algorithm="HS256")
        assert await status({"Authorization": f"Bearer {tampered}"}) == 401
        unsigned = jwt.encode({**claims, "unit": "TH"}, key="", algorithm="none")
        assert await status({"Authorization": f"Bearer {unsigned}"}) == 401
        body, signature = token.rsplit(".", 1)
        flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
        assert await status({"Authorization": f"Bearer {body}.{flipped}"}) == 401
        assert await status(forged(aud="someone-else")) == 401
        assert await status({"Authorization": "Bearer nonsense"}) == 401
        # The unit in a (validly signed) token is not trusted: scope comes from the account.
        assert await status(forged(unit="TH"), "/v1/units/TH-01/progress") == 403

        # Renewal gives a working token; signing out ends every session of the user.
        renewed = (await client.post("/v1/auth/refresh", headers=good)).json()["access_token"]
        assert await status({"Authorization": f"Bearer {renewed}"}) == 200
        assert (await client.post("/v1/auth/sign-out", headers=good)).status_code == 204
        await asyncio.sleep(0.6)
        assert await status(good) == 401
        assert await status({"Authorization": f"Bearer {renewed}"}) == 401

        # Disabling the account on the CLI ends a fresh session, and its open stream, within
        # the account cache time.
        fresh = await bearer(wallboard.url, username, password)
        assert await status(fresh) == 200
        async with client.stream("GET", "/v1/stream", headers=fresh) as stream:
            events = sse_events(stream)
            assert (await anext(events))[0] == "hello"
            code, out, err = await tally06(database, "user", "disable", username)
            assert code == 0, out + err
            async with asyncio.timeout(10):
                async for _ in events:
                    pass  # the server ends the stream
        assert await status(fresh) == 401
        assert (await client.post("/v1/auth/token", json={"username": username, "password": password})).status_code == 401
    # Account changes are in the audit log, with who made them and nothing secret.
    audit = [tuple(r) for r in await db.fetch("SELECT actor, action, target FROM audit_log ORDER BY id")]
    assert audit[0] == ("admin-test", "user.add", username) and audit[-1][1:] == ("user.disable", username)
    assert password not in str(await db.fetch("SELECT * FROM audit_log"))


async def test_wrong_passwords_lock_the_account_and_limits_hold(own_broker, database, start_service):
    wallboard = start_service("wallboard", bootstrap=own_broker.bootstrap, TALLY06_MODE="production",
                              TALLY06_USER_RATE_PER_S="0.5", TALLY06_USER_RATE_BURST="10",
                              TALLY06_SIGN_IN_PER_S="0.05", TALLY06_SIGN_IN_BURST="12")
    username = await make_user(database, Role.COMMUNE_FOCAL, "TH-03-C01")
    busy = await bearer(wallboard.url, await make_user(database, Role.DISTRICT_FOCAL, "TH-03"))
    calm = await bearer(wallboard.url, await make_user(database, Role.DISTRICT_FOCAL, "TH-03"))
    async with httpx.AsyncClient(base_url=wallboard.url, timeout=10) as client:
        # A user looping on the API is slowed; another user is not.
        answers = [await client.get("/v1/auth/me", headers=busy) for _ in range(12)]
        assert [a.status_code for a in answers[:10]] == [200] * 10
        assert answers[-1].status_code == 429 and int(answers[-1].headers["retry-after"]) >= 1
        assert (await client.get("/v1/auth/me", headers=calm)).status_code == 200

        for _ in range(5):
            wrong = await client.post("/v1/auth/token", json={"username": username, "password": "guess-guess"})
            assert wrong.status_code == 401
            assert wrong.json() == {"detail": [{"field": "password", "message": "wrong username or password"}]}
        locked = await client.post("/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= 31
        unknown = await client.post("/v1/auth/token", json={"username": "nobody-here", "password": PASSWORD})
        assert unknown.status_code == 401  # the same answer as a wrong password
        oversized = await client.post("/v1/auth/token", json={"username": "x" * 41, "password": PASSWORD})
        assert oversized.status_code == 422 and oversized.json()["detail"][0]["field"] == "body.username"
        huge = await client.post("/v1/auth/token", json={"username": "x", "password": "y" * 100_000})
        assert huge.status_code == 413
        # Whatever the usernames, one address gets a bounded number of tries: 12, and one more
        # every 20 s (2 sign-ins and 8 attempts so far; the too-large body was not one).
        answers = [(await client.post("/v1/auth/token", json={"username": f"guess-{n}", "password": "guess-guess"}))
                   for n in range(5)]
        codes = [a.status_code for a in answers]
        assert codes[0] == 401 and codes[-2:] == [429, 429] and set(codes) == {401, 429}, codes
        assert answers[-1].json()["detail"][0]["message"] == "too many sign-in attempts from this address"
        # Production mode: no interactive docs, no schema to browse.
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 404, path
