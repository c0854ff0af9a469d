"""New task in a real browser: the form filled by label and sent, the task shown queued on its page and
among the list's tasks without a session yet (joining its sessions: tests/test_web_tasks.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.scene import sign_in, visible_repositories

pytestmark = pytest.mark.slow


def test_starting_a_task_from_the_sessions_page(page, scene):
    repo = visible_repositories()[0]
    sign_in(page, scene)
    page.locator("#new-task-link").click()
    page.get_by_label("Repository", exact=True).select_option(repo)
    page.get_by_label("What should Copilot do?").fill("Make the settings page load faster")
    page.get_by_label("Model").select_option("gpt-5.4")
    page.locator("#task-submit").click()
    expect(page.locator("#task-started")).to_be_visible()
    task = page.locator("article#task")
    expect(task).to_have_attribute("data-state", "queued")
    expect(page.locator("#task-no-sessions")).to_be_visible()
    task_id = task.get_attribute("data-task-id")
    [post] = scene.fake.calls("POST", f"/agents/repos/{repo}/tasks")
    assert post.json["prompt"] == "Make the settings page load faster" and post.auth_kind == "user"

    page.goto(scene.url + "/sessions")
    expect(page.locator(f"#waiting-tasks > li[data-task-id='{task_id}']")).to_have_attribute("data-state", "queued")
