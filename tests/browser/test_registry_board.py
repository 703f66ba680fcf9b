"""Claimed and confirmed on the wall screen (issue 17), in real headless Chromium: the registry's
verdict on a commune's claims per level with the confirmation rate, the ranking on either basis,
the funnel, the work list with its outcome reasons, and panels that stay quiet when the server
has no answer for them. Screenshots go to tests/artifacts/screenshots/.

The data is built so that every figure is known without tally06 code: claims posted over HTTP
for a district nobody else works in (TH-04, Huyện Mường Lát), and a registry extract written as
an import leaves it. Each claim is made to fall clearly into one state under the documented
window (3 days before, 7 after; the extract is of today). Where the reconciler runs in the
aggregator it judges them; where it does not (a branch without it), the test writes its counters
as the reconciler would, in the same rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import importlib.util
import statistics
import uuid
from collections import Counter
from dataclasses import dataclass

import asyncpg
import httpx
from playwright.async_api import Page, expect

from tally06.domain.accounts import Role
from tally06.domain.pii import CitizenProtector
from tally06.store.device_tokens import issue_token
from tests.browser.conftest import VN, Stack
from tests.browser.test_board import LIVE_BUDGET_MS, open_board, vi
from tests.conftest import TEST_KEYS
from tests.support import factories
from tests.support.sessions import bearer, make_user

TEAM = "TH-04-C01-T1"
COMMUNE = "TH-04-C01"
DISTRICT = "TH-04"
LINEAGE = ["TH", DISTRICT, COMMUNE, TEAM]
PROTECTOR = CitizenProtector(TEST_KEYS["TALLY06_HMAC_KEY"], TEST_KEYS["TALLY06_PII_KEYS"])


@dataclass(frozen=True)
class Claim:
    """One activation claim and what the registry says of its citizen (None: nothing)."""

    state: str
    level: int
    days_ago: int
    registry_level: int | None = None
    activated_days_ago: int | None = None


# (state, claim level, claim day, registry level, registry activation day): clear-cut cases only.
CLAIMS = [
    *[Claim("confirmed", 1, 10, 1, 10)] * 3,
    Claim("pending", 1, 2),  # no registry activation, window open until 5 days from now
    Claim("unconfirmed", 1, 12),  # window closed 5 days ago, nothing in the registry
    Claim("already_active", 1, 10, 1, 30),  # active 20 days before the claim
    *[Claim("confirmed", 2, 9, 2, 9)] * 2,
    Claim("level_differs", 2, 9, 1, 9),
    Claim("unconfirmed", 2, 11),
]
UNCLAIMED_LEVELS = [1, 1, 2]  # registry activations in the commune no team claimed, 5 days ago
WAITING_DAYS = [3, 5, 8, 13, 21]  # approved, not activated: days since approval
COLLECTED_DAYS = [4, 6]  # collected, not approved


def expected_figures() -> dict[str, dict[str, int]]:
    figures: dict[str, Counter] = {f: Counter() for f in ("claimed", "confirmed", "pending", "unconfirmed",
                                                          "already_active", "level_differs", "unclaimed")}
    for claim in CLAIMS:
        for figure in ("claimed", claim.state):
            figures[figure][f"l{claim.level}"] += 1
    for level in UNCLAIMED_LEVELS:
        figures["unclaimed"][f"l{level}"] += 1
    return {f: {"l1": c["l1"], "l2": c["l2"], "total": c["l1"] + c["l2"]} for f, c in figures.items()}


def vi_pct(value: float) -> str:
    return f"{value:.2f} %".replace(".", ",")


@dataclass
class Registry:
    """The registry rows the test wrote: (status, level, collected, approved, activated) per citizen."""

    rows: list[tuple[str, int, dt.date | None, dt.date | None, dt.date | None]]
    phones: list[str]


async def _post_claims(stack: Stack) -> list[tuple[Claim, dict]]:
    conn = await asyncpg.connect(stack.database)
    try:
        stack.tokens[TEAM] = (await issue_token(conn, TEAM, "test"))[1]
    finally:
        await conn.close()
    posted = []
    for claim in CLAIMS:
        day = stack.today - dt.timedelta(days=claim.days_ago)
        event = factories.event(team=TEAM, level=claim.level, officer=f"CA-{TEAM}",
                                occurred_at=dt.datetime.combine(day, dt.time(10, 0), VN))
        posted.append((claim, event))
    await stack.post(TEAM, [e for _, e in posted])
    return posted


async def _write_extract(stack: Stack, posted: list[tuple[Claim, dict]]) -> Registry:
    """An extract of today as an import leaves it: the claimed citizens the registry knows, the
    unclaimed activations, and the commune's people still waiting."""
    today = stack.today
    back = lambda n: today - dt.timedelta(days=n)  # noqa: E731 - a local shorthand
    records: list[tuple[str, str, int, dt.date | None, dt.date | None, dt.date | None, dict]] = []
    for claim, event in posted:
        if claim.activated_days_ago is None:
            continue
        active = claim.activated_days_ago
        records.append((event["citizen"]["id_number"], "activated", claim.registry_level or claim.level,
                        back(active + 5), back(active + 2), back(active), event["citizen"]))
    for level in UNCLAIMED_LEVELS:
        citizen = factories.citizen()
        records.append((citizen["id_number"], "activated", level, back(9), back(7), back(5), citizen))
    for days in WAITING_DAYS:
        citizen = factories.citizen(full_name=f"Lê Thị Chờ {days}")
        records.append((citizen["id_number"], "approved", 2, back(days + 3), back(days), None, citizen))
    for days in COLLECTED_DAYS:
        citizen = factories.citizen()
        records.append((citizen["id_number"], "collected", 2, back(days), None, None, citizen))
    as_of = dt.datetime.combine(today, dt.time(6, 0), VN)
    conn = await asyncpg.connect(stack.database)
    try:
        async with conn.transaction():
            extract = await conn.fetchval(
                "INSERT INTO registry_extracts (as_of, digest, source, rows, changed) VALUES ($1, $2, 'test', $3, $3) "
                "RETURNING id", as_of, uuid.uuid4().hex, len(records))
            rows = []
            for cccd, status, level, collected, approved, activated, citizen in records:
                key = PROTECTOR.citizen_key(cccd)
                sealed = PROTECTOR.seal({"full_name": citizen["full_name"], "phone": citizen["phone"]}, associated=key)
                rows.append((key, status, level, collected, approved, activated, COMMUNE, as_of, extract,
                             sealed.key_id, sealed.blob))
            await conn.executemany(
                "INSERT INTO registry_citizens (citizen_key, status, level, collected_on, approved_on, activated_on, "
                "commune, as_of, extract_id, pii_key_id, pii_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                "$10, $11)", rows)
    finally:
        await conn.close()
    return Registry([(r[1], r[2], r[3], r[4], r[5]) for r in records], [r[6]["phone"] for r in records])


async def _write_counters_as_the_reconciler_would(stack: Stack) -> None:
    """Only on a branch without the reconciler: the registry counters of the states above, on
    the claim's day in every unit of the team's lineage; unclaimed where the citizen lives."""
    adds: Counter = Counter()
    for claim in CLAIMS:
        for unit in LINEAGE:
            adds[(unit, stack.today - dt.timedelta(days=claim.days_ago), f"{claim.state}_l{claim.level}")] += 1
    for level in UNCLAIMED_LEVELS:
        for unit in LINEAGE[:3]:
            adds[(unit, stack.today - dt.timedelta(days=5), f"unclaimed_l{level}")] += 1
    totals: Counter = Counter()
    for (unit, _, metric), n in adds.items():
        totals[(unit, metric)] += n
    conn = await asyncpg.connect(stack.database)
    try:
        async with conn.transaction():
            await conn.executemany(
                "INSERT INTO unit_daily AS t (unit, day, metric, credited) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (unit, day, metric) DO UPDATE SET credited = t.credited + excluded.credited, "
                "version = nextval('counter_version')", [(*k, n) for k, n in adds.items()])
            await conn.executemany(
                "INSERT INTO unit_total AS t (unit, metric, credited) VALUES ($1, $2, $3) "
                "ON CONFLICT (unit, metric) DO UPDATE SET credited = t.credited + excluded.credited, "
                "version = nextval('counter_version')", [(*k, n) for k, n in totals.items()])
    finally:
        await conn.close()


async def _registry_counted(stack: Stack, confirmed: int, timeout_s: float = 60) -> None:
    conn = await asyncpg.connect(stack.database)
    try:
        for _ in range(int(timeout_s * 10)):
            found = await conn.fetchval("SELECT coalesce(sum(credited), 0) FROM unit_total WHERE unit = $1 "
                                        "AND metric IN ('confirmed_l1', 'confirmed_l2')", COMMUNE)
            if found >= confirmed:
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"the reconciler confirmed {found} of {confirmed} claims in {COMMUNE}")
    finally:
        await conn.close()


async def _claims_counted(stack: Stack, n: int) -> None:
    conn = await asyncpg.connect(stack.database)
    try:
        for _ in range(600):
            found = await conn.fetchval("SELECT coalesce(sum(credited), 0) FROM unit_total WHERE unit = $1 "
                                        "AND metric IN ('activated_l1', 'activated_l2')", TEAM)
            if found >= n:
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{found} of {n} claims of {TEAM} counted")
    finally:
        await conn.close()


async def _seed(stack: Stack) -> Registry:
    posted = await _post_claims(stack)
    await _claims_counted(stack, len(CLAIMS))
    registry = await _write_extract(stack, posted)
    expected = expected_figures()
    if importlib.util.find_spec("tally06.store.reconciliation") is None:
        await _write_counters_as_the_reconciler_would(stack)
    await _registry_counted(stack, expected["confirmed"]["total"])
    return registry


async def test_shows_claimed_vs_confirmed_and_a_work_list_on_the_board(page: Page, stack: Stack, screenshots):
    registry = await _seed(stack)
    expected = expected_figures()

    # --- Claimed vs confirmed for the commune, per level, and the rate (confirmed-api). ---
    await open_board(page, stack, route=f"#/unit/{COMMUNE}")
    for figure, levels in expected.items():
        for level, n in levels.items():
            await expect(page.get_by_test_id(f"conf-{figure}-{level}")).to_have_text(vi(n))
    # The states of the claims add up to the claims, level by level.
    for level in ("l1", "l2"):
        states = ("confirmed", "pending", "unconfirmed", "already_active", "level_differs")
        assert sum(expected[s][level] for s in states) == expected["claimed"][level]
    judged = sum(expected[s]["total"] for s in ("confirmed", "unconfirmed", "already_active", "level_differs"))
    await expect(page.get_by_test_id("conf-rate")).to_have_text(vi_pct(100 * round(expected["confirmed"]["total"] / judged, 4)))
    await expect(page.get_by_test_id("confirmation")).to_contain_text("Kích hoạt được xác nhận")

    # --- The funnel of the commune's residents (goals-funnel). ---
    collected = len(registry.rows)
    approved = sum(1 for r in registry.rows if r[0] in ("approved", "activated"))
    activated = sum(1 for r in registry.rows if r[0] == "activated")
    for stage, n in (("installed", 0), ("collected", collected), ("approved", approved), ("activated", activated)):
        await expect(page.get_by_test_id(f"funnel-count-{stage}")).to_have_text(vi(n))
    to_approve = statistics.median((a - c).days for _, _, c, a, _ in registry.rows if c and a)
    to_activate = statistics.median((v - a).days for _, _, _, a, v in registry.rows if a and v)
    await expect(page.get_by_test_id("funnel-days-collected-approved")).to_contain_text(f"trung vị {vi(round(to_approve))} ngày")
    await expect(page.get_by_test_id("funnel-days-approved-activated")).to_contain_text(f"trung vị {vi(round(to_activate))} ngày")
    await expect(page.get_by_test_id("goals-empty")).to_be_visible()  # no goal set for this unit

    # --- The work list, masked on the board, longest waiting first (work-lists). ---
    rows = page.get_by_test_id("worklist").locator("tbody tr")
    await expect(rows).to_have_count(len(WAITING_DAYS))
    await expect(page.get_by_test_id("worklist-count")).to_have_attribute("data-total", str(len(WAITING_DAYS)))
    await expect(page.get_by_test_id("wl-days")).to_have_text([vi(d) for d in sorted(WAITING_DAYS, reverse=True)])
    text = await page.get_by_test_id("worklist").inner_text()
    assert not [p for p in registry.phones if p in text], "a phone in clear on the board"
    assert "Lê Thị Chờ" not in text  # names only on the work-list page
    link = page.get_by_test_id("worklist-link")
    await expect(link).to_have_attribute("href", f"/static/worklist.html?unit={COMMUNE}&list=approved_not_activated")
    await page.screenshot(path=screenshots / "registry-commune.png", full_page=True)

    # A commune focal point records what the team found for the longest waiting two; the board
    # counts the reasons and shows the outcome on the row.
    words = importlib.import_module("tally06.domain.work_lists").REASON_WORDS
    focal = await make_user(stack.database, Role.COMMUNE_FOCAL, COMMUNE)
    headers = await bearer(stack.board, focal)
    async with httpx.AsyncClient(base_url=stack.board, headers=headers, timeout=10) as client:
        listed = (await client.get("/v1/worklists", params={"unit": COMMUNE, "list": "approved_not_activated"})).json()
        for item, reason in zip(listed["items"][:2], ("no_smartphone", "away_from_home"), strict=True):
            answer = await client.post("/v1/worklists/outcomes", json={"ref": item["ref"], "reason": reason})
            assert answer.status_code == 200, answer.text
    await page.reload()
    for reason in ("no_smartphone", "away_from_home"):
        await expect(page.get_by_test_id(f"reason-count-{reason}")).to_have_text("1")
        await expect(page.get_by_test_id(f"reason-{reason}")).to_contain_text(words[reason].vi)
    await expect(page.get_by_test_id("wl-outcome").first).to_have_text(words["no_smartphone"].vi)

    # --- Live: new claims reach the claimed row within the budget; the rate waits for the registry. ---
    rate = await page.get_by_test_id("conf-rate").inner_text()
    await stack.activations(TEAM, 2, level=1)
    await expect(page.get_by_test_id("conf-claimed-l1")).to_have_text(vi(expected["claimed"]["l1"] + 2),
                                                                       timeout=LIVE_BUDGET_MS)
    await expect(page.get_by_test_id("conf-rate")).to_have_text(rate)

    # --- The district ranks its communes on claims, then on confirmed activations (confirmed-api). ---
    await open_board(page, stack, route=f"#/unit/{DISTRICT}")
    basis = page.get_by_test_id("ranking-basis")
    await expect(basis).to_have_attribute("data-basis", "claimed")
    await expect(page.get_by_test_id(f"score-{COMMUNE}")).to_have_text(vi(expected["claimed"]["total"] + 2))
    await page.get_by_test_id("basis-confirmed").click()
    await expect(page).to_have_url(f"{stack.board}/?basis=confirmed#/unit/{DISTRICT}")
    await expect(basis).to_have_attribute("data-basis", "confirmed")
    await expect(basis).to_have_text("theo số kích hoạt được xác nhận")
    await expect(page.get_by_test_id(f"score-{COMMUNE}")).to_have_text(vi(expected["confirmed"]["total"]))
    await expect(page.get_by_test_id("basis-confirmed")).to_have_attribute("aria-pressed", "true")
    await page.screenshot(path=screenshots / "registry-district-confirmed.png", full_page=True)

    # In English, the same figures under the board's English words.
    await page.get_by_test_id("lang-toggle").click()
    await expect(basis).to_have_text("by confirmed activations")
    await expect(page.get_by_test_id("confirmation")).to_contain_text("Claimed by teams")
    await page.screenshot(path=screenshots / "registry-district-confirmed-en.png", full_page=True)


REGISTRY_ENDPOINTS = ("**/v1/units/*/confirmation*", "**/v1/units/*/funnel*", "**/v1/units/*/goals*",
                      "**/v1/units/*/outcome-reasons*", "**/v1/worklists?*")


async def test_registry_panels_say_so_when_the_server_has_no_answer(page: Page, stack: Stack, screenshots):
    """A server without the registry endpoints (404): the panels say "not available yet" and the
    unit's own figures, ranking and live updates are untouched."""
    for pattern in REGISTRY_ENDPOINTS:
        await page.route(pattern, lambda route: route.fulfill(
            status=404, content_type="application/json", body='{"detail": [{"field": "path", "message": "not found"}]}'))
    await open_board(page, stack, route="#/unit/TH-03")
    for panel in ("confirmation", "funnel", "goals", "reasons", "worklist"):
        await expect(page.get_by_test_id(f"{panel}-unavailable")).to_have_text("Chưa có số liệu")
    await expect(page.get_by_test_id("error")).to_be_hidden()
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(stack.today_count("TH-03")))
    await expect(page.get_by_test_id("ranking").locator("tbody tr").first).to_be_visible()
    await stack.activations("TH-03-C01-T1", 1)
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(stack.today_count("TH-03")), timeout=LIVE_BUDGET_MS)
    await page.screenshot(path=screenshots / "registry-unavailable.png", full_page=True)


async def test_empty_registry_answers_leave_quiet_panels(page: Page, stack: Stack):
    """Endpoints that answer with nothing to show: no goal, no outcome, an empty list."""
    empty = {
        "**/v1/units/*/goals*": {"unit": "TH-03", "goals": []},
        "**/v1/units/*/outcome-reasons*": {"unit": "TH-03", "waiting": 0, "reasons": [
            {"reason": "no_smartphone", "vi": "x", "en": "x", "count": 0}]},
        "**/v1/worklists?*": {"unit": "TH-03", "list": "approved_not_activated", "title_vi": "Đã phê duyệt, chưa kích hoạt",
                              "title_en": "Approved, not activated", "total": 0, "offset": 0, "items": [], "clear": False},
    }
    def answer(body: dict):
        return lambda route: route.fulfill(status=200, json=body)

    for pattern, body in empty.items():
        await page.route(pattern, answer(body))
    await open_board(page, stack, route="#/unit/TH-03")
    await expect(page.get_by_test_id("goals-empty")).to_have_text("Chưa đặt mục tiêu")
    await expect(page.get_by_test_id("reasons-empty")).to_have_text("Chưa ghi nhận kết quả nào")
    await expect(page.get_by_test_id("worklist-empty")).to_have_text("Danh sách trống")
    await expect(page.get_by_test_id("worklist-link")).to_be_visible()
