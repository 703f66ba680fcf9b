"""Spot checks on the real wallboard, ingest and PostgreSQL: every role with every spot-check
endpoint, before and after the verdict. A unit's own users never learn an open check exists (404
as for an unknown id, absent from lists); its result is read by everyone whose units hold the
unit once decided; items and citizens only by the verifiers above it; no sampled citizen's name,
phone or CCCD reaches anyone else; every clear view and every export leaves an audit row."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field

import asyncpg
import httpx
import openpyxl

from tally06.domain.accounts import Role
from tests.support import factories
from tests.support.sessions import bearer, make_user

CHECKED = "TH-03-C01"
# Who, attached where: the checked commune's own users, the verifiers above it, the others.
USERS = {
    "team_lead": (Role.TEAM_LEAD, "TH-03-C01-T1"),
    "commune_focal": (Role.COMMUNE_FOCAL, CHECKED),
    "district_focal": (Role.DISTRICT_FOCAL, "TH-03"),
    "province_operator": (Role.PROVINCE_OPERATOR, "TH"),
    "admin": (Role.ADMIN, "TH"),
    "other_commune_focal": (Role.COMMUNE_FOCAL, "TH-03-C02"),
    "other_district_focal": (Role.DISTRICT_FOCAL, "TH-01"),
}
VERIFIERS = {"district_focal", "province_operator"}
# Whose units hold the checked commune: they read its result once decided.
IN_SCOPE = {"commune_focal", "district_focal", "province_operator", "admin"}
RATE = {"TALLY06_USER_RATE_BURST": "2000", "TALLY06_USER_RATE_PER_S": "200"}


@dataclass
class Posted:
    """What the field posted: accepted events with their seq, and every clear value sent."""

    credited: dict[str, list[int]] = field(default_factory=dict)  # team -> seqs of credited activations
    names: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    cccds: list[str] = field(default_factory=list)

    def seqs_under(self, unit: str) -> list[int]:
        return sorted(s for team, seqs in self.credited.items() if team.startswith(unit + "-") for s in seqs)

    def leaks(self, text: str) -> list[str]:
        return [v for v in (*self.names, *self.phones, *self.cccds) if v in text]


async def post_activations(ingest_url: str, tokens: dict[str, str], per_team: dict[str, int],
                           posted: Posted | None = None) -> Posted:
    """Activation claims over HTTP to the real ingest, each with a citizen of its own, plus one
    duplicate claim per team (accepted, not credited: not part of any population)."""
    posted = posted or Posted()
    async with httpx.AsyncClient(base_url=ingest_url, timeout=30) as client:
        for team, count in per_team.items():
            events = []
            for k in range(count):
                person = factories.citizen(full_name=f"Phạm Thị Duyên {team[-5:]}{k}")
                posted.names.append(person["full_name"])
                posted.phones.append(person["phone"])
                posted.cccds.append(person["id_number"])
                events.append(factories.event(team=team, level=1 + k % 2, officer=f"CA-{team}-{k % 2}",
                                              citizen_body=person))
            events.append(factories.event(team=team, level=events[0]["level"], citizen_body=events[0]["citizen"]))
            answer = await client.post("/v1/events", json={"events": events},
                                       headers={"Authorization": f"Bearer {tokens[team]}"})
            answer.raise_for_status()
            results = answer.json()["results"]
            assert [(r["status"], r["credited"]) for r in results] == [("accepted", True)] * count + [
                ("accepted", False)], results
            posted.credited.setdefault(team, []).extend(r["seq"] for r in results[:count])
    return posted


async def audit_rows(database: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database)
    try:
        return await conn.fetch("SELECT actor, action, clear_pii, unit, target FROM audit_log "
                                "WHERE action LIKE '%spotcheck%' ORDER BY id")
    finally:
        await conn.close()


async def test_every_spot_check_endpoint_with_every_role(database, start_service, make_token):
    ingest = start_service("ingest")
    wallboard = start_service("wallboard", **RATE)
    teams = {"TH-03-C01-T1": 6, "TH-03-C01-T2": 4, "TH-03-C02-T1": 3}
    posted = await post_activations(ingest.url, {t: await make_token(t) for t in teams}, teams)
    names = {key: await make_user(database, role, unit) for key, (role, unit) in USERS.items()}
    users = {key: await bearer(wallboard.url, name) for key, name in names.items()}
    bodies: dict[str, list[str]] = {key: [] for key in USERS}
    clear_views: list[tuple[str, str]] = []

    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30) as client:
        async def call(who: str, method: str, path: str, **kw) -> httpx.Response:
            answer = await client.request(method, path, headers=users[who], **kw)
            assert answer.status_code < 500, (who, path, answer.text)
            bodies[who].append(answer.text if "json" in answer.headers.get("content-type", "") else
                               _sheet_text(answer.content) if answer.status_code == 200 else answer.text)
            return answer

        assert (await client.get("/v1/spot-checks")).status_code == 401
        # Drawing: the verifiers above the unit only.
        draw = {"unit": CHECKED, "n": 4, "d": 1, "seed": "ab" * 16}
        for who in ("team_lead", "commune_focal", "admin", "other_commune_focal", "other_district_focal"):
            answer = await call(who, "POST", "/v1/spot-checks", json=draw)
            assert answer.status_code == 403, (who, answer.text)
        answer = await call("district_focal", "POST", "/v1/spot-checks", json={**draw, "unit": "TH-03"})
        assert (answer.status_code, answer.json()["detail"][0]["field"]) == (403, "unit")  # its own district
        answer = await call("district_focal", "POST", "/v1/spot-checks", json=draw)
        assert answer.status_code == 201, answer.text
        check = answer.json()
        check_id = check["id"]
        drawn = len(posted.seqs_under(CHECKED))
        assert (check["unit"], check["status"], check["n"], check["d"], check["population_size"]) == (
            CHECKED, "open", 4, 1, drawn)
        assert check["drawn_by"] == names["district_focal"]

        async def walk(decided: bool) -> None:
            for who in USERS:
                sees_check = who in VERIFIERS or (decided and who in IN_SCOPE)
                one = await call(who, "GET", f"/v1/spot-checks/{check_id}")
                unknown = await call(who, "GET", "/v1/spot-checks/99999999")
                assert unknown.status_code == 404
                if sees_check:
                    assert one.status_code == 200, (who, one.text)
                    assert (one.json()["status"] == "open") is not decided
                else:
                    # Exactly as for an id that does not exist.
                    assert (one.status_code, one.json()["detail"][0]["field"]) == (404, "id"), who
                    assert one.json()["detail"][0]["message"] == f"no spot check {check_id}"
                listed = await call(who, "GET", "/v1/spot-checks")
                assert listed.status_code == 200
                ids = [c["id"] for c in listed.json()]
                assert ids == ([check_id] if sees_check else []), who
                for status in ("open", "passed", "failed"):
                    listed = await call(who, "GET", "/v1/spot-checks", params={"status": status})
                    assert listed.status_code == 200 and all(c["status"] == status for c in listed.json())
                unit_answer = await call(who, "GET", f"/v1/units/{CHECKED}/spot-check")
                if who in IN_SCOPE:
                    assert unit_answer.status_code == 200
                    last = unit_answer.json()["last"]
                    assert (last or {}).get("id") == (check_id if decided else None), who
                else:
                    assert unit_answer.status_code == 403, who
                listed = await call(who, "GET", "/v1/spot-checks", params={"unit": CHECKED})
                assert listed.status_code == (200 if who in IN_SCOPE else 403), who
                if who in IN_SCOPE:
                    assert [c["id"] for c in listed.json()] == ([check_id] if sees_check else [])
                # Items, replay and the spreadsheet: verifiers above the unit only.
                for path in ("items", "replay", "export.xlsx"):
                    for clear in ((False, True) if path != "replay" else (False,)):
                        answer = await call(who, "GET", f"/v1/spot-checks/{check_id}/{path}",
                                            params={"clear": "true"} if clear else {})
                        if who in VERIFIERS:
                            assert answer.status_code == 200, (who, path, answer.text)
                            if clear or path == "export.xlsx":
                                clear_views.append((names[who], path))
                        else:
                            assert answer.status_code == (403 if sees_check else 404), (who, path, decided)
                answer = await call(who, "POST", f"/v1/spot-checks/{check_id}/items/3/outcomes",
                                    json={"id": str(uuid.uuid4()), "outcome": "no_answer"})
                if who in VERIFIERS:
                    assert answer.status_code == 201, answer.text
                else:
                    assert answer.status_code == (403 if sees_check else 404), (who, answer.text)

        await walk(decided=False)
        # Clear data to the verifiers: every sampled citizen's name and phone as posted.
        items = (await call("province_operator", "GET", f"/v1/spot-checks/{check_id}/items",
                            params={"clear": "true"})).json()["items"]
        clear_views.append((names["province_operator"], "items"))
        assert len(items) == min(drawn, 4 + 3) and [i["rank"] for i in items] == list(range(len(items)))
        assert {i["full_name"] for i in items} <= set(posted.names)
        assert {i["phone"] for i in items} <= set(posted.phones)
        masked = (await call("province_operator", "GET", f"/v1/spot-checks/{check_id}/items")).json()["items"]
        assert [i["phone"][:3] + i["phone"][-3:] for i in masked] == [i["phone"][:3] + i["phone"][-3:] for i in items]
        assert not any(posted.leaks(str(i["full_name"]) + str(i["phone"])) for i in masked)

        # The verdict: two failures among the first four (rule 4/1) fail the unit.
        for rank, outcome in ((0, "confirmed"), (1, "not_activated"), (2, "not_guided")):
            answer = await call("province_operator", "POST", f"/v1/spot-checks/{check_id}/items/{rank}/outcomes",
                                json={"id": str(uuid.uuid4()), "outcome": outcome, "note": "gọi lúc 9 giờ"})
            assert answer.status_code == 201, answer.text
        decided = answer.json()["check"]
        assert (decided["status"], decided["failures"], decided["successes"]) == ("failed", 2, 1)
        await walk(decided=True)

        # Bad input: 4xx naming the field, never a 5xx.
        bad = [("POST", "/v1/spot-checks", {"json": {**draw, "population": "everyone"}}, "population"),
               ("POST", "/v1/spot-checks", {"json": {**draw, "n": 4, "d": 4}}, "d"),
               ("POST", "/v1/spot-checks", {"json": {"unit": CHECKED, "n": 4}}, "d"),
               ("POST", "/v1/spot-checks", {"json": {**draw, "from": "2025-01-01T00:00+07:00",
                                                     "to": "2024-01-01T00:00+07:00"}}, "from"),
               ("POST", "/v1/spot-checks", {"json": {**draw, "seed": "xyz"}}, "seed"),
               ("POST", "/v1/spot-checks", {"json": {**draw, "unit": "TH-99"}}, "unit"),
               ("POST", f"/v1/spot-checks/{check_id}/items/3/outcomes",
                {"json": {"id": "not-a-uuid", "outcome": "confirmed"}}, "id"),
               ("POST", f"/v1/spot-checks/{check_id}/items/3/outcomes",
                {"json": {"id": str(uuid.uuid4()), "outcome": "maybe"}}, "outcome"),
               ("POST", f"/v1/spot-checks/{check_id}/items/3/outcomes",
                {"json": {"id": str(uuid.uuid4()), "outcome": "unreachable"}}, "outcome"),
               ("POST", f"/v1/spot-checks/{check_id}/items/99/outcomes",
                {"json": {"id": str(uuid.uuid4()), "outcome": "confirmed"}}, "rank"),
               ("POST", f"/v1/spot-checks/{check_id}/items/1/outcomes",
                {"json": {"id": str(uuid.uuid4()), "outcome": "confirmed"}}, "outcome"),
               ("GET", "/v1/spot-checks/design", {"params": {"upper": 0.5, "lower": 0.7}}, "lower"),
               ("GET", "/v1/spot-checks/design", {"params": {"alpha": 0.7}}, "alpha"),
               ("GET", "/v1/spot-checks/design", {"params": {"n": 5}}, "d"),
               ("GET", "/v1/spot-checks", {"params": {"status": "maybe"}}, "status"),
               ("PUT", "/v1/spot-checks/thresholds", {"json": {"unit": "TH", "upper": 1.5, "lower": 0.7,
                                                              "alpha": 0.05, "beta": 0.1}}, "upper")]
        for method, path, kw, name in bad:
            answer = await call("province_operator", method, path, **kw)
            detail = answer.json()["detail"]
            assert 400 <= answer.status_code < 500 and any(name in d["field"] for d in detail), (path, kw, detail)
            if path.endswith("/1/outcomes"):
                assert answer.status_code == 409 and names["province_operator"] in detail[0]["message"]

        # Pure answers, with every signed-in user.
        design = (await call("team_lead", "GET", "/v1/spot-checks/design",
                             params={"upper": 0.8, "lower": 0.5, "alpha": 0.1, "beta": 0.1})).json()
        assert (design["n"], design["d"]) == (19, 6)  # Valadez's table: 13 of 19
        outcomes = (await call("team_lead", "GET", "/v1/spot-checks/outcomes")).json()
        assert {o["outcome"] for o in outcomes if o["failure"]} == {"not_activated", "not_own_account", "not_guided"}
        assert "unreachable" not in {o["outcome"] for o in outcomes}  # only tries make it
        # Thresholds: the province operator sets them, others may read.
        answer = await call("district_focal", "PUT", "/v1/spot-checks/thresholds",
                            json={"unit": "TH-03", "upper": 0.8, "lower": 0.5, "alpha": 0.1, "beta": 0.1})
        assert answer.status_code == 403
        answer = await call("province_operator", "PUT", "/v1/spot-checks/thresholds",
                            json={"unit": "TH-03", "upper": 0.8, "lower": 0.5, "alpha": 0.1, "beta": 0.1})
        assert answer.status_code == 200 and (answer.json()["n"], answer.json()["d"]) == (19, 6)
        got = (await call("commune_focal", "GET", "/v1/spot-checks/thresholds")).json()
        assert (got["unit"], got["upper"], got["n"]) == (CHECKED, 0.8, 19)  # inherited from the district
        assert (await call("other_district_focal", "GET", "/v1/spot-checks/thresholds",
                           params={"unit": CHECKED})).status_code == 403

    # No sampled citizen's name, phone or CCCD reached anyone but the verifiers.
    for who, texts in bodies.items():
        leaks = posted.leaks("\n".join(texts))
        if who in VERIFIERS:
            assert not [v for v in leaks if v in posted.cccds]
        else:
            assert not leaks, who
    audited = await audit_rows(database)
    views = [(r["actor"], r["target"]) for r in audited if r["action"] in ("spotcheck.view", "export.spotcheck")]
    assert len(views) == len(clear_views)
    assert sorted(a for a, _ in views) == sorted(a for a, _ in clear_views)
    assert all(r["unit"] == CHECKED for r in audited if r["action"] != "spotcheck.thresholds")
    assert [(r["actor"], r["unit"]) for r in audited if r["action"] == "spotcheck.thresholds"] == [
        (names["province_operator"], "TH-03")]
    assert all(r["clear_pii"] for r in audited if r["action"] == "spotcheck.view")
    # The refused clear requests of those who see the result only are logged too.
    refused = {r["actor"] for r in audited if r["action"] in ("spotcheck.view.refused", "export.spotcheck.refused")}
    assert refused == {names[w] for w in IN_SCOPE - VERIFIERS}


def _sheet_text(content: bytes) -> str:
    """Every cell of a spreadsheet answer, to scan for personal data."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(content))
    except Exception:  # noqa: BLE001 - not a spreadsheet: scanned as bytes
        return content.decode(errors="replace")
    return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v)
