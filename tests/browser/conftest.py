"""Browser tests: Debian's Chromium driven by Playwright against a real stack.

One stack per module (ingest, relay, aggregator and the wallboard on real PostgreSQL and the
real broker) seeded over HTTP with a few days of work; every test opens its own page. Starting
the stack is most of the cost, so the tests share it and each one posts its own events. The
``stack`` holds the demo's 2023 province (districts); the ``national`` stack a country root over
a two-tier province of 166 communes and a province with districts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from tally06.domain.accounts import Role
from tally06.domain.targets import CampaignTarget, DailyTarget
from tally06.imports.reference import PLAN70_START, appendix1_targets
from tally06.kit.ports import free_port
from tally06.simulator.plan import demo_daily_targets
from tally06.store.device_tokens import issue_token
from tally06.store.targets import save_campaign_targets, save_daily_targets
from tests.browser.chromium import LAUNCH_ARGS, ensure_chromium
from tests.conftest import SERVICES, kafka_node, service_env
from tests.support import factories, ground_truth, national_map
from tests.support.databases import create_database
from tests.support.services import ServiceProcess
from tests.support.sessions import PASSWORD, make_user

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
# Teams that worked on earlier days, so rankings and trends have something to show.
HISTORY_TEAMS = ["TH-01-C01-T1", "TH-02-C01-T2", "TH-03-C01-T1", "TH-03-C02-T1", "TH-05-C01-T1",
                 "TH-09-C02-T3", "TH-14-C01-T1", "TH-18-C03-T2", "TH-26-C01-T1"]


@dataclass
class Stack:
    services: dict[str, ServiceProcess]
    tokens: dict[str, str]
    today: dt.date
    database: str
    operator: str = ""
    accepted: list[tuple[int, dict]] = field(default_factory=list)
    # The map's rows when it is not the demo's 2023 province (whose units the team codes spell).
    rows: national_map.Map | None = None

    @property
    def board(self) -> str:
        return self.services["wallboard"].url

    async def post(self, team: str, events: list[dict]) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(f"{self.services['ingest'].url}/v1/events", json={"events": events},
                                         headers={"Authorization": f"Bearer {self.tokens[team]}"})
        response.raise_for_status()
        for result in response.json()["results"]:
            assert result["status"] == "accepted", result
            self.accepted.append((result["seq"], events[result["index"]]))

    async def activations(self, team: str, n: int, level: int = 2) -> None:
        """``n`` activations by a team, now (today, local time)."""
        moment = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
        await self.post(team, [factories.event(team=team, level=level, occurred_at=moment, officer=f"CA-{team}")
                               for _ in range(n)])

    async def open_alert(self, unit: str) -> int:
        """An alert as the notifier writes it (the notifier itself is not part of this stack)."""
        conn = await asyncpg.connect(self.database)
        try:
            return await conn.fetchval(
                "INSERT INTO alerts (unit, rule, day, status, opened_at, last_opened_at, updated_at, detail) "
                "VALUES ($1, 'pace', $2, 'open', now(), now(), now(), '{}') RETURNING id", unit, self.today)
        finally:
            await conn.close()

    def today_count(self, unit: str) -> int:
        """Activations of a unit today, counted from what was accepted (not from the service)."""
        counted = ground_truth.count(self.accepted) if self.rows is None else national_map.count(self.accepted, self.rows)
        daily = counted["unit_daily"]
        return sum(daily[(unit, self.today, m, "credited")] for m in ("activated_l1", "activated_l2"))


@pytest.fixture(scope="session")
def chromium() -> Path:
    return ensure_chromium()


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium), headless=True, args=LAUNCH_ARGS)
        yield launched
        await launched.close()


async def sign_in(page: Page, board: str, username: str, password: str = PASSWORD) -> None:
    """Through the board's own form, as a person does; the session cookie stays in the context."""
    await page.goto(f"{board}/")
    await page.get_by_test_id("username").fill(username)
    await page.get_by_test_id("password").fill(password)
    await page.get_by_test_id("sign-in-button").click()
    await page.get_by_test_id("unit-view").wait_for()


@pytest.fixture
async def signed_out_page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1600, "height": 1000}, locale="vi-VN",
                                        timezone_id="Asia/Ho_Chi_Minh")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The board must work under its Content-Security-Policy: a blocked script or style is a bug.
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    await context.close()
    assert errors == [], errors  # the board's scripts must not throw


@pytest.fixture
async def page(signed_out_page: Page, stack: Stack) -> Page:
    """A page whose context is signed in as the province operator."""
    await sign_in(signed_out_page, stack.board, stack.operator)
    return signed_out_page


@pytest.fixture
async def national_page(signed_out_page: Page, national: Stack) -> Page:
    """A page whose context is signed in as the operator at the national deployment's country root."""
    await sign_in(signed_out_page, national.board, national.operator)
    return signed_out_page


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


async def _seed(database: str, today: dt.date) -> dict[str, str]:
    conn = await asyncpg.connect(database)
    try:
        await save_campaign_targets(conn, appendix1_targets(), source="test", valid_from=PLAN70_START)
        await save_daily_targets(conn, demo_daily_targets(), source="test", valid_from=today - dt.timedelta(days=30))
        teams = set(HISTORY_TEAMS) | {"TH-03-C01-T1", "TH-03-C01-T2"}
        return {team: (await issue_token(conn, team, "test"))[1] for team in sorted(teams)}
    finally:
        await conn.close()


async def _history(stack: Stack) -> None:
    """A few days of work (different per team), posted over HTTP like the field apps do."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    for n, team in enumerate(HISTORY_TEAMS):
        events = []
        for back in range(0, 10):
            moment = now if back == 0 else dt.datetime.combine(stack.today - dt.timedelta(days=back), dt.time(11, 0), VN)
            events += [factories.event(team=team, level=1 + (k % 2), occurred_at=moment, officer=f"CA-{team}")
                       for k in range((n * 3 + back * 7) % 11 + 2)]
        await stack.post(team, events)
    # Two citizens the first team already activated, claimed again by another team: duplicate claims.
    claimer = HISTORY_TEAMS[1]
    await stack.post(claimer, [factories.event(team=claimer, level=e["level"], occurred_at=now, citizen_body=e["citizen"])
                               for _, e in stack.accepted[:2]])


async def _counted(database: str, events: int, root: str = "TH", timeout_s: float = 60) -> None:
    conn = await asyncpg.connect(database)
    try:
        for _ in range(int(timeout_s * 10)):
            counted = await conn.fetchval(
                "SELECT coalesce(sum(credited + claims), 0) FROM unit_total WHERE unit = $1", root)
            if counted >= events:
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"the read model counted {counted} of {events} events")
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def _services(database: str, today: dt.date, tmp_path_factory: pytest.TempPathFactory
                    ) -> AsyncIterator[dict[str, ServiceProcess]]:
    """Ingest, relay, aggregator and wallboard on a broker of their own; the board judges pace
    at 15:00 local time, whatever the hour the tests run at."""
    clock = tmp_path_factory.mktemp("clock") / "now"
    clock.write_text(dt.datetime.combine(today, dt.time(15, 0), VN).isoformat())
    # A map loaded by a test reaches the read model and the board within a second or two.
    common = {"TALLY06_MAP_CHECK_S": "0.5"}
    extra = {"wallboard": {"TALLY06_CLOCK": f"file:{clock}", "TALLY06_HEARTBEAT_S": "1",
                           "TALLY06_CAMPAIGN_DEADLINE": (today + dt.timedelta(days=60)).isoformat()}}
    services: dict[str, ServiceProcess] = {}
    # A broker of its own: an aggregator counts every fact on its topic, other tests' included.
    broker = kafka_node(tmp_path_factory.mktemp("kafka"))
    await asyncio.to_thread(broker.start)
    for name in ("ingest", "relay", "aggregator", "wallboard"):
        module, port_setting = SERVICES[name]
        port = free_port()
        env = service_env(database, broker.bootstrap, **common, **extra.get(name, {}), **{port_setting: str(port)})
        services[name] = ServiceProcess(name, module, env, port).start(ready_path=None)
    try:
        await asyncio.gather(*(asyncio.to_thread(s.wait_ready, "/readyz", 60) for s in services.values()))
        yield services
    finally:
        for service in services.values():
            service.stop()
        await asyncio.to_thread(broker.stop)


@pytest.fixture(scope="module")
async def stack(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    today = now.astimezone(VN).date()
    database = await create_database(postgres_server)
    tokens = await _seed(database, today)
    async with _services(database, today, tmp_path_factory) as services:
        built = Stack(services, tokens, today, database, await make_user(database, username="tinh-operator"))
        await _history(built)
        # The first aggregator of a session joins its group in a few seconds; tests start
        # from a board that has counted the history.
        await _counted(database, len(built.accepted))
        yield built


# The national deployment: TQ is two-tier with as many communes as Thanh Hóa has today.
NATIONAL_ROWS = national_map.national_rows(two_tier_communes=166)
NATIONAL = national_map.Map(NATIONAL_ROWS)
NATIONAL_TEAMS = ["TQ-X001-T1", "TQ-X003-T1", "TQ-X003-T2", "TQ-X017-T2", "TQ-X090-T1", "TQ-X166-V1-T1",
                  "HB-D1-X1-T1", "HB-D1-X2-T2", "HB-D2-X1-T1"]


async def _seed_national(database: str, today: dt.date) -> dict[str, str]:
    """Campaign targets of Thanh Hóa's size spread over the two-tier province's communes (so its
    commune ranking shows the widest figures), HB's per district; 20 a day per team."""
    conn = await asyncpg.connect(database)
    try:
        communes = NATIONAL.of_kind("commune", "TQ")
        goals = [CampaignTarget(c, c, 18_000 + 97 * n, 15_000 + 80 * n, 3_000 + 17 * n) for n, c in enumerate(communes)]
        goals += [CampaignTarget("HB-D1", "HB-D1", 60_000, 50_000, 10_000),
                  CampaignTarget("HB-D2", "HB-D2", 40_000, 33_000, 7_000)]
        await save_campaign_targets(conn, goals, source="test", valid_from=PLAN70_START)
        await save_daily_targets(conn, [DailyTarget(t, "activated", 20) for t in NATIONAL.teams()], source="test",
                                 valid_from=today - dt.timedelta(days=30))
        return {team: (await issue_token(conn, team, "test"))[1] for team in NATIONAL_TEAMS}
    finally:
        await conn.close()


async def _national_operator(database: str) -> str:
    """A province operator at the country root."""
    return await make_user(database, Role.PROVINCE_OPERATOR, "VN", username="quoc-gia-operator")


@pytest.fixture(scope="module")
async def national(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    today = now.astimezone(VN).date()
    database = await national_map.national_database(postgres_server, NATIONAL_ROWS)
    tokens = await _seed_national(database, today)
    async with _services(database, today, tmp_path_factory) as services:
        built = Stack(services, tokens, today, database, await _national_operator(database), rows=NATIONAL)
        for n, team in enumerate(NATIONAL_TEAMS):
            await built.post(team, [factories.event(team=team, level=1 + k % 2, occurred_at=now - dt.timedelta(
                days=k % 3), officer=f"CA-{team}") for k in range(3 + n * 2)])
        await _counted(database, len(built.accepted), root="VN")
        yield built


@pytest.fixture
def wallboard_process(stack: Stack) -> Iterator[ServiceProcess]:
    """The wallboard of the stack, restarted after the test if the test stopped it."""
    process = stack.services["wallboard"]
    yield process
    if process.process is None or process.process.poll() is not None:
        process.start(ready_path="/readyz", timeout_s=60)
