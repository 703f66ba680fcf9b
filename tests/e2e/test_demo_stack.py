"""`tally06 up --demo` end to end: embedded database and broker, services, simulator; events
reach the event store, the topic and the counters in the two-tier map, or in the 2023 map and
then through a reorganisation; SIGTERM stops everything cleanly."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys

import asyncpg
import httpx

from tally06.domain.accounts import Role
from tally06.domain.org import UnitKind
from tally06.imports.reference import demo_org, two_tier_communes, two_tier_org
from tally06.kit.ports import free_port, port_is_free
from tally06.simulator.plan import TeamRole, plan_teams
from tally06.store.device_tokens import issue_token
from tally06.store.users import create_user
from tests.support import factories
from tests.support.kafka import read_facts
from tests.support.services import LOG_DIR


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP")}
    env.pop("TALLY06_HMAC_KEY", None)
    env.pop("TALLY06_PII_KEYS", None)
    return env


def _launch(tmp_path, *options: str, backfill_hours: int = 10,
            env: dict[str, str] | None = None) -> tuple[subprocess.Popen, dict[str, int], object]:
    ports = {"ingest": free_port(), "aggregator": free_port(), "relay": free_port(), "pg": free_port(),
             "kafka": free_port(), "kafka_controller": free_port(), "notifier": free_port(), "wallboard": free_port()}
    log_path = tmp_path / "demo-stack.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the stack writes to it until the test stops it
    process = subprocess.Popen(
        [sys.executable, "-m", "tally06", "up", "--demo", "--home", str(tmp_path / "home"),
         "--ingest-port", str(ports["ingest"]), "--aggregator-port", str(ports["aggregator"]),
         "--relay-port", str(ports["relay"]), "--pg-port", str(ports["pg"]),
         "--notifier-port", str(ports["notifier"]), "--wallboard-port", str(ports["wallboard"]),
         "--kafka-port", str(ports["kafka"]), "--kafka-controller-port", str(ports["kafka_controller"]),
         "--speed", "3000", "--backfill-hours", str(backfill_hours), *options],
        env={**_env(), **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
    )
    return process, ports, log


def _stop(process: subprocess.Popen, log, log_path, name: str = "demo-stack.log") -> int:
    process.send_signal(signal.SIGTERM)
    code = process.wait(60)
    log.close()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(log_path, LOG_DIR / name)
    return code


async def _poll(process: subprocess.Popen, log_path, dsn: str, query: str, done, tries: int = 240):
    """The row ``query`` gives once ``done(row)`` holds (or the last one), every 0.5 s while the
    stack runs; the database may not answer yet at first."""
    row = None
    for _ in range(tries):
        await asyncio.sleep(0.5)
        assert process.poll() is None, log_path.read_text()[-3000:]
        try:
            conn = await asyncpg.connect(dsn)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            continue
        try:
            row = await conn.fetchrow(query)
        except (asyncpg.PostgresError, asyncpg.InterfaceError):  # e.g. the server restarting
            continue
        finally:
            await conn.close()
        if done(row):
            break
    return row


async def test_demo_brings_the_stack_up_and_events_flow(tmp_path):
    # A registry extract every 3 s instead of 20, so several are loaded while the test runs.
    process, ports, log = _launch(tmp_path, "--registry-every", "3")
    log_path = tmp_path / "demo-stack.log"
    try:
        dsn = f"postgresql://postgres@127.0.0.1:{ports['pg']}/tally06"
        row = await _poll(
            process, log_path, dsn,
            "SELECT (SELECT last_seq FROM event_seq) AS stored, position, "
            "(SELECT count(*) FROM daily_targets) AS daily, "
            # The targets of the live map's units: the two-tier communes' shares.
            "(SELECT sum(t.total) FROM campaign_targets t JOIN map_units u ON u.code = t.unit "
            " AND u.map_id = (SELECT map_id FROM read_model_map)) AS campaign, "
            "(SELECT coalesce(sum(credited + claims), 0) FROM unit_total WHERE unit = 'TH') AS counted "
            "FROM relay_state",
            lambda row: row["stored"] >= 500 and row["position"] >= 500 and row["counted"] >= 500)
        assert row and row["stored"] >= 500 and row["position"] >= 500 and row["counted"] >= 500, row
        assert (row["daily"], row["campaign"]) == (501, 3_243_976)
        facts = await read_facts(f"127.0.0.1:{ports['kafka']}", idle_s=1)
        assert len(facts) >= 500
        # The demo runs in the two-tier map: province → commune → team.
        assert {f["lineage"][1] for f in facts} <= {c.code for c in two_tier_communes()}
        assert {len(f["lineage"]) for f in facts} == {3}
        await _alerts_fire_for_lagging_teams(dsn)
        for _ in range(30):  # the terminal report runs every 5 s
            if "🔔" in log_path.read_text(errors="replace"):
                break
            await asyncio.sleep(0.5)
        assert "🔔" in log_path.read_text(errors="replace")
        await _the_registry_parts_claimed_and_confirmed(dsn, f"http://127.0.0.1:{ports['wallboard']}")
    finally:
        code = _stop(process, log, log_path)
    assert code == 0
    assert all(port_is_free("127.0.0.1", p) for p in ports.values())
    # The extracts were files for a moment only, and the terminal showed counts, never a CCCD.
    assert list((tmp_path / "home" / "registry-inbox").iterdir()) == []
    text = log_path.read_text(errors="replace")
    assert "registry extract as of" in text and "backlog goal: 100 %" in text, text[-3000:]
    assert not CCCD_LIKE.search(text)
    assert re.search(r"kafka_started .*rss_mb=\d+ seconds=[\d.]+", text), "start-up time and memory"
    await _a_restart_keeps_the_log(tmp_path, {f["event_id"] for f in facts})


async def _a_restart_keeps_the_log(tmp_path, published: set[str]) -> None:
    """Kafka's log is on disk in the home: started again, the stack finds the facts it published and
    the relay finds the message it published last, so it republishes nothing (epoch 0)."""
    process, ports, log = _launch(tmp_path, "--registry-every", "0")
    log_path = tmp_path / "demo-stack.log"
    try:
        dsn = f"postgresql://postgres@127.0.0.1:{ports['pg']}/tally06"
        first = 0

        def past_the_probe(row) -> bool:  # the relay probes its last message when it starts
            nonlocal first
            first = first or row["position"]
            return row["position"] > first

        row = await _poll(process, log_path, dsn, "SELECT position, broker_epoch FROM relay_state", past_the_probe)
        assert row["position"] > first and row["broker_epoch"] == 0, row
        kept = {f["event_id"] for f in await read_facts(f"127.0.0.1:{ports['kafka']}", idle_s=1)}
        assert published <= kept
    finally:
        code = _stop(process, log, log_path, "demo-stack-restarted.log")
    assert code == 0


async def test_demo_from_the_2023_map_reorganises_while_devices_post(tmp_path):
    """--demo-map 2023: districts at start; then the two-tier map takes effect today, the read
    model is re-summed in it while the simulator keeps posting, and the 2023 Appendix I for a
    cutoff before the switch comes out the same."""
    # A morning of work before the switch is enough, and keeps the test short; ingest looks for
    # a new map every 2 s instead of 30.
    process, ports, log = _launch(tmp_path, "--demo-map", "2023", "--switch-after", "2", backfill_hours=5,
                                  env={"TALLY06_ORG_REFRESH_S": "2"})
    log_path = tmp_path / "demo-stack.log"
    try:
        for _ in range(180):
            await asyncio.sleep(0.5)
            assert process.poll() is None, log_path.read_text()[-3000:]
            if "history carried over" in log_path.read_text(errors="replace"):
                break
        text = log_path.read_text(errors="replace")
        assert "reorganised" in text and "map 1 → map 2" in text, text[-3000:]
        assert "before the switch: unchanged" in " ".join(text.split()), text[-3000:]
        dsn = f"postgresql://postgres@127.0.0.1:{ports['pg']}/tally06"
        await _a_post_after_the_switch_counts_in_the_new_commune(dsn, f"http://127.0.0.1:{ports['ingest']}")
        await _the_read_model_sums_in_the_two_tier_map(dsn)
    finally:
        code = _stop(process, log, log_path, "demo-stack-reorganised.log")
    assert code == 0


async def _a_post_after_the_switch_counts_in_the_new_commune(dsn: str, ingest_url: str) -> None:
    """Ingest goes on: a team of a merged 2023 commune posts, and its fact carries the new map."""
    team = "TH-01-C01-T1"
    merged = next(c for c in two_tier_communes() if "TH-01-C01" in c.old_communes)
    conn = await asyncpg.connect(dsn)
    try:
        token = (await issue_token(conn, team, "e2e"))[1]
        # The demo's clock may run behind the wall's: events just before the latest one stored.
        moment = await conn.fetchval("SELECT max(occurred_at) FROM events") - dt.timedelta(minutes=1)
        async with httpx.AsyncClient(base_url=ingest_url, timeout=30) as client:
            for _ in range(20):  # until ingest has picked up the new map
                answer = (await client.post(
                    "/v1/events", json={"events": [factories.event(team=team, occurred_at=moment)]},
                    headers={"Authorization": f"Bearer {token}"})).raise_for_status().json()
                assert answer["totals"]["accepted"] == 1, answer
                seq = answer["results"][0]["seq"]
                row = await conn.fetchrow("SELECT fact_key, map_id, lineage FROM events WHERE seq = $1", seq)
                if row["map_id"] == 2:
                    break
                await asyncio.sleep(0.5)
        assert (row["fact_key"], row["map_id"], row["lineage"]) == (merged.code, 2, ["TH", merged.code, team])
        for _ in range(60):
            position = await conn.fetchval("SELECT position FROM projection_positions WHERE key = $1", merged.code)
            if position is not None and position >= seq:
                return
            await asyncio.sleep(0.5)
        raise AssertionError(f"the post after the switch (seq {seq}) was not counted under {merged.code}")
    finally:
        await conn.close()


async def _the_read_model_sums_in_the_two_tier_map(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT map_id FROM read_model_map") == 2
        # One snapshot: the aggregator writes officer and unit rows in one transaction.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            officers = await conn.fetch("SELECT team, sum(credited + claims) AS n FROM officer_total GROUP BY team")
            units = {r["unit"]: r["n"] for r in await conn.fetch(
                "SELECT unit, sum(credited + claims) AS n FROM unit_total GROUP BY unit")}
    finally:
        await conn.close()
    # Ground truth: every team's work, wherever it was counted, summed up the two-tier map.
    org, expected = two_tier_org(), {}
    for row in officers:
        for unit in org.lineage(row["team"]).codes:
            expected[unit] = expected.get(unit, 0) + row["n"]
    assert units == expected
    merged = next(c for c in two_tier_communes() if len(c.old_communes) > 1)
    assert units[merged.code] == sum(r["n"] for r in officers if r["team"].rsplit("-", 1)[0] in merged.old_communes)
    assert not set(units) & {u.code for u in demo_org().units(UnitKind.DISTRICT)}


async def _alerts_fire_for_lagging_teams(dsn: str) -> None:
    """The demo runs in a working afternoon, so the simulator's laggards are behind pace."""
    lagging = {p.team for p in plan_teams(demo_org(), seed=6) if p.role is TeamRole.LAGGING}
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(180):
            rows = await conn.fetch(
                "SELECT DISTINCT a.unit FROM alerts a JOIN notifications n ON n.alert_id = a.id "
                "WHERE a.rule = 'pace' AND n.state = 'sent'")
            if {r["unit"] for r in rows} & lagging:
                return
            await asyncio.sleep(0.5)
        raise AssertionError("no pace alert was sent for a lagging team")
    finally:
        await conn.close()


# The province's claims and the registry's word on them, as the read model holds them.
_CLAIMED_CONFIRMED = """
SELECT coalesce(sum(credited) FILTER (WHERE metric IN ('activated_l1', 'activated_l2')), 0) AS claimed,
       coalesce(sum(credited) FILTER (WHERE metric IN ('confirmed_l1', 'confirmed_l2')), 0) AS confirmed
FROM unit_total WHERE unit = 'TH'
"""
CCCD_LIKE = re.compile(r"(?<![0-9])0[0-9]{11}(?![0-9])")


async def _the_registry_parts_claimed_and_confirmed(dsn: str, wallboard_url: str) -> None:
    """The demo's registry extracts were loaded; claims are judged against them, the province
    shows fewer confirmed than claimed, and the read API has the funnel and the demo goal."""
    password = "e2e-registry-password-6"
    conn = await asyncpg.connect(dsn)
    try:
        await create_user(conn, "e2e-registry", "E2E operator", Role.PROVINCE_OPERATOR, "TH", password)
        for _ in range(120):
            extracts = await conn.fetchrow("SELECT count(*) AS n, coalesce(sum(rows), 0) AS rows "
                                           "FROM registry_extracts WHERE source = 'demo: national registry extract'")
            figures = await conn.fetchrow(_CLAIMED_CONFIRMED)
            if extracts["n"] >= 2 and figures["claimed"] > figures["confirmed"] > 0:
                break
            await asyncio.sleep(0.5)
        assert extracts["n"] >= 2 and extracts["rows"] > 0, dict(extracts)
        assert figures["claimed"] > figures["confirmed"] > 0, dict(figures)
        # Independently of the counters: the judged claims, one row each, agree with them.
        states = await conn.fetchval("SELECT count(*) FILTER (WHERE state = 'confirmed') FROM claim_states")
        assert states > 0
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=wallboard_url, timeout=30) as client:
        session = (await client.post("/v1/auth/token", json={"username": "e2e-registry", "password": password}))
        headers = {"Authorization": f"Bearer {session.raise_for_status().json()['access_token']}"}
        funnel = (await client.get("/v1/units/TH/funnel", headers=headers)).raise_for_status().json()
        stages = {s["stage"]: s["count"] for s in funnel["stages"]}
        assert stages["collected"] >= stages["approved"] > stages["activated"] > 0, stages
        goals = (await client.get("/v1/units/TH/goals", headers=headers)).raise_for_status().json()["goals"]
        assert [(g["list"], g["share"]) for g in goals] == [("approved_not_activated", 100.0)], goals
        assert goals[0]["baseline"] > 0
        confirmation = await client.get("/v1/units/TH/confirmation", headers=headers)
        if confirmation.status_code != 404:  # the confirmation route (issue 17 part 3), once merged
            body = confirmation.raise_for_status().json()
            assert body["claimed"]["total"] > body["confirmed"]["total"] > 0, body


def test_a_taken_port_stops_start_up_with_a_clear_message(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "tally06", "up", "--home", str(tmp_path / "home"),
             "--ingest-port", str(taken), "--pg-port", str(free_port()), "--kafka-port", str(free_port()),
             "--kafka-controller-port", str(free_port())],
            env=_env(), capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 3
    assert f"port {taken}" in result.stderr and "already in use" in result.stderr
