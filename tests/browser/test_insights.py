"""The insights page in a real browser: its chart drawn (server-side SVG, each outcome with its own pattern),
its numbers in a table, why sessions failed, clean under axe-core in light and dark."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import chromium
from tests.browser.scene import TASKS, sign_in, visible_repositories

pytestmark = pytest.mark.slow
VISIBLE = [task for task in TASKS if task.repo in visible_repositories()]


@pytest.fixture(scope="module")
def classified(scene):
    """The scene with its failed session's summary kept and classified (what the periodic job does)."""
    scene.classify()
    return scene


def test_the_chart_draws_every_visible_session_and_the_table_has_its_numbers(page, classified):
    sign_in(page, classified, "/insights")
    chart = page.locator("#per-day-chart")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box["width"] > 300 and box["height"] > 100
    assert chart.get_attribute("data-total") == str(len(VISIBLE))
    segments = page.locator("#per-day-chart rect.segment")
    assert sum(int(n) for n in segments.evaluate_all("rs => rs.map(r => r.dataset.count)")) == len(VISIBLE)
    drawn = segments.evaluate_all("rs => rs.map(r => r.getBBox().height)")
    assert drawn and all(height > 0 for height in drawn)
    # Each outcome's pattern is painted: a bar's fill resolves to its pattern, which has something in it.
    fills = set(segments.evaluate_all("rs => rs.map(r => r.getAttribute('fill'))"))
    assert fills == {f"url(#fill-{o})" for o in ("completed", "failed", "cancelled", "timed_out", "running")}
    page.locator("#per-day-numbers summary").click()
    table = page.locator("#per-day-table")
    expect(table).to_be_visible()
    counts = table.locator("td[data-outcome]").evaluate_all("cs => cs.map(c => Number(c.dataset.count))")
    assert sum(counts) == len(VISIBLE)
    expect(page.locator("#per-day-legend li")).to_have_count(5)
    assert "acme-corp" not in page.content()


def test_why_sessions_fail_from_the_kept_summary_and_the_state(page, classified):
    sign_in(page, classified, "/insights?repository=octo-org/infra")
    causes = page.locator(".causes[data-repository='octo-org/infra'] li")
    # The failed session's log: `npm ci` could not reach its registry. The other one ran out of time.
    expect(causes).to_have_text(["Setup or dependency install failed: 1 of 2 failed sessions",
                                 "Timed out: 1 of 2 failed sessions"])
    expect(page.locator(".hint")).to_have_count(0)  # half is not most: no advice
    page.locator("#insights-since").select_option("7d")
    page.locator("#insights-submit").click()
    expect(page).to_have_url(f"{classified.url}/insights?since=7d&repository=octo-org%2Finfra")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_axe_finds_no_violations_on_the_insights(browser, page, classified, color_scheme):
    sign_in(page, classified, "/insights")
    found = chromium.axe_violations(browser, classified.url + "/insights", storage_state=page.context.storage_state(),
                                    color_scheme=color_scheme)
    assert not found, "axe-core found:\n" + "\n".join(found)
