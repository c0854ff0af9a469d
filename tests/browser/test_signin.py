"""Signing in through the fake GitHub in a real browser: GitHub's sign-in form, the authorize redirect and
the bot's callback, and what the bot shows a signed-in person."""

from __future__ import annotations

import pytest

from tests.browser.scene import VIEWER, sign_in

pytestmark = pytest.mark.slow


def test_signing_in_through_githubs_sign_in_form(page, scene):
    scene.fake.sign_in_as(None)  # not signed in on GitHub either: GitHub asks who you are
    page.goto(scene.signin_path("/account"))
    page.wait_for_url(scene.fake.web_url + "/login/oauth/authorize?**")
    page.get_by_label("Username").fill(VIEWER)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(scene.url + "/account")
    assert page.get_by_role("heading", level=1).inner_text() == f"Signed in as {VIEWER}"


def test_signing_out_ends_the_browser_session(page, scene):
    sign_in(page, scene, "/account")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(scene.url + "/")
    scene.fake.sign_in_as(None)
    page.goto("/account")  # signed out: the account page sends the browser to sign in again
    page.wait_for_url(scene.fake.web_url + "/login/oauth/authorize?**")


def test_the_home_page_renders(page, scene):
    page.goto("/")
    assert "session-bot" in page.title()
