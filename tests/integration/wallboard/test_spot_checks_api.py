"""A spot check end to end on the real stack: activation claims posted over HTTP to ingest
(relayed and counted by the aggregator), a draw over the read API whose population and sample are
recomputed here from the posted claims, two verifiers recording outcomes at once (overlapping
items, retries, a conflict), each outcome stored exactly once, and the verdict reaching the unit's
answer and the check's own answer for the commune's focal point."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid

import httpx

from tally06.domain.accounts import Role
from tests.integration.wallboard.test_spot_check_access import RATE, post_activations
from tests.support.sessions import bearer, make_user

CHECKED = "TH-03-C02"
SEED = bytes(range(16))


def draw_order(seed: bytes, seqs: list[int]) -> list[int]:
    """The documented draw (docs/spot-checks.md), written out again: smallest HMAC-SHA256 first."""
    return sorted(seqs, key=lambda s: (hmac.new(seed, str(s).encode(), hashlib.sha256).digest(), s))


async def test_a_check_from_posted_claims_to_its_verdict(own_broker, database, db, start_service, make_token):
    bootstrap = own_broker.bootstrap
    procs = [start_service(name, bootstrap=bootstrap, ready=False) for name in ("ingest", "relay", "aggregator")]
    procs.append(start_service("wallboard", bootstrap=bootstrap, ready=False, **RATE))
    for proc in procs:
        await asyncio.to_thread(proc.wait_ready, "/readyz", 60)
    ingest, wallboard = procs[0], procs[3]
    teams = {"TH-03-C02-T1": 7, "TH-03-C02-T2": 5, "TH-03-C01-T1": 4}
    posted = await post_activations(ingest.url, {t: await make_token(t) for t in teams}, teams)
    population = posted.seqs_under(CHECKED)
    district = await bearer(wallboard.url, district_name := await make_user(database, Role.DISTRICT_FOCAL, "TH-03"))
    province = await bearer(wallboard.url, province_name := await make_user(database, Role.PROVINCE_OPERATOR, "TH"))
    commune = await bearer(wallboard.url, await make_user(database, Role.COMMUNE_FOCAL, CHECKED))

    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30) as api:
        answer = await api.post("/v1/spot-checks", headers=district,
                                json={"unit": CHECKED, "population": "credited", "n": 4, "d": 1, "seed": SEED.hex()})
        assert answer.status_code == 201, answer.text
        check = answer.json()
        check_id = check["id"]
        assert (check["population_size"], check["seed"]) == (len(population), SEED.hex())
        assert check["population_digest"] == hashlib.sha256("\n".join(map(str, population)).encode()).hexdigest()
        order = draw_order(SEED, population)[:4 + 3]
        replay = (await api.get(f"/v1/spot-checks/{check_id}/replay", headers=province)).json()
        assert replay["same"] and replay["sample"] == order and replay["digest_now"] == check["population_digest"]
        # The commune does not know it is being checked.
        assert (await api.get(f"/v1/spot-checks/{check_id}", headers=commune)).status_code == 404
        assert (await api.get(f"/v1/units/{CHECKED}/spot-check", headers=commune)).json()["last"] is None

        items = (await api.get(f"/v1/spot-checks/{check_id}/items", headers=district,
                               params={"clear": "true"})).json()["items"]
        assert [i["rank"] for i in items] == list(range(7)) and [i["reserve"] for i in items] == [False] * 4 + [True] * 3
        by_seq = {seq: team for team, seqs in posted.credited.items() for seq in seqs}
        assert [i["team"] for i in items] == [by_seq[s] for s in order]

        # Rank 0 is unreachable after three tries by either verifier: the first reserve (rank 4)
        # takes its place. Rank 1 is sent by both with one id (a shared queue), rank 2 retried by
        # its verifier, and rank 4 gets two different findings at once: one wins, one is told.
        ids = {name: uuid.uuid4() for name in ("t1", "t2", "t3", "r1", "r2", "r3", "r4a", "r4b")}
        plan = [
            (district, 0, "t1", "no_answer"), (province, 0, "t2", "no_answer"), (district, 0, "t3", "no_answer"),
            (district, 1, "r1", "confirmed"), (province, 1, "r1", "confirmed"),
            (district, 2, "r2", "not_activated"), (district, 2, "r2", "not_activated"),
            (province, 3, "r3", "confirmed"), (province, 3, "r3", "confirmed"),
            (district, 4, "r4a", "confirmed"), (province, 4, "r4b", "not_guided"),
        ]

        async def record(headers: dict[str, str], rank: int, key: str, outcome: str) -> httpx.Response:
            return await api.post(f"/v1/spot-checks/{check_id}/items/{rank}/outcomes", headers=headers,
                                  json={"id": str(ids[key]), "outcome": outcome, "note": "gọi điện"})

        answers = await asyncio.gather(*(record(*step) for step in plan))
        codes = [a.status_code for a in answers]
        assert all(c in (201, 409) for c in codes), [a.text for a in answers]
        assert codes[:9] == [201] * 9
        assert sorted(codes[9:]) == [201, 409] and answers[codes.index(409)].json()["detail"][0]["field"] == "outcome"
        recorded = [a.json()["recorded"] for a in answers if a.status_code == 201]
        assert sum(recorded) == 7  # three tries, r1 to r3 once each (their second send is a retry), rank 4 once

        rows = await db.fetch("SELECT id, rank, outcome, recorded_by FROM spot_check_outcomes WHERE check_id = $1",
                              check_id)
        assert len(rows) == len({r["id"] for r in rows}) == 7
        assert sorted(r["rank"] for r in rows) == [0, 0, 0, 1, 2, 3, 4]
        winner = next(r for r in rows if r["rank"] == 4)
        assert {r["recorded_by"] for r in rows} == {district_name, province_name}

        # The verdict, counted here: the active sample is ranks 1-4; rule 4/1 (pass with 3 confirmed).
        found = {1: "confirmed", 2: "not_activated", 3: "confirmed", 4: winner["outcome"]}
        failures = sum(o != "confirmed" for o in found.values())
        want = ("failed" if failures > 1 else "passed", 4 - failures, failures)
        final = (await api.get(f"/v1/spot-checks/{check_id}", headers=province)).json()
        assert (final["status"], final["successes"], final["failures"], final["checked"]) == (*want, 4)
        assert final["estimate"]["rate"] == (4 - failures) / 4
        assert final["estimate"]["low"] < final["estimate"]["rate"] < final["estimate"]["high"]
        items = (await api.get(f"/v1/spot-checks/{check_id}/items", headers=province)).json()["items"]
        assert [(i["rank"], i["active"], i["outcome"]) for i in items[:5]] == [
            (0, False, "unreachable"), (1, True, "confirmed"), (2, True, "not_activated"), (3, True, "confirmed"),
            (4, True, winner["outcome"])]
        assert items[0]["tries"] == 3

        # Now the commune reads its result, not its citizens.
        mine = await api.get(f"/v1/units/{CHECKED}/spot-check", headers=commune)
        assert mine.status_code == 200 and mine.json()["last"] == final
        assert (await api.get(f"/v1/spot-checks/{check_id}", headers=commune)).json() == final
        assert (await api.get(f"/v1/spot-checks/{check_id}/items", headers=commune)).status_code == 403
        assert not posted.leaks(mine.text)
