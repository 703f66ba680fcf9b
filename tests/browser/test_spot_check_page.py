"""Spot checks in real headless Chromium on the full stack (issue 18): a district focal point
draws a check of a commune from the board, works it on the verification page at phone width
(contacts revealed and audited, three tries that reach nobody bring a reserve in, a post lost to
the network retried with the same id, a conflicting outcome named, the verdict shown), and the
board then shows the commune's result with its interval. The commune's own focal point sees
nothing of an open check. Screenshots go to tests/artifacts/screenshots/.

Expected figures are computed here without tally06 code: the sample's phones from the events the
test stack accepted (by the claim numbers the check froze), the 95 % interval by Clopper and
Pearson's definition solved by bisection over the binomial sums.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from playwright.async_api import Browser, Page, Route, expect

from tally06.domain.accounts import Role
from tally06.domain.spot_checks import STATUS_TEXTS, CheckStatus
from tests.browser.conftest import SCREENSHOTS, Stack, sign_in
from tests.support.sessions import PASSWORD, bearer, make_user
from tests.support.spot_check_rows import Item, insert_check

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1600, "height": 1000}
COMMUNE = "TH-03-C01"  # worked by the stack's history teams TH-03-C01-T1 (and -T2)
QUIET_COMMUNE = "TH-03-C02"
DISTRICT = "TH-03"


@pytest.fixture
def clock_now(stack: Stack) -> Iterator[None]:
    """The wallboard's clock at the real time: the stack's board stands at 15:00, and a draw takes
    only claims received by then (the Appendix I rule), which the history posted just now is not."""
    clock = Path(stack.services["wallboard"].env["TALLY06_CLOCK"].removeprefix("file:"))
    kept = clock.read_text("utf-8")
    clock.write_text((dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).isoformat(), "utf-8")
    yield
    clock.write_text(kept, "utf-8")


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact interval: the rates at which seeing this many or more (fewer) successes has
    probability (1 - confidence) / 2."""
    tail = (1 - confidence) / 2

    def at_least(p: float) -> float:
        return sum(math.comb(trials, k) * p**k * (1 - p) ** (trials - k) for k in range(successes, trials + 1))

    def bisect(f, target: float, rising: bool) -> float:
        lo, hi = 0.0, 1.0
        for _ in range(100):
            mid = (lo + hi) / 2
            if (f(mid) < target) == rising:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    low = 0.0 if successes == 0 else bisect(at_least, tail, rising=True)
    high = 1.0 if successes == trials else bisect(lambda p: 1 - at_least(p) + (
        math.comb(trials, successes) * p**successes * (1 - p) ** (trials - successes)), tail, rising=False)
    return low, high


@contextlib.asynccontextmanager
async def phone_page(browser: Browser) -> AsyncIterator[Page]:
    """A phone-sized, touch page whose scripts must not throw."""
    context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2,
                                        locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        yield page
    finally:
        await context.close()
    assert errors == [], errors


async def sign_in_on(page: Page, url: str, username: str) -> None:
    await page.goto(url)
    await page.get_by_test_id("username").fill(username)
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("sign-in-button").click()


async def fetch(database: str, query: str, *args):
    conn = await asyncpg.connect(database)
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


def item(page: Page, rank: int):
    return page.locator(f'[data-testid=spot-item][data-rank="{rank}"]')


async def tap(page: Page, rank: int, outcome: str) -> None:
    button = item(page, rank).get_by_test_id(f"spot-outcome-{outcome}")
    await expect(button).to_be_enabled()
    await button.tap()


async def test_a_verifier_draws_verifies_on_a_phone_and_the_board_shows_the_verdict(
        stack: Stack, browser: Browser, signed_out_page: Page, clock_now: None):
    verifier = await make_user(stack.database, Role.DISTRICT_FOCAL, DISTRICT, name="Lê Văn Kiểm")
    other = await make_user(stack.database, Role.PROVINCE_OPERATOR, "TH", name="Hoàng Thị Tỉnh")
    board = signed_out_page
    await sign_in(board, stack.board, verifier)
    await board.goto(f"{stack.board}/#/unit/{COMMUNE}")
    panel = board.get_by_test_id("spot-panel")
    await expect(panel.get_by_test_id("spot-none")).to_be_visible()
    # The rule the province's (default) thresholds design, previewed before anything is drawn.
    preview = panel.get_by_test_id("spot-preview-rule")
    await expect(preview).to_have_attribute("data-n", "16")
    await expect(preview).to_have_attribute("data-d", "2")
    await panel.get_by_test_id("spot-draw-n").fill("5")
    await panel.get_by_test_id("spot-draw-d").fill("1")
    await expect(preview).to_have_attribute("data-n", "5")
    await expect(preview).to_have_attribute("data-d", "1")
    await panel.get_by_test_id("spot-draw-button").click()
    result = panel.get_by_test_id("spot-draw-result")
    await expect(result).to_contain_text("Đã rút mẫu: đợt số")
    check_id = int(re.search(r"đợt số (\d+)", await result.inner_text()).group(1))
    listed = panel.get_by_test_id(f"spot-open-{check_id}")
    await expect(listed).to_contain_text("đã kiểm tra 0/5")
    link = listed.get_by_test_id(f"spot-link-{check_id}")
    assert await link.get_attribute("href") == f"/static/spotcheck.html?id={check_id}"

    # What the check froze, and the phones the field sent for those claims (from the test's own record).
    drawn = {r["rank"]: r["seq"] for r in await fetch(
        stack.database, "SELECT rank, seq FROM spot_check_items WHERE check_id = $1", check_id)}
    phone_of = {seq: event["citizen"]["phone"] for seq, event in stack.accepted}
    assert all(stack_team.startswith(COMMUNE) for stack_team in
               (event["team"] for seq, event in stack.accepted if seq in drawn.values()))

    async with phone_page(browser) as page:
        await sign_in_on(page, f"{stack.board}/static/spotcheck.html?id={check_id}", verifier)
        await expect(page.get_by_test_id("spot-rule")).to_have_text("kiểm tra 5, đạt nếu ≤ 1 sai")
        items = page.get_by_test_id("spot-item")
        await expect(items).to_have_count(5)  # the sample; reserves stay out of sight
        assert [await i.get_attribute("data-rank") for i in await items.all()] == ["0", "1", "2", "3", "4"]
        # Masked until asked; nothing to call yet.
        await expect(page.get_by_test_id("spot-tel")).to_have_count(0)
        assert phone_of[drawn[0]] not in await page.get_by_test_id("spot-items").inner_text()
        audited = "SELECT actor FROM audit_log WHERE action = 'spotcheck.view' AND clear_pii AND detail->>'check' = $1"
        assert await fetch(stack.database, audited, str(check_id)) == []
        await page.get_by_test_id("spot-reveal").tap()
        await expect(page.get_by_test_id("spot-tel")).to_have_count(5)
        for rank in range(5):
            tel = item(page, rank).get_by_test_id("spot-tel")
            assert await tel.get_attribute("href") == f"tel:{phone_of[drawn[rank]]}"
        assert [r["actor"] for r in await fetch(stack.database, audited, str(check_id))] == [verifier]
        # Made for a thumb: nothing wider than the phone, buttons big enough to tap.
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        box = await item(page, 1).get_by_test_id("spot-outcome-confirmed").bounding_box()
        assert box and box["height"] >= 44

        # Rank 0 reaches nobody three times: unreachable, and the first reserve comes in.
        for attempt in (1, 2, 3):
            await expect(item(page, 0).get_by_test_id("spot-outcome-no_answer")).to_contain_text(f"{attempt}/3")
            await tap(page, 0, "no_answer")
            await expect(item(page, 0).get_by_test_id("spot-item-msg")).to_have_text("Đã lưu")
        await expect(item(page, 0).get_by_test_id("spot-recorded")).to_have_attribute("data-outcome", "unreachable")
        await expect(items).to_have_count(6)
        await expect(item(page, 5)).to_contain_text("Dự phòng")
        await tap(page, 1, "confirmed")
        await expect(item(page, 1).get_by_test_id("spot-recorded")).to_contain_text("Xác nhận đúng")
        await item(page, 2).get_by_test_id("spot-note").fill("Tổ khác hướng dẫn")
        await tap(page, 2, "not_guided")
        await expect(item(page, 2).get_by_test_id("spot-recorded")).to_contain_text("Cán bộ được ghi không hướng dẫn")
        await expect(page.get_by_test_id("spot-progress")).to_contain_text("đã kiểm tra 2/5 · 1 sai trong 2")

        # The network drops the first post of rank 3: the page posts again, with the same id.
        posts: list[dict] = []

        async def drop_first(route: Route) -> None:
            posts.append(route.request.post_data_json)
            if len(posts) == 1:
                await route.abort("failed")
            else:
                await route.continue_()

        await page.route(f"**/v1/spot-checks/{check_id}/items/3/outcomes", drop_first)
        await tap(page, 3, "confirmed")
        await expect(item(page, 3).get_by_test_id("spot-recorded")).to_contain_text("Xác nhận đúng")
        assert len(posts) == 2 and posts[0] == posts[1] and uuid.UUID(posts[0]["id"]).version == 4
        await page.unroute(f"**/v1/spot-checks/{check_id}/items/3/outcomes")

        # Another verifier recorded rank 4 meanwhile: the page says who, and shows their outcome.
        async with httpx.AsyncClient(base_url=stack.board, headers=await bearer(stack.board, other)) as api:
            answer = await api.post(f"/v1/spot-checks/{check_id}/items/4/outcomes",
                                    json={"id": str(uuid.uuid4()), "outcome": "confirmed"})
        assert answer.status_code == 201, answer.text
        await tap(page, 4, "not_activated")
        await expect(item(page, 4).get_by_test_id("spot-item-msg")).to_contain_text(other)
        await expect(item(page, 4).get_by_test_id("spot-recorded")).to_contain_text(f"Xác nhận đúng — {other}")
        await expect(page.get_by_test_id("spot-verdict")).to_be_hidden()

        # The reserve confirmed: 4 of 5 real, at most 1 failure: passed.
        await tap(page, 5, "confirmed")
        verdict = page.get_by_test_id("spot-verdict")
        await expect(verdict).to_be_visible()
        await expect(verdict.get_by_test_id("spot-verdict-status")).to_have_text("Đạt")
        await expect(verdict.get_by_test_id("spot-verdict-found")).to_have_text("1 sai trong 5 đã kiểm tra")
        low, high = clopper_pearson(4, 5)
        interval = verdict.get_by_test_id("spot-interval")
        assert math.isclose(float(await interval.get_attribute("data-low")), low, abs_tol=1e-6)
        assert math.isclose(float(await interval.get_attribute("data-high")), high, abs_tol=1e-6)
        await expect(verdict.get_by_test_id("spot-rate")).to_have_text("80 %")
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "spotcheck-phone.png"), full_page=True)
        # The check for the file: the clear export (contacts were revealed), with the session's
        # cookie, an .xlsx whose items sheet names the citizens; the server audits it.
        export = page.get_by_test_id("spot-export")
        await expect(export).to_be_visible()
        href = await export.get_attribute("href")
        assert href == f"/v1/spot-checks/{check_id}/export.xlsx?clear=true"
        download = await page.request.get(f"{stack.board}{href}")
        assert download.ok and (await download.body())[:2] == b"PK"
        exports = await fetch(stack.database, "SELECT count(*) AS n FROM audit_log WHERE action = 'export.spotcheck' "
                                              "AND clear_pii AND actor = $1", verifier)
        assert exports[0]["n"] == 1
        # English, like the other pages.
        await page.get_by_test_id("lang-toggle").tap()
        await expect(verdict.get_by_test_id("spot-verdict-status")).to_have_text("Passed")

    rows = await fetch(stack.database, "SELECT rank, outcome, note, recorded_by FROM spot_check_outcomes "
                                       "WHERE check_id = $1 ORDER BY recorded_at", check_id)
    assert [(r["rank"], r["outcome"]) for r in rows] == [
        (0, "no_answer"), (0, "no_answer"), (0, "no_answer"), (1, "confirmed"), (2, "not_guided"), (3, "confirmed"),
        (4, "confirmed"), (5, "confirmed")]
    assert rows[4]["note"] == "Tổ khác hướng dẫn"
    assert {r["recorded_by"] for r in rows} == {verifier, other}

    # The board: the commune's last check, its result and its interval; nothing open any more.
    await board.goto(f"{stack.board}/?r=1#/unit/{COMMUNE}")
    last = board.get_by_test_id("spot-panel").get_by_test_id(f"spot-check-{check_id}")
    await expect(last.get_by_test_id("spot-result")).to_have_attribute("data-status", "passed")
    await expect(last.get_by_test_id("spot-result")).to_have_text("Đạt")
    await expect(last.get_by_test_id("spot-found")).to_have_text("1 sai trong 5 đã kiểm tra")
    await expect(last.get_by_test_id("spot-interval-text")).to_have_text(
        f"khoảng tin cậy 95 %: {low * 100:.1f} % – {high * 100:.1f} %".replace(".", ","))
    # The whisker spans the interval on the 0–100 % axis.
    style = await last.get_by_test_id("spot-whisker").get_attribute("style") or ""
    left, width = (float(v) for v in re.search(r"left:\s*([\d.]+)%;\s*width:\s*([\d.]+)%", style).groups())
    assert math.isclose(left, 100 * low, abs_tol=1e-3) and math.isclose(left + width, 100 * high, abs_tol=1e-3)
    await expect(board.get_by_test_id(f"spot-open-{check_id}")).to_have_count(0)
    await board.get_by_test_id("spot-panel").scroll_into_view_if_needed()
    await board.screenshot(path=str(SCREENSHOTS / "spotcheck-board.png"), full_page=True)


async def test_the_communes_own_focal_point_sees_no_open_check(stack: Stack, signed_out_page: Page, clock_now: None):
    verifier = await make_user(stack.database, Role.DISTRICT_FOCAL, DISTRICT)
    focal = await make_user(stack.database, Role.COMMUNE_FOCAL, QUIET_COMMUNE)
    async with httpx.AsyncClient(base_url=stack.board, timeout=30) as api:
        drawn = await api.post("/v1/spot-checks", headers=await bearer(stack.board, verifier),
                               json={"unit": QUIET_COMMUNE, "n": 3, "d": 0})
        assert drawn.status_code == 201, drawn.text
        check_id = drawn.json()["id"]
        # Not vacuous: the district sees it open.
        seen = await api.get("/v1/spot-checks", params={"status": "open"}, headers=await bearer(stack.board, verifier))
        assert check_id in [c["id"] for c in seen.json()]
        mine = await bearer(stack.board, focal)
        assert (await api.get("/v1/spot-checks", params={"status": "open"}, headers=mine)).json() == []
    page = signed_out_page
    await sign_in(page, stack.board, focal)
    await page.goto(f"{stack.board}/#/unit/{QUIET_COMMUNE}")
    panel = page.get_by_test_id("spot-panel")
    await expect(panel.get_by_test_id("spot-none")).to_be_visible()
    await expect(panel.get_by_test_id("spot-open")).to_be_hidden()
    await expect(panel.get_by_test_id("spot-draw")).to_have_count(0)
    await expect(page.locator("[data-testid^=spot-open-], [data-testid^=spot-link-], [data-testid^=spot-check-]")
                 ).to_have_count(0)
    assert "Đang kiểm tra" not in await page.locator("body").inner_text()
    # The verification page tells them nothing either: the same answer as for no check at all.
    await page.goto(f"{stack.board}/static/spotcheck.html?id={check_id}")
    await expect(page.get_by_test_id("error")).to_contain_text(f"no spot check {check_id}")
    await expect(page.get_by_test_id("spot-item")).to_have_count(0)


async def test_a_failed_check_marks_the_units_row_in_the_ranking(stack: Stack, signed_out_page: Page, clock_now: None):
    """The district's board ranks its communes; the one whose latest check failed carries the
    mark (the words of domain.spot_checks.STATUS_TEXTS), the others none."""
    conn = await asyncpg.connect(stack.database)
    try:
        check_id = await insert_check(conn, QUIET_COMMUNE, "failed", dt.datetime.now(dt.UTC),
                                      [Item(f"{QUIET_COMMUNE}-T1", "CA-X", "not_guided")] * 3 +
                                      [Item(f"{QUIET_COMMUNE}-T1", "CA-X", "confirmed")] * 5)
    finally:
        await conn.close()
    verifier = await make_user(stack.database, Role.DISTRICT_FOCAL, DISTRICT)
    page = signed_out_page
    await sign_in(page, stack.board, verifier)
    await page.goto(f"{stack.board}/#/unit/{DISTRICT}")
    mark = page.get_by_test_id(f"spot-mark-{QUIET_COMMUNE}")
    await expect(mark).to_have_text(STATUS_TEXTS[CheckStatus.FAILED][0])
    await expect(mark).to_have_attribute("title", f"#{check_id}")
    await expect(page.locator("[data-testid^=spot-mark-]")).to_have_count(1)
