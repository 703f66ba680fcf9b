"""`tally06 up --demo` end to end: embedded database and broker, services, simulator; events
reach the event store, the topic and the counters; SIGTERM stops everything cleanly."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys

import asyncpg

from tally06.imports.reference import demo_org
from tally06.kit.ports import free_port, port_is_free
from tally06.simulator.plan import TeamRole, plan_teams
from tests.support.kafka import read_facts
from tests.support.services import LOG_DIR


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP")}
    env.pop("TALLY06_HMAC_KEY", None)
    env.pop("TALLY06_PII_KEYS", None)
    return env


async def test_demo_brings_the_stack_up_and_events_flow(tmp_path):
    ports = {"ingest": free_port(), "aggregator": free_port(), "relay": free_port(), "pg": free_port(),
             "kafka": free_port(), "notifier": free_port(), "wallboard": free_port()}
    log_path = tmp_path / "demo-stack.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the stack writes to it until the test stops it
    process = subprocess.Popen(
        [sys.executable, "-m", "tally06", "up", "--demo", "--home", str(tmp_path / "home"),
         "--ingest-port", str(ports["ingest"]), "--aggregator-port", str(ports["aggregator"]),
         "--relay-port", str(ports["relay"]), "--pg-port", str(ports["pg"]),
         "--notifier-port", str(ports["notifier"]), "--wallboard-port", str(ports["wallboard"]),
         "--kafka-port", str(ports["kafka"]), "--speed", "3000", "--backfill-hours", "10"],
        env=_env(), stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        dsn = f"postgresql://postgres@127.0.0.1:{ports['pg']}/tally06"
        row = None
        for _ in range(240):
            await asyncio.sleep(0.5)
            assert process.poll() is None, log_path.read_text()[-3000:]
            try:
                conn = await asyncpg.connect(dsn)
            except (OSError, asyncpg.PostgresError):
                continue
            try:
                row = await conn.fetchrow(
                    "SELECT (SELECT last_seq FROM event_seq) AS stored, position, "
                    "(SELECT count(*) FROM daily_targets) AS daily, "
                    "(SELECT sum(total) FROM campaign_targets) AS campaign, "
                    "(SELECT coalesce(sum(credited + claims), 0) FROM unit_total WHERE unit = 'TH') AS counted "
                    "FROM relay_state")
            except asyncpg.PostgresError:
                continue
            finally:
                await conn.close()
            if row["stored"] >= 500 and row["position"] >= 500 and row["counted"] >= 500:
                break
        assert row and row["stored"] >= 500 and row["position"] >= 500 and row["counted"] >= 500, row
        assert (row["daily"], row["campaign"]) == (501, 3_243_976)
        facts = await read_facts(f"127.0.0.1:{ports['kafka']}", idle_s=1)
        assert len(facts) >= 500
        assert {f["lineage"][1] for f in facts} <= {f"TH-{n:02d}" for n in range(1, 28)}
        await _alerts_fire_for_lagging_teams(dsn)
        for _ in range(30):  # the terminal report runs every 5 s
            if "🔔" in log_path.read_text(errors="replace"):
                break
            await asyncio.sleep(0.5)
        assert "🔔" in log_path.read_text(errors="replace")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
        log.close()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copy(log_path, LOG_DIR / "demo-stack.log")
    assert code == 0
    assert all(port_is_free("127.0.0.1", p) for p in ports.values())


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


def test_a_taken_port_stops_start_up_with_a_clear_message(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "tally06", "up", "--home", str(tmp_path / "home"),
             "--ingest-port", str(taken), "--pg-port", str(free_port()), "--kafka-port", str(free_port())],
            env=_env(), capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 3
    assert f"port {taken}" in result.stderr and "already in use" in result.stderr
