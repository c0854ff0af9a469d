"""One session's page in a real browser: opened from the list, its timeline and log, and Stop (with a reason)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bot import db
from tests.browser.scene import sign_in

pytestmark = pytest.mark.slow


def test_opening_a_finished_session_from_the_list(page, scene):
    done = scene.task("done")
    sign_in(page, scene)
    page.get_by_role("link", name=done.title).click()
    expect(page).to_have_url(f"{scene.url}/sessions/{scene.session_id('done')}")
    expect(page.locator("article#session")).to_have_attribute("data-state", "completed")
    expect(page.get_by_role("heading", level=1)).to_contain_text(done.title)
    expect(page.locator("#timeline > li[data-kind=commit] .commit-message")).to_have_text(list(done.commits))
    expect(page.locator("#timeline > li[data-kind=finished]")).to_have_count(1)
    expect(page.locator("#log-summary")).to_contain_text("Made the change the issue asked for")
    expect(page.locator("#stop-button")).to_have_count(0)  # finished: nothing to stop


def test_stopping_a_running_session_from_its_page(page, scene):
    task, session_id = scene.task("stoppable"), scene.session_id("stoppable")
    sign_in(page, scene, f"/sessions/{session_id}")
    expect(page.locator("article#session")).to_have_attribute("data-state", "in_progress")
    expect(page.locator("#log-note")).to_be_visible()  # the log comes when the run ends
    expect(page.locator("#timeline > li[data-kind=commit] .commit-message")).to_have_text(list(task.commits))

    page.get_by_label("Reason").select_option("mistake in the task")
    page.get_by_label("In your words").fill("it is issue 12, not 21")
    page.locator("#stop-button").click()
    expect(page.locator("#stop-result")).to_have_attribute("data-outcome", "requested")
    expect(page).to_have_url(f"{scene.url}/sessions/{session_id}?stop=requested")
    scene.stack.wait_until(lambda: scene.cancels("stoppable"), what="the cancel to reach GitHub")

    scene.report("stoppable")  # GitHub: the run completed, cancelled
    scene.stack.wait_until(lambda: state_of(scene, task.run_id) == "cancelled", what="the cancelled run indexed")
    page.goto(f"/sessions/{session_id}")
    expect(page.locator("article#session")).to_have_attribute("data-state", "cancelled")
    expect(page.locator("#timeline > li[data-kind=stop]")).to_contain_text("monalisa")
    expect(page.locator("#timeline > li[data-kind=stop]")).to_contain_text(
        "reason: “mistake in the task: it is issue 12, not 21”")
    expect(page.locator("#stop-button")).to_have_count(0)


def state_of(scene, run_id: int) -> str:
    with scene.stack.engine.connect() as conn:
        return conn.execute(select(db.sessions.c.state).where(db.sessions.c.run_id == run_id)).scalar_one()
