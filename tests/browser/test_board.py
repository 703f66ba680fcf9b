"""The wall screen in real headless Chromium: live figures, drill-down, language, TV mode, stale
data and a restart of the wallboard service, on the 2023 map; and on a national deployment, the
drill-down of a two-tier province with level names from the data, ranking columns that keep
apart at every level, and a map switch followed by an open board. Screenshots go to
tests/artifacts/screenshots/."""

from __future__ import annotations

import asyncio
import re

import asyncpg
from playwright.async_api import Page, expect

from tally06.domain.accounts import Role
from tally06.domain.org import KIND_WORDS, UnitKind
from tally06.store.org import save_map
from tests.browser.conftest import NATIONAL_ROWS, Stack, sign_in
from tests.support import national_map
from tests.support.sessions import make_user

LIVE_BUDGET_MS = 2_000  # an accepted event must be on the board within 2 s


def vi(n: int) -> str:
    """A count as the Vietnamese board prints it (1.234)."""
    return f"{n:,}".replace(",", ".")


async def open_board(page: Page, stack: Stack, query: str = "", route: str = "#/unit/TH") -> None:
    await page.goto(f"{stack.board}/{query}{route}")
    await expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "live", timeout=10_000)
    await expect(page.get_by_test_id("today-count").or_(page.get_by_test_id("leaderboard"))).to_be_visible()


async def test_posted_events_appear_on_the_province_view_within_two_seconds(page: Page, stack: Stack, screenshots):
    await open_board(page, stack)
    today = page.get_by_test_id("today-count")
    await expect(today).to_have_text(vi(stack.today_count("TH")))
    await expect(page.get_by_test_id("today-TH-03")).to_have_text(vi(stack.today_count("TH-03")))
    await expect(page.get_by_test_id("ranking").locator("tbody tr")).to_have_count(27)

    await stack.activations("TH-03-C01-T1", 4)
    await expect(today).to_have_text(vi(stack.today_count("TH")), timeout=LIVE_BUDGET_MS)
    await expect(page.get_by_test_id("today-TH-03")).to_have_text(vi(stack.today_count("TH-03")), timeout=LIVE_BUDGET_MS)
    await stack.activations("TH-26-C01-T1", 3, level=1)
    await expect(page.get_by_test_id("today-TH-26")).to_have_text(vi(stack.today_count("TH-26")), timeout=LIVE_BUDGET_MS)
    await expect(page.get_by_test_id("stale-banner")).to_be_hidden()
    await expect(page.get_by_test_id("last-update")).to_contain_text("Cập nhật lúc")
    await expect(page.locator("canvas[data-testid=trend-chart]")).to_be_visible()
    await expect(page.get_by_test_id("claims-total")).to_have_text("2")
    # An alert the notifier opens below the province shows up in the open-alerts panel.
    alert_id = await stack.open_alert("TH-03-C01-T2")
    await expect(page.get_by_test_id(f"alert-{alert_id}")).to_contain_text("Chậm tiến độ trong ngày", timeout=LIVE_BUDGET_MS + 1_000)
    await page.screenshot(path=screenshots / "province-vi.png")


async def test_drill_down_from_province_to_team_with_linkable_views(page: Page, stack: Stack, screenshots):
    await open_board(page, stack)
    await page.get_by_test_id("row-TH-03").click()
    await expect(page).to_have_url(re.compile(r"#/unit/TH-03$"))
    await expect(page.get_by_test_id("crumbs")).to_contain_text("Thành phố Sầm Sơn")
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(stack.today_count("TH-03")))
    await page.screenshot(path=screenshots / "district.png")

    await page.get_by_test_id("row-TH-03-C01").click()
    await expect(page).to_have_url(re.compile(r"#/unit/TH-03-C01$"))
    await page.get_by_test_id("row-TH-03-C01-T1").click()
    await expect(page).to_have_url(re.compile(r"#/unit/TH-03-C01-T1$"))
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(stack.today_count("TH-03-C01-T1")))
    # A team's view follows its own events live too.
    await stack.activations("TH-03-C01-T1", 2)
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(stack.today_count("TH-03-C01-T1")),
                                                                  timeout=LIVE_BUDGET_MS)
    await page.screenshot(path=screenshots / "team.png")

    # Breadcrumbs lead back up; a copied link opens the same view.
    await page.get_by_test_id("crumb-TH-03").click()
    await expect(page).to_have_url(re.compile(r"#/unit/TH-03$"))
    await page.goto(f"{stack.board}/#/unit/TH-03-C02")
    await expect(page.get_by_test_id("unit-view")).to_have_attribute("data-unit", "TH-03-C02")
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(stack.today_count("TH-03-C02")))


async def test_language_switches_to_english_and_back(page: Page, stack: Stack, screenshots):
    await open_board(page, stack, route="#/unit/TH-03")
    await expect(page.locator("#title")).to_have_text("Đề án 06 — Kích hoạt tài khoản định danh điện tử")
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.locator("#title")).to_have_text("Project 06 — Electronic identity activation")
    await expect(page.locator("#ranking-title")).to_have_text("Ranking of communes")
    await expect(page).to_have_url(re.compile(r"\?lang=en#/unit/TH-03$"))  # linkable, view kept
    await expect(page.get_by_test_id("today-count")).to_have_text(f"{stack.today_count('TH-03'):,}")
    await page.screenshot(path=screenshots / "district-en.png")
    await page.reload()
    await expect(page.get_by_test_id("last-update")).to_contain_text("Updated at")
    await page.get_by_test_id("lang-toggle").click()
    await expect(page.locator("#ranking-title")).to_have_text("Xếp hạng cấp xã")
    await expect(page.locator("html")).to_have_attribute("lang", "vi")


async def test_tv_mode_has_large_type_no_controls_and_rotates(page: Page, stack: Stack, screenshots):
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await open_board(page, stack, query="?tv=1&rotate=3")
    await expect(page.locator("body")).to_have_class(re.compile(r"\btv\b"))
    await expect(page.get_by_test_id("lang-toggle")).to_be_hidden()
    # All 27 districts fit on the screen without scrolling.
    last = page.get_by_test_id("row-TH-27")
    await expect(last).to_be_in_viewport()
    size = await page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert size >= 17  # about 0.9 % of the screen width on a 1080p wall screen
    await page.screenshot(path=screenshots / "tv-province.png")
    await expect(page).to_have_url(re.compile(r"#/leaderboard/commune$"), timeout=6_000)
    await expect(page.get_by_test_id("leaderboard-view")).to_be_visible()
    await expect(page.get_by_test_id("leaderboard").locator("tbody tr").first).to_be_visible()
    await page.screenshot(path=screenshots / "tv-leaderboard.png")


async def test_stale_indicator_and_recovery_after_a_wallboard_restart(page: Page, stack: Stack, wallboard_process,
                                                                      screenshots):
    await open_board(page, stack, query="?stale=3")
    await expect(page.locator("body")).to_have_attribute("data-stale", "false")
    await asyncio.to_thread(wallboard_process.stop)
    await expect(page.get_by_test_id("conn-state")).not_to_have_attribute("data-state", "live", timeout=3_000)
    # Without a word from the server the figures turn stale: greyed out under a banner.
    await expect(page.get_by_test_id("stale-banner")).to_be_visible(timeout=6_000)
    await expect(page.locator("body")).to_have_attribute("data-stale", "true")
    await expect(page.get_by_test_id("stale-banner")).to_contain_text("SỐ LIỆU CŨ")
    await page.screenshot(path=screenshots / "stale.png")

    # Work goes on while the wallboard is down; the same port comes back with a new process.
    await stack.activations("TH-03-C01-T2", 5)
    await asyncio.to_thread(wallboard_process.start, "/readyz", 60)
    await expect(page.get_by_test_id("conn-state")).to_have_attribute("data-state", "live", timeout=10_000)
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(stack.today_count("TH")), timeout=5_000)
    await expect(page.get_by_test_id("stale-banner")).to_be_hidden()
    # And live updates flow again on the reconnected stream.
    await stack.activations("TH-03-C01-T2", 1)
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(stack.today_count("TH")), timeout=LIVE_BUDGET_MS)
    await page.screenshot(path=screenshots / "after-restart.png")


async def test_sign_in_is_required_and_a_district_sees_only_its_own(signed_out_page: Page, stack: Stack, screenshots):
    page = signed_out_page
    await page.goto(f"{stack.board}/")
    await expect(page.get_by_test_id("sign-in")).to_be_visible()
    await page.get_by_test_id("username").fill(stack.operator)
    await page.get_by_test_id("password").fill("not the password")
    await page.get_by_test_id("sign-in-button").click()
    await expect(page.get_by_test_id("sign-in-error")).to_have_text("Sai tên đăng nhập hoặc mật khẩu")
    await page.screenshot(path=screenshots / "sign-in.png")

    focal = await make_user(stack.database, Role.DISTRICT_FOCAL, "TH-03", name="Đầu mối Sầm Sơn")
    await sign_in(page, stack.board, focal)
    await expect(page.get_by_test_id("who")).to_contain_text("Đầu mối Sầm Sơn · TH-03")
    await expect(page.get_by_test_id("crumbs")).to_contain_text("Thành phố Sầm Sơn")
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(stack.today_count("TH-03")))
    rows = page.get_by_test_id("ranking").locator("tbody tr")
    assert all(code.startswith("TH-03-") for code in await rows.evaluate_all("rs => rs.map(r => r.dataset.code)"))
    # Another district by its link: refused, nothing of it shown.
    await page.goto(f"{stack.board}/#/unit/TH-01")
    await expect(page.get_by_test_id("error")).to_contain_text("403")

    await page.get_by_test_id("sign-out").click()
    await expect(page.get_by_test_id("sign-in")).to_be_visible()


# The widest figures a ranking shows in a province's campaign (Thanh Hóa: 3.1 million to
# activate), written into every row: the test stack holds a few hundred events, and a column that
# fits "73" may still let "3.106.095" run into its neighbour.
WIDEST_FIGURES = """() => {
  document.querySelectorAll("table.ranking [data-testid^=score-]").forEach((e) => { e.textContent = "3.106.095"; });
  document.querySelectorAll("table.ranking .ratio").forEach((e) => { e.textContent = "12.345 / 12.345"; });
}"""
# Every ranking cell whose content is wider than the cell (the browser's own measure), and every
# pair of neighbouring cells whose boxes, or whose contents' boxes, overlap: a figure that runs
# into the next column is one of these.
CELLS_RUNNING_TOGETHER = """() => {
  const problems = [];
  const extent = (cell) => {
    const range = document.createRange();
    range.selectNodeContents(cell);
    const box = range.getBoundingClientRect();
    return box.width || box.height ? box : null;
  };
  for (const row of document.querySelectorAll("table.ranking tr")) {
    const where = row.dataset.code ?? "header";
    const cells = [...row.cells];
    cells.forEach((cell, i) => {
      const name = `${where} ${cell.className || cell.tagName + (i + 1)}`;
      if (cell.scrollWidth > cell.clientWidth) problems.push(`${name}: ${cell.scrollWidth} > ${cell.clientWidth} px`);
      const box = cell.getBoundingClientRect();
      const content = extent(cell);
      if (content && (content.right > box.right + 0.5 || content.left < box.left - 0.5)) {
        problems.push(`${name}: content ${Math.round(content.left)}-${Math.round(content.right)} px outside the cell`);
      }
      const next = cells[i + 1];
      if (!next) return;
      const nextBox = next.getBoundingClientRect();
      if (box.right > nextBox.left + 0.5) problems.push(`${name}: overlaps the next cell`);
      const nextContent = extent(next);
      if (content && nextContent && content.right > nextContent.left + 0.5) {
        problems.push(`${name}: content runs into the next cell's by ${Math.round(content.right - nextContent.left)} px`);
      }
    });
  }
  return problems;
}"""


async def assert_columns_keep_apart(page: Page, what: str) -> None:
    await expect(page.locator("table.ranking tr.drill").first).to_be_visible()
    await page.evaluate(WIDEST_FIGURES)
    assert await page.evaluate(CELLS_RUNNING_TOGETHER) == [], what


async def test_ranking_columns_keep_apart_at_every_level(page: Page, stack: Stack, screenshots):
    """At 1600 px the figures of one column never run into the next: districts, communes, teams."""
    for unit, shot in (("TH", "ranking-districts"), ("TH-03", "ranking-communes"), ("TH-03-C01", "ranking-teams")):
        await open_board(page, stack, route=f"#/unit/{unit}")
        await assert_columns_keep_apart(page, unit)
        await page.screenshot(path=screenshots / f"{shot}.png")


# --- A national deployment: a country over a two-tier province of 166 communes and a province
# with districts. The operator sits at the country root.

def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def level_vi(kind: UnitKind) -> str:
    return KIND_WORDS[kind].vi_level


async def test_drill_down_a_two_tier_province_with_level_names_from_the_data(national_page: Page, national: Stack,
                                                                              screenshots):
    page = national_page
    title, crumbs = page.locator("#ranking-title"), page.get_by_test_id("crumbs")
    rows = page.get_by_test_id("ranking").locator("tbody tr")
    await open_board(page, national, route="")  # the board starts at the user's root
    await expect(page.get_by_test_id("unit-view")).to_have_attribute("data-unit", "VN")
    await expect(title).to_have_text(f"Xếp hạng {lower_first(level_vi(UnitKind.PROVINCE))}")
    await expect(rows).to_have_count(2)
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(national.today_count("VN")))
    await page.screenshot(path=screenshots / "national.png")

    # The province: its communes directly, 166 of them, named "Cấp xã" as the data says.
    await page.get_by_test_id("row-TQ").click()
    await expect(page).to_have_url(re.compile(r"#/unit/TQ$"))
    assert f"Xếp hạng {lower_first(level_vi(UnitKind.COMMUNE))}" == "Xếp hạng cấp xã"
    await expect(title).to_have_text("Xếp hạng cấp xã")
    await expect(crumbs).to_contain_text(f"{level_vi(UnitKind.PROVINCE)} Tỉnh Tuyên Quang")
    await expect(rows).to_have_count(166)
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(national.today_count("TQ")))
    await expect(page.get_by_test_id("today-TQ-X003")).to_have_text(vi(national.today_count("TQ-X003")))
    await page.screenshot(path=screenshots / "two-tier-province.png", full_page=True)

    # A commune: its teams.
    await page.get_by_test_id("row-TQ-X003").click()
    await expect(page).to_have_url(re.compile(r"#/unit/TQ-X003$"))
    await expect(crumbs).to_contain_text(f"{level_vi(UnitKind.COMMUNE)} {national.rows.rows['TQ-X003'].name}")
    await expect(title).to_have_text(f"Xếp hạng {lower_first(level_vi(UnitKind.TEAM))}")
    await expect(rows).to_have_count(2)
    await expect(page.get_by_test_id("today-TQ-X003-T2")).to_have_text(vi(national.today_count("TQ-X003-T2")))
    await page.screenshot(path=screenshots / "two-tier-commune.png")

    # A team, live.
    await page.get_by_test_id("row-TQ-X003-T1").click()
    await expect(page).to_have_url(re.compile(r"#/unit/TQ-X003-T1$"))
    await national.activations("TQ-X003-T1", 3)
    await expect(page.get_by_test_id("today-count")).to_have_text(vi(national.today_count("TQ-X003-T1")),
                                                                  timeout=LIVE_BUDGET_MS)
    await expect(crumbs).to_have_text(" › ".join(
        f"{level_vi(UnitKind(national.rows.rows[c].kind))} {national.rows.rows[c].name}"
        for c in national.rows.path("TQ-X003-T1")).replace(" › ", "›"))
    await page.screenshot(path=screenshots / "two-tier-team.png")

    # In English the words of the same kinds: "Communes", "Province".
    await page.get_by_test_id("lang-toggle").click()
    await page.get_by_test_id("crumb-TQ").click()
    assert f"Ranking of {lower_first(KIND_WORDS[UnitKind.COMMUNE].en_level)}" == "Ranking of communes"
    await expect(title).to_have_text("Ranking of communes")
    await expect(crumbs).to_contain_text(f"{KIND_WORDS[UnitKind.PROVINCE].en} Tỉnh Tuyên Quang")
    await page.screenshot(path=screenshots / "two-tier-province-en.png")

    # Every commune of both provinces on one leaderboard, and HB's districts in its own view.
    await open_board(page, national, query="?lang=en", route="#/leaderboard/commune")
    await expect(page.locator("#lb-title")).to_have_text("Leaderboard of communes in Việt Nam")
    await open_board(page, national, query="?lang=en", route="#/unit/HB")
    await expect(title).to_have_text(f"Ranking of {lower_first(KIND_WORDS[UnitKind.DISTRICT].en_level)}")


async def test_ranking_columns_keep_apart_on_the_two_tier_map(national_page: Page, national: Stack, screenshots):
    """1600 px, the widest figures of a province's campaign: the provinces, the 166 communes of the
    two-tier province, a commune's teams, HB's districts and the leaderboard of every commune."""
    for route, shot in (("#/unit/VN", "ranking-provinces"), ("#/unit/TQ", "ranking-two-tier-communes"),
                        ("#/unit/TQ-X003", "ranking-two-tier-teams"), ("#/unit/HB", "ranking-national-districts"),
                        ("#/leaderboard/commune", "leaderboard-national-communes")):
        await open_board(national_page, national, route=route)
        await assert_columns_keep_apart(national_page, route)
        await national_page.screenshot(path=screenshots / f"{shot}.png")


async def test_an_open_board_follows_a_map_switch(national_page: Page, national: Stack, screenshots):
    """Last of the national tests: it changes the stack's map. HB's districts are dissolved while a
    board shows one of them; the board goes to the top and HB now ranks its communes."""
    page = national_page
    await open_board(page, national, route="#/unit/HB-D1")
    await expect(page.locator("#ranking-title")).to_have_text("Xếp hạng cấp xã")
    rows2, mapping = national_map.hb_two_tier(NATIONAL_ROWS)
    conn = await asyncpg.connect(national.database)
    try:
        async with conn.transaction():
            # backdate: ``national.today`` is a minute ago's, yesterday's just after midnight.
            await save_map(conn, national_map.registry(rows2), effective_from=national.today, mapping=mapping,
                           source="test", backdate=True)
    finally:
        await conn.close()
    # The aggregator switches the read model, the wallboard follows and tells the board.
    await expect(page).to_have_url(re.compile(r"#/unit/VN$"), timeout=15_000)
    await page.get_by_test_id("row-HB").click()
    await expect(page.locator("#ranking-title")).to_have_text("Xếp hạng cấp xã")
    await expect(page.get_by_test_id("ranking").locator("tbody tr")).to_have_count(2)
    national.rows = national_map.Map(rows2)
    await expect(page.get_by_test_id("today-HB-X12")).to_have_text(vi(national.today_count("HB-X12")))
    await page.screenshot(path=screenshots / "after-map-switch.png")
