"""Signing in through the fake GitHub in a real browser: GitHub's sign-in form, the authorize redirect and
the bot's callback; signing out; the pages around it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.scene import VIEWER, sign_in

pytestmark = pytest.mark.slow


def test_signing_in_through_githubs_sign_in_form(page, scene):
    scene.fake.sign_in_as(None)  # not signed in on GitHub either: GitHub asks who you are
    page.goto("/sessions")
    expect(page.locator("tr.session-row")).to_have_count(0)  # nobody signed in: no data
    page.locator("#signin-button").click()
    page.wait_for_url(scene.fake.web_url + "/login/oauth/authorize?**")
    page.get_by_label("Username").fill(VIEWER)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(scene.url + "/sessions")  # back where the sign-in began
    expect(page.locator("#viewer-login")).to_have_text(VIEWER)
    expect(page.locator("tr.session-row").first).to_be_visible()


def test_signing_out_ends_the_browser_session(page, scene):
    sign_in(page, scene)
    page.locator("#signout-form button").click()
    page.wait_for_url(scene.url + "/")
    expect(page.locator("#signin-link")).to_be_visible()
    page.goto("/sessions")
    expect(page.locator("tr.session-row")).to_have_count(0)
    expect(page.locator("#signin-button")).to_be_visible()


def test_the_home_and_account_pages(page, scene):
    page.goto("/")
    expect(page.locator("#app-status")).to_contain_text("receiving webhooks")
    sign_in(page, scene, "/account")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Signed in as {VIEWER}")
    page.goto("/")
    page.locator("#sessions-link").click()
    page.wait_for_url(scene.url + "/sessions")
