"""Issue 22's bilans in a browser (axe and the CSP guard on each page): the facilitator opens « Bilans », picks
2026, and Chart.js draws the months and the breakdowns from our own static files (no CSP violation)."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_journey import log_in
from tests.insertion.test_dashboards import with_hours
from tests.insertion.world import FACILITATOR, hours_world  # noqa: F401 (fixture)

DRAWN = "() => Array.from(document.querySelectorAll('canvas[data-insertion-chart]'))" \
        ".map(c => Boolean(window.Chart && Chart.getChart(c)))"


def test_the_facilitator_reads_its_year_bilan(app, live_server, page: Page, hours_world, check_page):
    with_hours(app, hours_world)
    log_in(page, FACILITATOR)
    page.goto("/bilans")
    check_page(page, "bilans")
    page.get_by_role("link", name="Bilan 2026", exact=True).click()
    expect(page.get_by_role("heading", name="Bilan 2026 des clauses d'insertion")).to_be_visible()
    expect(page.get_by_text("89,50 h").first).to_be_visible()
    page.wait_for_function("() => window.Chart && document.querySelectorAll('canvas[data-insertion-chart]').length")
    drawn = page.evaluate(DRAWN)
    assert drawn and all(drawn), drawn
    check_page(page, "bilan-2026")
