"""The browser tests' fixtures: one Chromium for the whole run, one scene (the bot under gunicorn and the
fake GitHub, tests/browser/scene.py) per module and database, and a fresh browser context per test.

Without Chromium (or axe-core) these tests are skipped, saying why; under CI=true that
fails the run instead, as a missing PostgreSQL does. A test fails if its pages logged a console error
(a Content-Security-Policy violation is one), threw, or asked for anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os

import pytest

from tests.browser import chromium
from tests.browser.scene import Scene


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium, shared by every test (each gets its own context)."""
    if reason := chromium.missing():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true requires it)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = chromium.launch(playwright)
        yield launched
        launched.close()


@contextlib.contextmanager
def running_scene(database: str):
    """A scene on "sqlite" or "pg", stopped afterwards; fails if the fake GitHub saw a request GitHub refuses."""
    built = Scene.build(database)
    try:
        yield built
    finally:
        built.stop()
    if problems := built.fake.problems():
        pytest.fail("the fake GitHub saw requests GitHub would refuse:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def scene(request, browser):
    """The scene on SQLite, then on PostgreSQL (skipped without a server, failed without one under CI=true,
    as the suite's `postgres_url` decides). Module-scoped: a module's tests share one bot, so each test
    acts on sessions of its own."""
    if request.param == "postgres":
        request.getfixturevalue("postgres_url")
    with running_scene("pg" if request.param == "postgres" else "sqlite") as built:
        yield built


@pytest.fixture
def context_options() -> dict:
    """Options of the test's browser context (a test overrides this fixture, or parametrises it)."""
    return {}


@pytest.fixture
def context(browser, scene, context_options):
    """A fresh browser context (no cookies: nobody signed in) whose relative URLs are the bot's."""
    made = browser.new_context(base_url=scene.url, **context_options)
    made.set_default_timeout(10_000)
    yield made
    made.close()


@pytest.fixture
def watch(context):
    """What went wrong in the context's pages (chromium.Watch)."""
    return chromium.Watch(context)


@pytest.fixture
def page(context, watch):
    """A page of the context; the test fails if anything `watch` records went wrong in it."""
    opened = context.new_page()
    yield opened
    if problems := watch.take():
        pytest.fail("the browser saw problems:\n  " + "\n  ".join(problems), pytrace=False)
