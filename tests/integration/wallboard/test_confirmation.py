"""Claimed and confirmed on the read API (real PostgreSQL and wallboard): the confirmation
figures of a unit, its campaign block, and rankings on either basis, from registry counters
written into the read model as the reconciler writes them. Expected figures are worked out by
hand from the counters below."""

from __future__ import annotations

import datetime as dt

import httpx

from tally06.contract.events import LOCAL_TZ
from tally06.domain.accounts import Role
from tally06.kit.clock import FileClock
from tests.support.registry_counters import write_counters
from tests.support.sessions import signed_in

TODAY = dt.datetime.now(LOCAL_TZ).date()
D1, D2, D3 = TODAY - dt.timedelta(days=10), TODAY - dt.timedelta(days=9), TODAY - dt.timedelta(days=2)
C01, C02, C03 = "TH-03-C01", "TH-03-C02", "TH-03-C03"
COUNTERS = {
    # level 1: 15 confirmed + 3 already active + 2 pending = 20; level 2: 20 + 6 + 4 = 30
    (f"{C01}-T1", D1): {"activated_l1": 20, "activated_l2": 30, "confirmed_l1": 15, "confirmed_l2": 20,
                        "pending_l1": 2, "already_active_l1": 3, "unconfirmed_l2": 6, "level_differs_l2": 4},
    (f"{C01}-T2", D2): {"activated_l2": 50, "confirmed_l2": 10, "unconfirmed_l2": 40},
    (f"{C01}-T1", D3): {"activated_l2": 10, "pending_l2": 10},  # window still open
    (C01, D1): {"unclaimed_l2": 7},  # registry activations in the commune no team claimed
    (f"{C02}-T1", D1): {"activated_l2": 60, "confirmed_l2": 58, "unconfirmed_l2": 2},
    (f"{C03}-T1", D2): {"activated_l1": 5, "confirmed_l1": 5},
}


async def test_confirmation_figures_and_rankings_on_either_basis(own_broker, database, db, start_service, tmp_path):
    await write_counters(db, COUNTERS)
    # The board's "today" is the module's TODAY, even when the run crosses local midnight.
    clock = FileClock(tmp_path / "clock")
    clock.set(dt.datetime.combine(TODAY, dt.time(12), LOCAL_TZ))
    wallboard = start_service("wallboard", bootstrap=own_broker.bootstrap, TALLY06_CLOCK=f"file:{clock.path}")
    operator = await signed_in(database, wallboard.url)
    async with httpx.AsyncClient(base_url=wallboard.url, timeout=30, headers=operator) as client:
        answer = (await client.get(f"/v1/units/{C01}/confirmation")).json()
        assert answer["unit"]["code"] == C01
        assert (answer["from"], answer["to"]) == (D1.isoformat(), TODAY.isoformat())
        assert answer["claimed"] == {"l1": 20, "l2": 90, "total": 110}
        assert answer["confirmed"] == {"l1": 15, "l2": 30, "total": 45}
        assert answer["pending"] == {"l1": 2, "l2": 10, "total": 12}
        assert answer["unconfirmed"] == {"l1": 0, "l2": 46, "total": 46}
        assert answer["already_active"] == {"l1": 3, "l2": 0, "total": 3}
        assert answer["level_differs"] == {"l1": 0, "l2": 4, "total": 4}
        assert answer["unclaimed"] == {"l1": 0, "l2": 7, "total": 7}
        # 45 confirmed of 98 judged (45 + 46 + 3 + 4); the 12 pending are not judged yet.
        assert answer["judged"] == 98 and answer["rate"] == 0.4592
        days = {d["day"]: d for d in answer["days"]}
        assert len(days) == 11  # D1 .. today, quiet days included
        assert days[D1.isoformat()] == {"day": D1.isoformat(), "claimed": 50, "confirmed": 35, "rate": 0.7292}
        assert days[D2.isoformat()] == {"day": D2.isoformat(), "claimed": 50, "confirmed": 10, "rate": 0.2}
        assert days[D3.isoformat()] == {"day": D3.isoformat(), "claimed": 10, "confirmed": 0, "rate": None}
        assert days[TODAY.isoformat()]["rate"] is None

        period = (await client.get(f"/v1/units/{C01}/confirmation",
                                   params={"from": D1.isoformat(), "to": D2.isoformat()})).json()
        # The claims of D1 and D2 only: the 10 pending claims of D3 leave; judged 48 + 50 as before.
        assert (period["claimed"]["total"], period["confirmed"]["total"], period["rate"]) == (100, 45, 0.4592)
        assert period["judged"] == 98 and len(period["days"]) == 2
        assert (await client.get(f"/v1/units/{C02}/confirmation")).json()["rate"] == 0.9667  # 58 / 60

        progress = (await client.get(f"/v1/units/{C01}/progress")).json()["campaign"]
        assert progress["activated"] == {"total": 110, "level1": 20, "level2": 90}
        assert progress["confirmed"] == {"total": 45, "level1": 15, "level2": 30}
        assert progress["confirmation_rate"] == 0.4592

        # Communes of TH-03 (no targets: ranked by counts). Claimed: C01 110, C02 60, C03 5;
        # confirmed: C02 58, C01 45, C03 5; the two quiet communes share the last rank.
        claimed = (await client.get("/v1/leaderboard", params={"level": "commune", "parent": "TH-03"})).json()
        confirmed = (await client.get("/v1/leaderboard", params={"level": "commune", "parent": "TH-03",
                                                                 "basis": "confirmed"})).json()
        ranks = {r["basis"]: {e["unit"]["code"]: e["rank"] for e in r["entries"]} for r in (claimed, confirmed)}
        assert ranks["claimed"] == {C01: 1, C02: 2, C03: 3, "TH-03-C04": 4, "TH-03-C05": 4}
        assert ranks["confirmed"] == {C02: 1, C01: 2, C03: 3, "TH-03-C04": 4, "TH-03-C05": 4}
        assert claimed["ranked_by"] == confirmed["ranked_by"] == "activated"
        children = (await client.get("/v1/units/TH-03/children", params={"basis": "confirmed"})).json()
        assert children["basis"] == "confirmed" and children["entries"][0]["unit"]["code"] == C02

        # Bad input names its field; other units and unknown ones are refused.
        for params, field in (({"from": D2.isoformat(), "to": D1.isoformat()}, "from"),
                              ({"from": "2020-01-01", "to": TODAY.isoformat()}, "from"),
                              ({"to": "not-a-day"}, "query.to")):
            refused = await client.get(f"/v1/units/{C01}/confirmation", params=params)
            assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == field, refused.text
        bad_basis = await client.get("/v1/leaderboard", params={"level": "commune", "basis": "reported"})
        assert bad_basis.status_code == 422 and bad_basis.json()["detail"][0]["field"] == "query.basis"
        assert (await client.get("/v1/units/XX-99/confirmation")).status_code == 404
        neighbour = await signed_in(database, wallboard.url, Role.COMMUNE_FOCAL, C02)
        assert (await client.get(f"/v1/units/{C01}/confirmation", headers=neighbour)).status_code == 403
        assert (await client.get(f"/v1/units/{C02}/confirmation", headers=neighbour)).status_code == 200
