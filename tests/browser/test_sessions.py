"""The sessions list in a real browser: what a signed-in person sees, the filters, and a running session
that finishes (or is marked stuck) while the page is open."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from bot import db
from tests.browser.scene import TASKS, sign_in, visible_repositories

pytestmark = pytest.mark.slow
VISIBLE_TASKS = [task for task in TASKS if task.repo in visible_repositories()]


def rows(page):
    return page.locator("tr.session-row")


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_a_person_sees_only_the_repositories_they_can_access(page, scene, watch):
    sign_in(page, scene)
    expect(rows(page)).to_have_count(len(VISIBLE_TASKS))
    assert set(rows(page).locator("[data-field=repository]").all_inner_texts()) == set(visible_repositories())
    hidden = scene.task("hidden")
    assert hidden.title not in page.content()
    assert hidden.repo not in page.locator("#filter-repository option").all_inner_texts()
    # Its id, guessed, shows the same page as a session that does not exist.
    answer = page.goto(f"/sessions/{scene.session_id('hidden')}")
    assert answer.status == 404 and hidden.title not in page.content()
    expect(page.get_by_role("heading", level=1)).to_have_text("Session not found")
    assert [problem.split(": ", 1)[1] for problem in watch.take()] == [  # the 404, and nothing else
        "Failed to load resource: the server responded with a status of 404 (NOT FOUND)"]


def test_filtering_by_repository_then_state_narrows_the_list_and_the_url(page, scene):
    sign_in(page, scene)
    page.locator("#filter-repository").select_option("octo-org/infra")
    page.locator("#filter-submit").click()
    page.wait_for_url(lambda url: "repository=" in url)
    assert query(page) == {"repository": ["octo-org/infra"]}
    infra = [task for task in TASKS if task.repo == "octo-org/infra"]
    expect(rows(page)).to_have_count(len(infra))
    assert set(rows(page).locator("[data-field=repository]").all_inner_texts()) == {"octo-org/infra"}

    page.locator("#state-counts a[data-state=failed]").click()
    page.wait_for_url(lambda url: "state=failed" in url)
    assert query(page) == {"repository": ["octo-org/infra"], "state": ["failed"]}  # within the repository
    expect(rows(page)).to_have_count(1)
    expect(rows(page)).to_have_attribute("data-state", "failed")
    expect(page.locator("#filter-state")).to_have_value("failed")
    # The URL alone shows the same view: it can be bookmarked and shared.
    page.goto(page.url)
    expect(rows(page)).to_have_count(1)


def test_a_running_session_turns_finished_without_a_reload(page, scene):
    sign_in(page, scene)
    row = page.locator(f"tr.session-row[data-session-id='{scene.session_id('live')}']")
    expect(row).to_have_attribute("data-state", "in_progress")
    running = int(page.locator("#count-running").inner_text())
    page.evaluate("() => { window.notReloaded = true; }")  # gone if the page reloads
    polls = []
    page.on("request", lambda request: "/api/sessions" in request.url and polls.append(request))

    scene.finish("live")
    expect(row).to_have_attribute("data-state", "completed", timeout=12_000)  # the script polls every 5 s
    expect(row.locator("[data-field=state-word]")).to_have_text("completed")
    expect(page.locator("#count-running")).to_have_text(str(running - 1))
    assert page.evaluate("() => window.notReloaded") is True
    assert polls and all(request.resource_type == "fetch" for request in polls)
    expect(rows(page)).to_have_count(len(VISIBLE_TASKS))  # the hidden session never arrives by the API either


def test_a_session_the_watchdog_marks_shows_its_mark_without_a_reload(page, scene):
    sign_in(page, scene)
    row = page.locator(f"tr.session-row[data-session-id='{scene.session_id('queued')}']")
    expect(row.locator("[data-field=stuck]")).to_be_hidden()
    page.evaluate("() => { window.notReloaded = true; }")

    with scene.stack.engine.begin() as conn:  # as bot/handlers/watchdog.py marks it
        conn.execute(db.sessions.update().where(db.sessions.c.run_id == scene.task("queued").run_id)
                     .values(stuck="queued", stuck_at=time.time()))
    expect(row.locator("[data-field=stuck]")).to_be_visible(timeout=12_000)  # the script polls every 5 s
    expect(row.locator("[data-field=stuck-word]")).to_have_text("stuck in the queue")
    assert page.evaluate("() => window.notReloaded") is True
