"""A spot check from the field's claims to the people who must act, on the real stack (ingest,
relay, aggregator, wallboard, notifier; real broker and PostgreSQL): claims posted over HTTP, a
draw and a failing outcome over the read API, and then, with nothing written by the test, the
alert reaching the commune's focal point and the district's, the commune's row marked in the
district's ranking, and the officer named in the officers' flags."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import httpx

from tally06.domain.accounts import Role
from tally06.domain.focal_points import FocalPointRow
from tally06.store.focal_points import load_focal_points
from tests.integration.wallboard.test_spot_check_access import RATE, post_activations
from tests.support.receivers import WebhookReceiver
from tests.support.sessions import bearer, make_user

SECRET = "khoa-webhook-chuoi"
CHECKED, DISTRICT = "TH-03-C02", "TH-03"
HOOKS = {CHECKED: "/xa", DISTRICT: "/huyen", "TH": "/tinh"}
# The chain runs on the real clock, at whatever hour the suite runs: without quiet hours, or from
# 22:30 to 07:00 Vietnam time the messages would wait for the morning (tests/unit cover those).
ANY_HOUR = {"TALLY06_QUIET_START": "00:00", "TALLY06_QUIET_END": "00:00"}


async def until(check: Callable[[], Awaitable[bool]], what: str, timeout_s: float = 60) -> None:
    for _ in range(int(timeout_s * 5)):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_failed_check_reaches_the_focal_points_the_ranking_and_the_flags(
        own_broker, database, db, start_service, make_token):
    hooks = await WebhookReceiver(SECRET.encode()).start()
    try:
        await load_focal_points(db, [FocalPointRow(u, f"Đầu mối {u}", "webhook", f"{hooks.url}{path}")
                                     for u, path in HOOKS.items()], replace=False)
        bootstrap = own_broker.bootstrap
        procs = [start_service(name, bootstrap=bootstrap, ready=False) for name in ("ingest", "relay", "aggregator")]
        procs.append(start_service("wallboard", bootstrap=bootstrap, ready=False, **RATE))
        procs.append(start_service("notifier", bootstrap=bootstrap, ready=False, TALLY06_NOTIFIER_TICK_S="0.5",
                                   TALLY06_NOTIFIER_DELIVER_S="0.3", TALLY06_WEBHOOK_SECRET=SECRET,
                                   **ANY_HOUR))
        for proc in procs:
            await asyncio.to_thread(proc.wait_ready, "/readyz", 60)
        ingest, wallboard = procs[0], procs[3]
        teams = {f"{CHECKED}-T1": 6, f"{CHECKED}-T2": 4, "TH-03-C01-T1": 3}
        await post_activations(ingest.url, {t: await make_token(t) for t in teams}, teams)
        district = await bearer(wallboard.url, await make_user(database, Role.DISTRICT_FOCAL, DISTRICT))

        async with httpx.AsyncClient(base_url=wallboard.url, timeout=30, headers=district) as api:
            drawn = await api.post("/v1/spot-checks", json={"unit": CHECKED, "n": 5, "d": 0})
            assert drawn.status_code == 201, drawn.text
            check_id = drawn.json()["id"]
            first = (await api.get(f"/v1/spot-checks/{check_id}/items")).json()["items"][0]
            # d = 0: one failing outcome settles it.
            answer = await api.post(f"/v1/spot-checks/{check_id}/items/0/outcomes",
                                    json={"id": str(uuid.uuid4()), "outcome": "not_guided"})
            assert answer.status_code == 201, answer.text
            assert answer.json()["check"]["status"] == "failed"

            async def alerted() -> bool:
                return sorted(p["path"] for p in hooks.posts) == sorted([HOOKS[CHECKED], HOOKS[DISTRICT]])

            await until(alerted, f"the alert at the commune and the district, got {[p['path'] for p in hooks.posts]}")
            payloads = [p["body"]["payload"] for p in hooks.posts]
            assert {(p["rule"], p["unit"]) for p in payloads} == {("spot_check_failed", CHECKED)}
            assert {p["detail"]["spot_check"]["id"] for p in payloads} == {check_id}

            entries = (await api.get(f"/v1/units/{DISTRICT}/children")).json()["entries"]
            marks = {e["unit"]["code"]: e["spot_check"] for e in entries}
            assert marks[CHECKED]["id"] == check_id and marks[CHECKED]["status"] == "failed"
            assert all(mark is None for code, mark in marks.items() if code != CHECKED)

            flags = [f for f in (await api.get("/v1/flags")).json() if f["kind"] == "spot_check"]
            assert [(f["officer"], f["team"], f["check_id"], f["outcome"], f["count"]) for f in flags] == [
                (first["officer"], first["team"], check_id, "not_guided", 1)]
        await asyncio.sleep(2)  # more evaluations and deliveries: still one message each
        assert len(hooks.posts) == 2
    finally:
        await hooks.stop()
