"""Claims and registry extracts in every order give the states and counters a person would work
out by hand from the documented rules, live and after ``tally06 rebuild``.

The ground truth here reads the rules of docs/registry.md (a window of 3 days before and 7 after
the claim's day; the window has passed once an extract is as of a later day) and applies them to
the posted events and the extract rows, without tally06 code.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from tests.support import factories, ground_truth
from tests.support.cli import tally06

VN = ZoneInfo("Asia/Ho_Chi_Minh")
BEFORE, AFTER = 3, 7
TEAM_A, TEAM_B = "TH-03-C01-T1", "TH-14-C01-T2"
COLUMNS = ["cccd", "full_name", "phone", "status", "level", "collected_on", "approved_on", "activated_on",
           "rejected_on", "commune", "village"]


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=VN)


class Scene:
    """Citizens, the claims posted for them and the extract rows that speak of them."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.accepted: list[tuple[int, dict]] = []
        self.extract_days: list[dt.date] = []

    def day(self, back: int) -> dt.date:
        return self.today - dt.timedelta(days=back)

    def claim(self, person: dict, back: int, level: int, team: str = TEAM_A) -> dict:
        return factories.event(team=team, type="account_activated", level=level, occurred_at=noon(self.day(back)),
                               officer=f"CA-{team}", citizen_body=person)

    def row(self, person: dict, status: str, level: int, commune: str = "TH-03-C01", **days: int) -> dict:
        row = {"cccd": person["id_number"], "full_name": person["full_name"], "phone": person["phone"],
               "status": status, "level": str(level), "commune": commune, "village": ""}
        for stage in ("collected_on", "approved_on", "activated_on", "rejected_on"):
            row[stage] = self.day(days[stage]).isoformat() if stage in days else ""
        return row

    async def post(self, client: httpx.AsyncClient, token: str, events: list[dict]) -> None:
        response = await client.post("/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        for result in response.json()["results"]:
            assert result["status"] == "accepted", result
            self.accepted.append((result["seq"], events[result["index"]]))

    async def load(self, database: str, path: Path, rows: list[dict], as_of: dt.datetime) -> str:
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        code, out, err = await tally06(database, "registry", "import", str(path), "--as-of", as_of.isoformat())
        assert code == 0, out + err
        self.extract_days.append(as_of.astimezone(VN).date())
        return out


def expected(scene: Scene, registry: dict[str, dict]) -> tuple[dict[str, Counter], dict[int, str]]:
    """Counters (event and registry metrics) and the state of each credited claim, by hand."""
    counts = ground_truth.count(scene.accepted, registry_pending=False)
    states: dict[int, str] = {}
    credited: set[str] = set()
    claimed_citizens: set[str] = set()
    as_of = max(scene.extract_days)
    for seq, event in sorted(scene.accepted, key=lambda item: item[0]):
        if event["type"] != "account_activated":
            continue
        cccd, level = event["citizen"]["id_number"], event["level"]
        claimed_citizens.add(cccd)
        if (cccd, level) in credited:
            continue
        credited.add((cccd, level))
        day = dt.datetime.fromisoformat(event["occurred_at"]).astimezone(VN).date()
        start, end = day - dt.timedelta(days=BEFORE), day + dt.timedelta(days=AFTER)
        row = registry.get(cccd)
        activated = dt.date.fromisoformat(row["activated_on"]) if row and row["activated_on"] else None
        if activated is None:
            state = "unconfirmed" if as_of > end else "pending"
        elif activated < start:
            state = "already_active"
        elif activated > end:
            state = "unconfirmed"
        elif int(row["level"]) != level:
            state = "level_differs"
        else:
            state = "confirmed"
        states[seq] = state
        metric = f"{state}_l{level}"
        for unit in ground_truth.units_of(event["team"]):
            counts["unit_daily"][(unit, day, metric, "credited")] += 1
            counts["unit_total"][(unit, metric, "credited")] += 1
        counts["officer_total"][(event["team"], event["officer"], metric, "credited")] += 1
    for cccd, row in registry.items():
        if row["activated_on"] and cccd not in claimed_citizens:
            metric, day = f"unclaimed_l{row['level']}", dt.date.fromisoformat(row["activated_on"])
            parts = row["commune"].split("-")  # TH-03-C02 -> TH, TH-03, TH-03-C02
            for unit in ("-".join(parts[:n]) for n in (1, 2, 3)):
                counts["unit_daily"][(unit, day, metric, "credited")] += 1
                counts["unit_total"][(unit, metric, "credited")] += 1
    return counts, states


async def assert_judged(database: str, scene: Scene, registry: dict[str, dict], timeout_s: float = 60) -> None:
    counts, states = expected(scene, registry)
    conn = await asyncpg.connect(database)
    try:
        for _ in range(int(timeout_s * 4)):
            actual = await ground_truth.read_model(conn)
            judged = {r["seq"]: r["state"] for r in await conn.fetch("SELECT seq, state FROM claim_states")}
            if actual == counts and judged == states:
                return
            await asyncio.sleep(0.25)
        assert judged == states
        for name in counts:
            assert counts[name] == actual[name], (name, list((counts[name] - actual[name]).items())[:6],
                                                   list((actual[name] - counts[name]).items())[:6])
    finally:
        await conn.close()


async def test_claims_and_extracts_in_every_order(start_service, make_token, database, tmp_path):
    ingest = start_service("ingest")
    start_service("relay")
    start_service("aggregator")
    scene = Scene(dt.datetime.now(VN).date())
    people = {name: factories.citizen() for name in (
        "extract_first", "claim_first", "already_active", "late_claim", "never", "fresh", "level_differs",
        "unclaimed", "approved_then_activated", "duplicate", "unclaimed_then_claimed")}
    p = people
    tokens = {team: await make_token(team) for team in (TEAM_A, TEAM_B)}
    first_extract = [
        scene.row(p["extract_first"], "activated", 1, collected_on=14, activated_on=12),
        scene.row(p["already_active"], "activated", 1, collected_on=70, activated_on=60),
        scene.row(p["approved_then_activated"], "approved", 2, collected_on=16, approved_on=13),
        scene.row(p["unclaimed_then_claimed"], "activated", 1, collected_on=13, activated_on=12),
    ]
    # Overlaps the first: two rows again unchanged, one moved on, and new citizens.
    second_extract = [
        first_extract[0], first_extract[1],
        scene.row(p["approved_then_activated"], "activated", 2, collected_on=16, approved_on=13, activated_on=11),
        scene.row(p["claim_first"], "activated", 2, collected_on=13, approved_on=12, activated_on=11),
        scene.row(p["late_claim"], "activated", 1, collected_on=9, activated_on=8),
        scene.row(p["level_differs"], "activated", 2, collected_on=14, approved_on=13, activated_on=12),
        scene.row(p["unclaimed"], "activated", 2, commune="TH-03-C02", collected_on=12, approved_on=11,
                  activated_on=10),
        scene.row(p["duplicate"], "activated", 1, collected_on=12, activated_on=11),
    ]
    async with httpx.AsyncClient(base_url=ingest.url, timeout=10) as client:
        # Claims before any extract: every one pending.
        await scene.post(client, tokens[TEAM_A], [
            scene.claim(p["claim_first"], 12, 2), scene.claim(p["already_active"], 12, 1),
            scene.claim(p["never"], 12, 1), scene.claim(p["level_differs"], 12, 1),
            scene.claim(p["approved_then_activated"], 12, 2), scene.claim(p["duplicate"], 11, 1)])
        await scene.post(client, tokens[TEAM_B], [scene.claim(p["fresh"], 1, 1, TEAM_B),
                                                  scene.claim(p["duplicate"], 10, 1, TEAM_B)])
        await scene.load(database, tmp_path / "first.csv", first_extract, noon(scene.day(10)))
        registry = {row["cccd"]: row for row in first_extract}
        await assert_judged(database, scene, registry)
        # Claims after the extract that speaks of them, one of them late.
        await scene.post(client, tokens[TEAM_B], [
            scene.claim(p["extract_first"], 12, 1, TEAM_B), scene.claim(p["late_claim"], 9, 1, TEAM_B),
            scene.claim(p["unclaimed_then_claimed"], 12, 1, TEAM_B)])
        await assert_judged(database, scene, registry)
    second = tmp_path / "second.csv"
    await scene.load(database, second, second_extract, dt.datetime.now(VN) - dt.timedelta(hours=1))
    registry.update({row["cccd"]: row for row in second_extract})
    await assert_judged(database, scene, registry)
    states = Counter(expected(scene, registry)[1].values())
    assert states == {"confirmed": 6, "already_active": 1, "unconfirmed": 1, "pending": 1, "level_differs": 1}

    # The same file again changes nothing.
    code, out, err = await tally06(database, "registry", "import", str(second), "--as-of",
                                   (dt.datetime.now(VN) - dt.timedelta(hours=1)).isoformat())
    assert code == 0, out + err
    await assert_judged(database, scene, registry)

    code, out, err = await tally06(database, "rebuild")
    assert code == 0, out + err
    await assert_judged(database, scene, registry, timeout_s=5)
