"""The read API against figures computed independently from the events posted over HTTP, and the
live stream delivering a change within 2 seconds of its acceptance.

One stack (ingest, relay, aggregator, wallboard) for the whole module's scenario: starting it is
most of the cost, and every figure below is checked against the same posted events.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from fractions import Fraction
from zoneinfo import ZoneInfo

import httpx

from tally06.domain.ack_links import ack_key, ack_token
from tally06.domain.targets import DailyTarget
from tally06.imports.reference import PLAN70_START, appendix1, appendix1_targets
from tally06.store.targets import save_campaign_targets, save_daily_targets
from tests.conftest import TEST_KEYS
from tests.integration.wallboard.expected import Truth, ranks, shown
from tests.support import factories, ground_truth
from tests.support.sessions import signed_in
from tests.support.sse import sse_events

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SHARE = 7.5 / 14.5  # 15:00 local: 7.5 h of the 07:30-22:00 working day
DAYS_LEFT = 10

# Activations per (team, days before today, level): TH-04 and TH-03 climb past others today.
PLAN = {
    ("TH-01-C01-T1", 1, 1): 6, ("TH-01-C01-T1", 3, 2): 4, ("TH-01-C01-T1", 0, 1): 2,
    ("TH-02-C01-T1", 2, 1): 6,
    ("TH-04-C01-T1", 5, 2): 1, ("TH-04-C01-T1", 0, 1): 3,
    ("TH-03-C01-T1", 1, 1): 1, ("TH-03-C01-T1", 0, 2): 4, ("TH-03-C01-T1", 8, 1): 3, ("TH-03-C01-T1", 20, 2): 2,
    ("TH-03-C01-T2", 0, 1): 2, ("TH-03-C01-T2", 6, 2): 1,
    ("TH-03-C02-T1", 0, 1): 2, ("TH-03-C02-T1", 4, 1): 1,
}
TEAMS = sorted({team for team, _, _ in PLAN})


def occurred(today: dt.date, days_back: int, now: dt.datetime) -> dt.datetime:
    if days_back == 0:
        return now
    return dt.datetime.combine(today - dt.timedelta(days=days_back), dt.time(12, 0), VN)


class Field:
    """Field devices of the scenario, remembering every accepted event for the ground truth."""

    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        self.url, self.tokens = url, tokens
        self.accepted: list[tuple[int, dict]] = []

    async def post(self, team: str, events: list[dict]) -> float:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(f"{self.url}/v1/events", json={"events": events},
                                         headers={"Authorization": f"Bearer {self.tokens[team]}"})
        accepted_at = time.monotonic()
        response.raise_for_status()
        for result in response.json()["results"]:
            assert result["status"] == "accepted", result
            self.accepted.append((result["seq"], events[result["index"]]))
        return accepted_at


async def seed_targets(db, today: dt.date) -> None:
    await save_campaign_targets(db, appendix1_targets(), source="test", valid_from=PLAN70_START)
    month_ago = today - dt.timedelta(days=30)
    await save_daily_targets(db, [
        DailyTarget("TH-03-C01-T1", "activated", 40),
        DailyTarget("TH-03-C01-T2", "activated_l1", 10), DailyTarget("TH-03-C01-T2", "activated_l2", 5),
        DailyTarget("TH-03-C01-T2", "collected_l2", 99),  # not an activation target
        DailyTarget("TH-03-C02", "activated", 100),        # the commune's own target wins over its teams'
        DailyTarget("TH-03-C02-T1", "activated", 30),
        DailyTarget("TH-01-C01-T1", "activated", 20),
    ], source="test", valid_from=month_ago)
    # A new version from two days ago: the trend judges each day by the target of that day.
    await save_daily_targets(db, [DailyTarget("TH-03-C01-T1", "activated", 60)], source="test",
                             valid_from=today - dt.timedelta(days=2))


def targets_on(day: dt.date, today: dt.date) -> dict[str, int]:
    t1 = 60 if day >= today - dt.timedelta(days=2) else 40
    commune1 = t1 + 15
    return {"TH-03-C01-T1": t1, "TH-03-C01-T2": 15, "TH-03-C01": commune1, "TH-03-C02": 100,
            "TH-03-C02-T1": 30, "TH-03": commune1 + 100, "TH-01-C01-T1": 20, "TH-01-C01": 20, "TH-01": 20,
            "TH": commune1 + 100 + 20}


GOALS = {d.code: (d.target_total, d.target_level1, d.target_level2) for d in appendix1()}
GOALS["TH"] = tuple(sum(g[i] for g in GOALS.values()) for i in range(3))


async def post_scenario(field: Field, today: dt.date, now: dt.datetime) -> None:
    credited: list[tuple[str, dict]] = []
    for (team, back, level), n in sorted(PLAN.items()):
        events = [factories.event(team=team, level=level, occurred_at=occurred(today, back, now),
                                  officer=f"CA-{team}") for _ in range(n)]
        # Work that is not an activation must not count as one.
        events.append(factories.event(team=team, type="app_installed", level=None, occurred_at=occurred(today, back, now)))
        events.append(factories.event(team=team, type="registration_collected", level=2,
                                      occurred_at=occurred(today, back, now)))
        await field.post(team, events)
        credited += [(team, e) for e in events[:n]]
    # Duplicate claims: another team reports a citizen already credited, today and on an earlier day.
    first_of = {}
    for team, event in credited:
        first_of.setdefault(team, event)
    for claimer, owner, back in [("TH-03-C01-T2", "TH-01-C01-T1", 0), ("TH-02-C01-T1", "TH-03-C01-T1", 0),
                                 ("TH-03-C01-T1", "TH-03-C02-T1", 3)]:
        original = first_of[owner]
        await field.post(claimer, [factories.event(team=claimer, level=original["level"], occurred_at=occurred(today, back, now),
                                                   citizen_body=original["citizen"])])


async def wait_for(client: httpx.AsyncClient, path: str, check, timeout_s: float = 30) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        body = (await client.get(path)).json()
        if check(body) or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.2)


async def test_read_api_equals_figures_computed_from_the_posted_events(own_broker, database, db, start_service,
                                                                       make_token, tmp_path):
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    today = now.astimezone(VN).date()
    moment = dt.datetime.combine(today, dt.time(15, 0), VN)
    clock = tmp_path / "clock"
    clock.write_text(moment.isoformat())
    await seed_targets(db, today)

    # A broker of its own: an aggregator counts every fact on its topic, other tests' included.
    bootstrap = own_broker.bootstrap
    procs = [start_service(name, bootstrap=bootstrap, ready=False) for name in ("ingest", "relay", "aggregator")]
    procs.append(start_service("wallboard", bootstrap=bootstrap, ready=False, TALLY06_CLOCK=f"file:{clock}",
                               TALLY06_CAMPAIGN_DEADLINE=(today + dt.timedelta(days=DAYS_LEFT - 1)).isoformat(),
                               TALLY06_HEARTBEAT_S="1"))
    for proc in procs:
        await asyncio.to_thread(proc.wait_ready, "/readyz", 60)
    ingest, wallboard = procs[0], procs[3]
    field = Field(ingest.url, {team: await make_token(team) for team in TEAMS})
    await post_scenario(field, today, now)
    truth = Truth(ground_truth.count(field.accepted), today)

    operator = await signed_in(database, wallboard.url, name="Trần Văn Bình")
    async with httpx.AsyncClient(base_url=wallboard.url, timeout=10, headers=operator) as api:
        province = await wait_for(api, "/v1/units/TH/progress", lambda b: (
            b["campaign"]["activated"]["total"] == truth.cumulative("TH")
            and b["duplicate_claims"]["total"] == truth.claims_total("TH")))
        assert province["as_of"].startswith(moment.astimezone(dt.UTC).isoformat()[:19])
        assert [u["code"] for u in province["path"]] == ["TH"]

        # Every figure of every unit on the way from the teams to the province.
        targets = targets_on(today, today)
        for code in ["TH", "TH-01", "TH-02", "TH-03", "TH-04", "TH-03-C01", "TH-03-C02", "TH-03-C01-T1", "TH-03-C01-T2"]:
            progress = (await api.get(f"/v1/units/{code}/progress")).json()
            expected = truth.figures(code, GOALS.get(code), targets.get(code), SHARE, DAYS_LEFT)
            assert shown(progress) == expected, code
            assert progress["campaign"]["days_left"] == DAYS_LEFT
            assert progress["campaign"]["target"] == (
                dict(zip(("total", "level1", "level2"), GOALS[code], strict=True)) if code in GOALS else None)
        assert truth.on("TH-03-C01-T1", today) > 0 and truth.claims_total("TH") >= 3

        # The districts, ranked by completion, with rank change since 00:00.
        board = (await api.get("/v1/leaderboard", params={"level": "district"})).json()
        assert board["ranked_by"] == "completion_pct" and len(board["entries"]) == 27
        now_scores = {d: Fraction(truth.cumulative(d), GOALS[d][0]) for d in GOALS if d != "TH"}
        start_scores = {d: Fraction(truth.cumulative(d) - truth.on(d, today), GOALS[d][0]) for d in now_scores}
        want_now, want_start = ranks(now_scores), ranks(start_scores)
        got = {e["unit"]["code"]: (e["rank"], e["rank_start_of_day"], e["rank_change"]) for e in board["entries"]}
        assert got == {d: (want_now[d], want_start[d], want_start[d] - want_now[d]) for d in now_scores}
        assert got["TH-04"][2] > 0 and got["TH-02"][2] < 0  # the scenario moves ranks
        assert [e["rank"] for e in board["entries"]] == sorted(e["rank"] for e in board["entries"])

        # Children of a district: communes have no campaign target, so they rank by activations.
        children = (await api.get("/v1/units/TH-03/children")).json()
        assert (children["ranked_by"], children["level"], children["parent"]["code"]) == ("activated", "commune", "TH-03")
        communes = [e["unit"]["code"] for e in children["entries"]]
        assert sorted(communes) == [f"TH-03-C0{n}" for n in range(1, 6)]
        want = ranks({c: truth.cumulative(c) for c in communes})
        for entry in children["entries"]:
            code = entry["unit"]["code"]
            assert entry["rank"] == want[code]
            assert shown(entry) == truth.figures(code, None, targets.get(code), SHARE, DAYS_LEFT), code
        teams = (await api.get("/v1/leaderboard", params={"level": "team", "parent": "TH-03"})).json()
        assert len(teams["entries"]) == 15
        assert {e["unit"]["code"]: e["today"]["activated"] for e in teams["entries"] if e["today"]["activated"]} == {
            t: truth.on(t, today) for t in TEAMS if t.startswith("TH-03") and truth.on(t, today)}

        # 14 days of TH-03: quiet days are 0, each day judged by that day's target.
        trend = (await api.get("/v1/units/TH-03/trend", params={"days": 14})).json()
        days = [today - dt.timedelta(days=k) for k in range(13, -1, -1)]
        assert trend["days"] == [
            {"day": d.isoformat(), "activated": truth.on("TH-03", d), "target": targets_on(d, today)["TH-03"],
             "claims": truth.claims_on("TH-03", d)} for d in days]

        # Errors keep the service's shape.
        missing = await api.get("/v1/units/XX-99/progress")
        assert missing.status_code == 404
        assert missing.json() == {"detail": [{"field": "code", "message": "'XX-99' is not a known unit"}]}
        assert (await api.get("/v1/leaderboard", params={"level": "village"})).status_code == 422
        assert "/v1/units/{code}/progress" in (await api.get("/openapi.json")).json()["paths"]

        await check_alerts(api, db, database, today)
        await check_stream(api, db, field, today, now)


async def check_alerts(api: httpx.AsyncClient, db, database: str, today: dt.date) -> None:
    """Alerts as the notifier writes them; filters, acknowledgement and the one-tap link."""
    person = await db.fetchval(
        "INSERT INTO focal_points (unit, name, channel, address) VALUES ('TH-03-C01', 'Lê Thị Hoa', 'console', 'hoa') "
        "RETURNING id")
    ids = {}
    for unit, status, day in [("TH-03-C01-T1", "open", today), ("TH-03-C02-T1", "resolved", today),
                              ("TH-01-C01-T1", "open", today), ("TH-03-C01-T2", "open", today - dt.timedelta(days=1))]:
        ids[unit] = await db.fetchval(
            "INSERT INTO alerts (unit, rule, day, status, opened_at, last_opened_at, updated_at, detail) "
            "VALUES ($1, 'pace', $2, $3, now(), now(), now(), '{\"expected\": 30, \"actual\": 4}') RETURNING id",
            unit, day, status)
    listed = (await api.get("/v1/alerts", params={"unit": "TH-03", "status": "open", "day": today.isoformat()})).json()
    assert [a["id"] for a in listed] == [ids["TH-03-C01-T1"]]
    assert listed[0]["detail"] == {"expected": 30, "actual": 4} and listed[0]["unit_kind"] == "team"
    assert {a["id"] for a in (await api.get("/v1/alerts", params={"unit": "TH-03"})).json()} == {
        ids["TH-03-C01-T1"], ids["TH-03-C02-T1"], ids["TH-03-C01-T2"]}
    assert len((await api.get("/v1/alerts", params={"unit": "TH", "status": "open"})).json()) == 3
    assert (await api.get("/v1/alerts", params={"unit": "NOPE"})).status_code == 404

    # Acknowledged as the signed-in user (the operator of this test is "Trần Văn Bình").
    acked = await api.post(f"/v1/alerts/{ids['TH-01-C01-T1']}/ack")
    assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "Trần Văn Bình"
    someone_else = await signed_in(database, str(api.base_url).rstrip("/"), name="Someone Else")
    again = (await api.post(f"/v1/alerts/{ids['TH-01-C01-T1']}/ack", headers=someone_else)).json()
    assert again["acknowledged_by"] == "Trần Văn Bình"  # the first acknowledgement counts
    assert (await api.post("/v1/alerts/999999/ack")).status_code == 404

    key = ack_key(TEST_KEYS["TALLY06_HMAC_KEY"])
    alert_id = ids["TH-03-C01-T1"]
    forged = await api.get(f"/v1/alerts/{alert_id}/ack", params={"recipient": person, "token": "0" * 32})
    assert forged.status_code == 403
    assert (await api.get(f"/v1/alerts/{alert_id}")).json()["acknowledged_at"] is None
    link = await api.get(f"/v1/alerts/{alert_id}/ack", params={"recipient": person, "token": ack_token(key, alert_id, person)})
    assert link.status_code == 200 and link.headers["content-type"].startswith("text/html")
    assert 'data-ack="done"' in link.text and "Lê Thị Hoa" in link.text
    assert (await api.get(f"/v1/alerts/{alert_id}")).json()["acknowledged_by"] == "Lê Thị Hoa"
    # A link for another alert does not acknowledge this one.
    other = ids["TH-03-C01-T2"]
    assert (await api.get(f"/v1/alerts/{other}/ack", params={"recipient": person,
                                                             "token": ack_token(key, alert_id, person)})).status_code == 403


async def check_stream(api: httpx.AsyncClient, db, field: Field, today: dt.date, now: dt.datetime) -> None:
    """A posted event reaches an open stream within 2 s of its acceptance; so does an alert change."""
    team = "TH-03-C01-T1"
    before = ground_truth.count(field.accepted)["unit_total"][(team, "activated_l2", "credited")]
    async with api.stream("GET", "/v1/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
        kind, hello, _ = await anext(events)
        assert kind == "hello" and hello["feed"] == "ok"
        accepted_at = await field.post(team, [factories.event(team=team, level=2, occurred_at=dt.datetime.now(dt.UTC))])
        arrived = None
        async with asyncio.timeout(10):
            async for kind, data, at in events:
                if kind == "progress" and data["unit"] == team and data["total"].get("activated_l2", {}).get("credited") == before + 1:
                    arrived = at
                    break
        assert arrived is not None and arrived - accepted_at < 2.0, arrived and arrived - accepted_at

        await db.execute("UPDATE alerts SET status = 'resolved', resolved_at = now(), updated_at = now() "
                         "WHERE unit = 'TH-03-C01-T1'")
        changed_at = time.monotonic()
        async with asyncio.timeout(5):
            async for kind, data, at in events:
                if kind == "alert" and data["unit"] == team and data["status"] == "resolved":
                    assert at - changed_at < 2.0
                    break
                if kind == "heartbeat":
                    assert data["feed"] == "ok"
    progress = (await api.get(f"/v1/units/{team}/progress")).json()
    assert progress["campaign"]["activated"]["level2"] == before + 1
