"""The team lead's work-list page in a real browser: the team's citizens with a phone to call,
and a reason chosen on the page recorded for the right citizen."""

from __future__ import annotations

from tally06.domain.accounts import Role
from tests.browser.conftest import SCREENSHOTS
from tests.integration.wallboard.test_work_lists import expected, load_registry, people
from tests.support.cli import tally06
from tests.support.sessions import PASSWORD, make_user


async def test_a_team_lead_calls_and_records_a_reason(database, db, start_service, signed_out_page, tmp_path):
    citizens = people()
    await load_registry(db, citizens)
    code, out, err = await tally06(database, "worklists", "assign", "--village", "Thôn Đông", "--team", "TH-03-C01-T1")
    assert code == 0, out + err
    wallboard = start_service("wallboard")
    lead = await make_user(database, Role.TEAM_LEAD, "TH-03-C01-T1", name="Trần Văn Bình")
    page = signed_out_page
    await page.goto(f"{wallboard.url}/static/worklist.html")
    await page.get_by_test_id("username").fill(lead)
    await page.get_by_test_id("password").fill(PASSWORD)
    await page.get_by_test_id("sign-in-button").click()
    rows = page.get_by_test_id("worklist-row")
    await rows.first.wait_for()
    by_ref = {c.ref: c for c in citizens}
    want = expected(citizens, "TH-03-C01-T1", "approved")
    assert {await r.get_attribute("data-ref") for r in await rows.all()} == want
    first = rows.first
    citizen = by_ref[await first.get_attribute("data-ref")]
    assert await first.get_by_test_id("worklist-phone").get_attribute("href") == f"tel:{citizen.phone}"
    assert citizen.name in await first.inner_text()
    await first.get_by_test_id("outcome-reason").select_option("no_smartphone")
    await first.get_by_text("Đã lưu").wait_for()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "worklist-team-lead.png"), full_page=True)
    assert await db.fetch("SELECT citizen_key, reason, team, recorded_by FROM worklist_outcomes") == [
        (citizen.key, "no_smartphone", "TH-03-C01-T1", lead)]
    # The other list, chosen on the page, and the English words.
    await page.get_by_test_id("worklist-list").select_option("collected_not_approved")
    await page.get_by_test_id("lang-toggle").click()
    await page.get_by_role("columnheader", name="Days waiting").wait_for()
    collected = expected(citizens, "TH-03-C01-T1", "collected")
    await page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=worklist-row]').length === n", arg=len(collected))
    assert {await r.get_attribute("data-ref") for r in await rows.all()} == collected
