"""A deployment holding two provinces under a country root, on the real stack (ingest, relay,
aggregator, wallboard): province TQ is two-tier, HB keeps its districts. Users read their own
subtree only; every level of the map is ranked; the figures equal counts made in the test from
the events it posted, summed up the map's rows without tally06's org code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from fractions import Fraction

import httpx
import pytest

from tally06.domain.accounts import Role
from tally06.domain.targets import CampaignTarget, DailyTarget
from tally06.store.targets import save_campaign_targets, save_daily_targets
from tests.integration.wallboard.expected import Truth, ranks, shown
from tests.integration.wallboard.test_read_api import Field, occurred, wait_for
from tests.support import factories
from tests.support.national_map import VN, Map, count, national_database, national_rows
from tests.support.sessions import bearer, make_user

ROWS = national_rows()
MAP = Map(ROWS)
SHARE = 7.5 / 14.5  # 15:00 local: 7.5 h of the 07:30-22:00 working day
DAYS_LEFT = 20
# Campaign targets (total, level 1, level 2): TQ's communes carry their own (two-tier), HB's
# districts theirs (as in Appendix I); HB's communes and every team have none.
GOALS = {"TQ-X01": (120, 90, 30), "TQ-X02": (80, 60, 20), "TQ-X03": (50, 40, 10), "TQ-X04": (200, 150, 50),
         "HB-D1": (300, 200, 100), "HB-D2": (90, 60, 30)}
DAILY = 20  # every team's daily activation target
# Activations per (team, days before today, level).
PLAN = {
    ("TQ-X01-T1", 2, 1): 9, ("TQ-X01-T1", 0, 2): 3, ("TQ-X01-T2", 1, 1): 4,
    ("TQ-X02-T1", 3, 2): 12, ("TQ-X02-T2", 0, 1): 6,
    ("TQ-X03-T1", 0, 1): 2,
    ("TQ-X04-V1-T1", 5, 1): 7, ("TQ-X04-V1-T2", 0, 2): 5,
    ("HB-D1-X1-T1", 1, 1): 10, ("HB-D1-X1-T1", 0, 2): 4, ("HB-D1-X2-T2", 4, 1): 6,
    ("HB-D2-X1-T1", 2, 2): 8, ("HB-D2-X1-T2", 0, 1): 11,
}


@pytest.fixture
async def database(postgres_server: str) -> str:
    """The national map instead of the demo's 2023 province (``start_service`` and
    ``make_token`` use this database)."""
    return await national_database(postgres_server, ROWS)


def goal_of(code: str, the_map: Map = MAP) -> tuple[int, ...] | None:
    """A unit's own campaign target, else the sum of its children's; None when nothing below has one."""
    if code in GOALS:
        return GOALS[code]
    below = [g for g in (goal_of(c, the_map) for c in the_map.children(code)) if g is not None]
    return tuple(sum(g[i] for g in below) for i in range(3)) if below else None


def daily_of(code: str, the_map: Map = MAP) -> int | None:
    teams = [t for t in the_map.teams() if the_map.inside(t, code)]
    return DAILY * len(teams) if teams else None


async def start_stack(start_service, own_broker, tmp_path, today: dt.date) -> tuple:
    clock = tmp_path / "clock"
    clock.write_text(dt.datetime.combine(today, dt.time(15, 0), VN).isoformat())
    bootstrap = own_broker.bootstrap
    procs = [start_service(name, bootstrap=bootstrap, ready=False, TALLY06_MAP_CHECK_S="0.5")
             for name in ("ingest", "relay", "aggregator")]
    procs.append(start_service("wallboard", bootstrap=bootstrap, ready=False, TALLY06_CLOCK=f"file:{clock}",
                               TALLY06_CAMPAIGN_DEADLINE=(today + dt.timedelta(days=DAYS_LEFT - 1)).isoformat(),
                               TALLY06_MAP_CHECK_S="0.5", TALLY06_HEARTBEAT_S="1"))
    for proc in procs:
        await asyncio.to_thread(proc.wait_ready, "/readyz", 60)
    return procs[0], procs[3]


async def post_plan(field: Field, plan: dict, today: dt.date, now: dt.datetime) -> None:
    for (team, back, level), n in sorted(plan.items()):
        await field.post(team, [factories.event(team=team, level=level, occurred_at=occurred(today, back, now),
                                                officer=f"CA-{team}") for _ in range(n)])


def codes(answer: dict) -> list[str]:
    return [e["unit"]["code"] for e in answer["entries"]]


def check_ranking(answer: dict, truth: Truth, today: dt.date, by_completion: bool) -> None:
    """Ranks now and at 00:00 from the truth: by completion when every unit has a goal."""
    units = codes(answer)
    assert answer["ranked_by"] == ("completion_pct" if by_completion else "activated")

    def score(code: str, done: int) -> Fraction | int:
        goal = goal_of(code)
        return Fraction(done, goal[0]) if by_completion and goal else done

    now = ranks({c: score(c, truth.cumulative(c)) for c in units})
    start = ranks({c: score(c, truth.cumulative(c) - truth.on(c, today)) for c in units})
    got = {e["unit"]["code"]: (e["rank"], e["rank_start_of_day"], e["rank_change"]) for e in answer["entries"]}
    assert got == {c: (now[c], start[c], start[c] - now[c]) for c in units}


async def posted_stack(db, start_service, own_broker, make_token, tmp_path) -> tuple:
    """Targets set, the services started and the plan's events posted: (now, today, wallboard, field)."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    today = now.astimezone(VN).date()
    await save_campaign_targets(db, [CampaignTarget(u, u, *g) for u, g in GOALS.items()], source="test",
                                valid_from=now - dt.timedelta(days=30))
    await save_daily_targets(db, [DailyTarget(t, "activated", DAILY) for t in MAP.teams()], source="test",
                             valid_from=today - dt.timedelta(days=30))
    ingest, wallboard = await start_stack(start_service, own_broker, tmp_path, today)
    field = Field(ingest.url, {team: await make_token(team) for team in {t for t, _, _ in PLAN}})
    await post_plan(field, PLAN, today, now)
    return now, today, wallboard, field


async def test_two_provinces_under_a_country_scopes_rankings_and_figures(
        own_broker, database, db, start_service, make_token, tmp_path):
    now, today, wallboard, field = await posted_stack(db, start_service, own_broker, make_token, tmp_path)
    truth = Truth(count(field.accepted, MAP), today)

    users = {
        "country": await make_user(database, Role.PROVINCE_OPERATOR, "VN"),
        "hb": await make_user(database, Role.PROVINCE_OPERATOR, "HB"),
        "tq-commune": await make_user(database, Role.COMMUNE_FOCAL, "TQ-X01"),
        "hb-district": await make_user(database, Role.DISTRICT_FOCAL, "HB-D1"),
    }
    own = {"country": "VN", "hb": "HB", "tq-commune": "TQ-X01", "hb-district": "HB-D1"}
    headers = {who: await bearer(wallboard.url, name) for who, name in users.items()}
    async with httpx.AsyncClient(base_url=wallboard.url, timeout=10, headers=headers["country"]) as api:
        country = await wait_for(api, "/v1/units/VN/progress",
                                 lambda b: b["campaign"]["activated"]["total"] == truth.cumulative("VN"))
        assert [u["code"] for u in country["path"]] == ["VN"]

        # Every unit's figures, on the way from each team to the country.
        for code in sorted({u for t in MAP.teams() for u in MAP.path(t)}):
            progress = (await api.get(f"/v1/units/{code}/progress")).json()
            assert shown(progress) == truth.figures(code, goal_of(code), daily_of(code), SHARE, DAYS_LEFT), code
            assert [u["code"] for u in progress["path"]] == MAP.path(code)
            assert progress["unit"]["kind"] == MAP.rows[code].kind

        # The words of every kind, and the levels this map ranks (the country is the only root).
        kinds = (await api.get("/v1/kinds")).json()
        assert kinds["map_id"] == 1
        assert [k["kind"] for k in kinds["kinds"] if k["ranked"]] == ["province", "district", "commune", "village",
                                                                      "team"]
        commune_words = next(k["words"] for k in kinds["kinds"] if k["kind"] == "commune")
        assert (commune_words["vi_level"], commune_words["en_level"]) == ("Cấp xã", "Communes")

        # Rankings per level: the provinces under the country, TQ's communes, HB's districts.
        provinces = (await api.get("/v1/units/VN/children")).json()
        assert (provinces["level"], sorted(codes(provinces))) == ("province", ["HB", "TQ"])
        check_ranking(provinces, truth, today, by_completion=True)
        communes = (await api.get("/v1/units/TQ/children")).json()
        assert (communes["level"], sorted(codes(communes))) == ("commune", MAP.children("TQ"))
        check_ranking(communes, truth, today, by_completion=True)
        for entry in communes["entries"]:
            code = entry["unit"]["code"]
            assert shown(entry) == truth.figures(code, goal_of(code), daily_of(code), SHARE, DAYS_LEFT), code
        districts = (await api.get("/v1/units/HB/children")).json()
        assert (districts["level"], sorted(codes(districts))) == ("district", ["HB-D1", "HB-D2"])
        check_ranking(districts, truth, today, by_completion=True)
        # HB's communes have no campaign target: they rank by activations.
        hb_communes = (await api.get("/v1/units/HB-D1/children")).json()
        check_ranking(hb_communes, truth, today, by_completion=False)

        # Leaderboards of any level the map has; a root's kind or a missing level is refused.
        for level, parent, expected, by_completion in [
                ("province", None, ["HB", "TQ"], True),
                ("district", None, ["HB-D1", "HB-D2"], True),
                ("commune", "TQ", MAP.of_kind("commune", "TQ"), True),
                ("commune", None, MAP.of_kind("commune"), False),  # HB's communes have no goal
                ("village", None, MAP.of_kind("village"), False),
                ("team", "HB", MAP.of_kind("team", "HB"), False)]:
            params = {"level": level, **({"parent": parent} if parent else {})}
            board = (await api.get("/v1/leaderboard", params=params)).json()
            assert (board["level"], sorted(codes(board))) == (level, expected), level
            check_ranking(board, truth, today, by_completion)
        refused = await api.get("/v1/leaderboard", params={"level": "country"})
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "level"
        assert (await api.get("/v1/leaderboard", params={"level": "nation"})).status_code == 422

        # Scopes: every user reads their own subtree, and nothing of the other province.
        for who, unit in own.items():
            auth = headers[who]
            assert [u["code"] for u in (await api.get("/v1/units", headers=auth)).json()] == [unit]
            for code in MAP.rows:
                status = (await api.get(f"/v1/units/{code}/progress", headers=auth)).status_code
                assert status == (200 if MAP.inside(code, unit) else 403), (who, code)
            for level in ("commune", "team"):
                listed = codes((await api.get("/v1/leaderboard", params={"level": level}, headers=auth)).json())
                assert sorted(listed) == MAP.of_kind(level, unit), (who, level)
        outside = await api.get("/v1/leaderboard", params={"level": "team", "parent": "TQ"}, headers=headers["hb"])
        assert outside.status_code == 403
