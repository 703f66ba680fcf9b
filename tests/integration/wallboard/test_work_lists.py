"""Work lists on the real wallboard and PostgreSQL: every role with every work-list endpoint,
inside and outside its units; clear names and phones only where allowed; an audit row for
every clear view and every export; a list that shrinks when the registry moves a citizen on."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
from dataclasses import dataclass

import asyncpg
import httpx
import openpyxl

from tally06.contract.events import LOCAL_TZ
from tally06.domain.accounts import Role
from tally06.domain.pii import CitizenProtector, derived_key
from tally06.kit.clock import FileClock
from tests.conftest import TEST_KEYS
from tests.support.cli import tally06
from tests.support.factories import cccd, phone
from tests.support.sessions import bearer, make_user

# Each role with its own unit and a unit of the same kind it must not see.
ROLES = {
    Role.TEAM_LEAD: ("TH-03-C01-T1", "TH-03-C01-T2"),
    Role.COMMUNE_FOCAL: ("TH-03-C01", "TH-03-C02"),
    Role.DISTRICT_FOCAL: ("TH-03", "TH-01"),
    Role.PROVINCE_OPERATOR: ("TH", None),
    Role.ADMIN: ("TH", None),
}
CLEAR = {Role.TEAM_LEAD, Role.COMMUNE_FOCAL}
LISTS = {"approved_not_activated": "approved", "collected_not_approved": "collected"}
TODAY = dt.datetime.now(LOCAL_TZ).date()  # Vietnam's day, as the board counts days waiting


@dataclass(frozen=True)
class Citizen:
    key: str
    name: str
    phone: str
    status: str
    commune: str
    village: str | None
    since: dt.date

    @property
    def ref(self) -> str:
        key = derived_key(TEST_KEYS["TALLY06_HMAC_KEY"], b"worklist-ref")
        return hmac.new(key, self.key.encode(), hashlib.sha256).hexdigest()[:32]

    @property
    def masked_phone(self) -> str:
        return self.phone[:3] + "****" + self.phone[-3:]


def people() -> list[Citizen]:
    protector = CitizenProtector(TEST_KEYS["TALLY06_HMAC_KEY"], TEST_KEYS["TALLY06_PII_KEYS"])
    places = [("TH-03-C01", "Thôn Đông"), ("TH-03-C01", "Thôn Đông"), ("TH-03-C01", "Thôn Tây"),
              ("TH-03-C01", None), ("TH-03-C02", "Thôn Nam"), ("TH-01-C01", None)]
    found = []
    for n, (commune, village) in enumerate(places):
        for status in ("approved", "collected", "activated"):
            found.append(Citizen(protector.citizen_key(cccd()), f"Nguyễn Văn {n}{status[0]}", phone(), status, commune,
                                 village, TODAY - dt.timedelta(days=n + 1)))
    return found


async def load_registry(db: asyncpg.Connection, citizens: list[Citizen]) -> None:
    protector = CitizenProtector(TEST_KEYS["TALLY06_HMAC_KEY"], TEST_KEYS["TALLY06_PII_KEYS"])
    extract = await db.fetchval("INSERT INTO registry_extracts (as_of, digest, source, rows, changed) "
                                "VALUES (now(), 'test', 'test', $1, $1) RETURNING id", len(citizens))
    for c in citizens:
        sealed = protector.seal({"full_name": c.name, "phone": c.phone}, associated=c.key)
        await db.execute(
            "INSERT INTO registry_citizens (citizen_key, status, level, collected_on, approved_on, activated_on, "
            "commune, village, as_of, extract_id, pii_key_id, pii_sealed) "
            "VALUES ($1, $2, 2, $3, $4, $5, $6, $7, now(), $8, $9, $10)",
            c.key, c.status, c.since, c.since if c.status != "collected" else None,
            c.since if c.status == "activated" else None, c.commune, c.village, extract, sealed.key_id, sealed.blob)


def expected(citizens: list[Citizen], unit: str, status: str) -> set[str]:
    """Who is on a unit's list, by the areas this test gives: Thôn Đông of TH-03-C01 to T1,
    nothing to T2 (so T2 works the rest of the commune)."""
    def in_unit(c: Citizen) -> bool:
        if unit == "TH-03-C01-T1":
            return c.commune == "TH-03-C01" and c.village == "Thôn Đông"
        if unit == "TH-03-C01-T2":
            return c.commune == "TH-03-C01" and c.village != "Thôn Đông"
        return c.commune == unit or c.commune.startswith(unit + "-")
    return {c.ref for c in citizens if c.status == status and in_unit(c)}


async def test_every_work_list_endpoint_with_every_role(database, db, start_service, tmp_path):
    citizens = people()
    await load_registry(db, citizens)
    by_ref = {c.ref: c for c in citizens}
    areas = tmp_path / "areas.csv"
    areas.write_text("village,team\nThôn Đông,TH-03-C01-T1\n", encoding="utf-8")
    code, out, err = await tally06(database, "worklists", "areas", str(areas), "--actor", "admin-test")
    assert code == 0, out + err
    # The board's "today" is the module's TODAY, even when the run crosses local midnight.
    clock = FileClock(tmp_path / "clock")
    clock.set(dt.datetime.combine(TODAY, dt.time(12), LOCAL_TZ))
    wallboard = start_service("wallboard", TALLY06_CLOCK=f"file:{clock.path}")
    users = {role: await bearer(wallboard.url, await make_user(database, role, unit))
             for role, (unit, _) in ROLES.items()}
    views = {"clear": 0, "exports": []}
    cross_scope = []
    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30) as client:
        assert (await client.get("/v1/worklists")).status_code == 401
        words = (await client.get("/v1/worklists/reasons", headers=users[Role.ADMIN])).json()
        assert {"reason": "no_smartphone", "vi": "Không có điện thoại thông minh", "en": "No smartphone"} in words
        for role, (own, other) in ROLES.items():
            headers = users[role]
            for list_name, status in LISTS.items():
                want = expected(citizens, own, status)
                assert want, (own, list_name)  # every scope has someone on every list
                # Masked: no names, phones masked; the user's own unit by default.
                for params in ({"unit": own, "list": list_name}, {"list": list_name}):
                    answer = await client.get("/v1/worklists", params=params, headers=headers)
                    assert answer.status_code == 200, (role, answer.text)
                    body = answer.json()
                    assert (body["unit"], body["clear"], body["total"]) == (own, False, len(want))
                    assert {i["ref"] for i in body["items"]} == want, (role, list_name)
                    cross_scope += [(role, i["ref"]) for i in body["items"] if i["ref"] not in want]
                    for item in body["items"]:
                        c = by_ref[item["ref"]]
                        assert item["full_name"] is None and item["phone"] == c.masked_phone
                        assert (item["commune"], item["village"], item["status"], item["days_waiting"]) == (
                            c.commune, c.village, status, (TODAY - c.since).days)
                # Clear: for those who call, audited; refused (and logged) for the others.
                answer = await client.get("/v1/worklists", params={"unit": own, "list": list_name, "clear": True},
                                          headers=headers)
                if role in CLEAR:
                    assert answer.status_code == 200
                    views["clear"] += 1
                    got = {(i["ref"], i["full_name"], i["phone"]) for i in answer.json()["items"]}
                    assert got == {(r, by_ref[r].name, by_ref[r].phone) for r in want}
                else:
                    assert answer.status_code == 403 and answer.json()["detail"][0]["field"] == "clear"
                # The export, masked and (where allowed) clear.
                for clear in (False, True):
                    answer = await client.get("/v1/worklists.xlsx", params={"unit": own, "list": list_name,
                                                                           "clear": clear}, headers=headers)
                    if clear and role not in CLEAR:
                        assert answer.status_code == 403
                        continue
                    assert answer.status_code == 200, answer.text
                    views["exports"].append((role.value, own, clear, len(want)))
                    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
                    rows = [r for r in sheet.iter_rows(min_row=4, values_only=True) if r[0]]
                    assert {r[1] for r in rows} == want
                    assert {r[6] for r in rows} == {by_ref[r].phone if clear else by_ref[r].masked_phone
                                                    for r in want}
                if other is not None:
                    for path in ("/v1/worklists", "/v1/worklists.xlsx"):
                        answer = await client.get(path, params={"unit": other, "list": list_name}, headers=headers)
                        assert answer.status_code == 403, (role, path)
            reasons = await client.get(f"/v1/units/{own}/outcome-reasons", headers=headers)
            assert reasons.status_code == 200
            assert reasons.json()["waiting"] == sum(len(expected(citizens, own, s)) for s in LISTS.values())
            if other is not None:
                assert (await client.get(f"/v1/units/{other}/outcome-reasons", headers=headers)).status_code == 403
            assert (await client.get("/v1/units/TH-99/outcome-reasons", headers=headers)).status_code == 404

        # Outcomes: only for a citizen on a list of the user's own area.
        t1 = sorted(expected(citizens, "TH-03-C01-T1", "approved"))
        t2 = sorted(expected(citizens, "TH-03-C01-T2", "approved"))
        c02 = sorted(expected(citizens, "TH-03-C02", "approved"))
        activated = next(c.ref for c in citizens if c.status == "activated" and c.village == "Thôn Đông")

        async def record(role: Role, ref: str, reason: str) -> httpx.Response:
            return await client.post("/v1/worklists/outcomes", json={"ref": ref, "reason": reason,
                                                                     "note": "gọi lại thứ Sáu"}, headers=users[role])

        assert (await record(Role.TEAM_LEAD, t1[0], "unreachable")).status_code == 200
        assert (await record(Role.TEAM_LEAD, t1[0], "will_activate")).status_code == 200
        assert (await record(Role.COMMUNE_FOCAL, t2[0], "away_from_home")).status_code == 200
        for role, ref in ((Role.TEAM_LEAD, t2[0]), (Role.TEAM_LEAD, activated), (Role.COMMUNE_FOCAL, c02[0]),
                          (Role.TEAM_LEAD, "0" * 32)):
            answer = await record(role, ref, "refused")
            assert (answer.status_code, answer.json()["detail"][0]["field"]) == (404, "ref"), (role, ref)
        for role in (Role.DISTRICT_FOCAL, Role.PROVINCE_OPERATOR, Role.ADMIN):
            answer = await record(role, t1[0], "refused")
            assert (answer.status_code, answer.json()["detail"][0]["field"]) == (403, "role")
        answer = await record(Role.TEAM_LEAD, t1[0], "bored")
        assert answer.status_code == 422 and "reason" in answer.json()["detail"][0]["field"]
        answer = await client.post("/v1/worklists/outcomes", json={"ref": t1[0], "reason": "other", "note": "x" * 501},
                                   headers=users[Role.TEAM_LEAD])
        assert answer.status_code == 422 and "note" in answer.json()["detail"][0]["field"]
        answer = await client.post("/v1/worklists/outcomes", json={"ref": t1[0] + "\x00", "reason": "other",
                                                                   "note": "a\x00b"}, headers=users[Role.TEAM_LEAD])
        assert answer.status_code == 422 and "note" in answer.json()["detail"][0]["field"]
        for params in ({"unit": "TH\x00"}, {"list": "everyone"}, {"limit": 0}, {"offset": -1}):
            answer = await client.get("/v1/worklists", params=params, headers=users[Role.ADMIN])
            assert 400 <= answer.status_code < 500, (params, answer.status_code)
        assert await db.fetchval("SELECT count(*) FROM worklist_outcomes") == 3  # history kept

        listed = (await client.get("/v1/worklists", params={"unit": "TH-03-C01-T1"},
                                   headers=users[Role.TEAM_LEAD])).json()["items"]
        assert {i["ref"]: (i["outcome"] or {}).get("reason") for i in listed}[t1[0]] == "will_activate"
        for unit, want in (("TH-03-C01-T1", {"will_activate": 1}), ("TH-03-C01", {"will_activate": 1,
                                                                                   "away_from_home": 1}),
                           ("TH", {"will_activate": 1, "away_from_home": 1}), ("TH-03-C02", {})):
            counts = (await client.get(f"/v1/units/{unit}/outcome-reasons",
                                       headers=users[Role.PROVINCE_OPERATOR])).json()["reasons"]
            assert {r["reason"]: r["count"] for r in counts if r["count"]} == want, unit
            assert len(counts) == len(words)

        # The registry moves citizens on: activated leaves the list, approved moves lists.
        moved = next(by_ref[r] for r in expected(citizens, "TH-03-C01-T1", "collected"))
        await db.execute("UPDATE registry_citizens SET status = 'activated', activated_on = current_date "
                         "WHERE citizen_key = $1", by_ref[t1[0]].key)
        await db.execute("UPDATE registry_citizens SET status = 'approved', approved_on = current_date "
                         "WHERE citizen_key = $1", moved.key)
        now = {name: {i["ref"] for i in (await client.get(
            "/v1/worklists", params={"list": name}, headers=users[Role.TEAM_LEAD])).json()["items"]} for name in LISTS}
        assert now["approved_not_activated"] == set(t1) - {t1[0]} | {moved.ref}
        assert now["collected_not_approved"] == expected(citizens, "TH-03-C01-T1", "collected") - {moved.ref}
        counts = (await client.get("/v1/units/TH-03-C01/outcome-reasons", headers=users[Role.COMMUNE_FOCAL])).json()
        assert {r["reason"]: r["count"] for r in counts["reasons"] if r["count"]} == {"away_from_home": 1}

    assert cross_scope == []
    # An audit row for every clear view and every export, for a refused clear ask too; no
    # personal data in any of them.
    audit = await db.fetch("SELECT actor, role, action, unit, clear_pii, row_count, detail::text AS detail "
                           "FROM audit_log WHERE action LIKE 'worklist%' OR action = 'export.worklist'")
    clear_views = [r for r in audit if r["action"] == "worklist.view"]
    assert len(clear_views) == views["clear"] and all(r["clear_pii"] for r in clear_views)
    assert sorted((r["role"], r["unit"], r["clear_pii"], r["row_count"]) for r in audit
                  if r["action"] == "export.worklist") == sorted(views["exports"])
    refused = [r for r in audit if r["action"] == "worklist.refused"]
    assert len(refused) == 3 * len(LISTS) * 2  # three roles, two lists, JSON and export
    text = " ".join(str(dict(r)) for r in audit)
    assert not any(c.phone in text or c.name in text or c.key in text for c in citizens)
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'worklists.areas'") == 1


async def test_the_cli_gives_areas_and_shows_lists_masked(database, db, tmp_path):
    citizens = people()
    await load_registry(db, citizens)
    code, out, err = await tally06(database, "worklists", "assign", "--village", "Thôn Tây", "--team", "TH-03-C01-T2")
    assert code == 0, out + err
    code, out, err = await tally06(database, "worklists", "assign", "--village", "Thôn Tây", "--team", "TH-03-C02-T1")
    assert code == 0  # a village the map does not know, of T1's own commune
    assert await db.fetch("SELECT commune, village, team FROM work_areas ORDER BY team") == [
        ("TH-03-C01", "Thôn Tây", "TH-03-C01-T2"), ("TH-03-C02", "Thôn Tây", "TH-03-C02-T1")]
    code, out, err = await tally06(database, "worklists", "assign", "--village", "TH-03-C02", "--team", "TH-03-C01-T2")
    assert code == 2 and "--village" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("village,team\nThôn Tây,TH-03-C01\n", encoding="utf-8")
    code, out, err = await tally06(database, "worklists", "areas", str(bad))
    assert code == 1 and "not a team" in err
    code, out, err = await tally06(database, "worklists", "show", "--unit", "TH-03-C01-T2", "--list",
                                   "approved_not_activated")
    assert code == 0, out + err
    shown = [c for c in citizens if c.status == "approved" and c.village == "Thôn Tây"]
    assert f"1 of {len(shown)}" in out and all(c.masked_phone in out for c in shown)
    assert not any(c.phone in out or c.name in out for c in citizens)
