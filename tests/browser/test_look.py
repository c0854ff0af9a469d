"""How the pages look and behave for everyone: clean under axe-core, usable by keyboard alone, readable at
375 px, light and dark, with the Content-Security-Policy enforced; and the README's screenshots."""

from __future__ import annotations

import struct

import pytest
from playwright.sync_api import expect

from tests.browser import chromium, screenshots
from tests.browser.conftest import running_scene
from tests.browser.scene import sign_in

pytestmark = pytest.mark.slow
NARROW = {"width": 375, "height": 740}


@pytest.fixture(scope="module")
def scene(browser):
    """How the pages look does not depend on the database: SQLite only (the other modules run on both)."""
    with running_scene("sqlite") as built:
        yield built


def pages(scene) -> list[str]:
    """The Agents page's pages: home, the list, a finished session, a running one (with Stop), the account,
    insights, New task."""
    return ["/", "/sessions", f"/sessions/{scene.session_id('done')}", f"/sessions/{scene.session_id('live')}",
            "/account", "/insights", "/tasks/new"]


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_axe_finds_no_violations(browser, page, scene, color_scheme):
    sign_in(page, scene)
    signed_in = page.context.storage_state()
    found = [f"{path}: {line}" for path in pages(scene)
             for line in chromium.axe_violations(browser, scene.url + path, storage_state=signed_in,
                                                 color_scheme=color_scheme)]
    assert not found, "axe-core found:\n" + "\n".join(found)


def test_the_policy_is_enforced_and_what_the_watch_catches_fails_a_test(page, scene, watch):
    sign_in(page, scene, f"/sessions/{scene.session_id('done')}")
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        page.evaluate("""() => { const s = document.createElement("script");
                                 s.textContent = "window.inlineRan = true"; document.body.append(s); }""")
    assert page.evaluate("() => window.inlineRan") is None
    page.locator("#pull-link").click()  # to github.com: stopped before it leaves the machine
    page.wait_for_url(lambda url: not url.startswith(scene.url))
    caught = watch.take()
    assert any("Content Security Policy" in problem for problem in caught)
    assert any(problem.startswith("a request left 127.0.0.1: GET https://github.com/") for problem in caught)


def focus_by_tab(page, selector: str, presses: int = 40) -> None:
    """Press Tab until the focus is on (or inside) `selector`, which must then show where the focus is."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement.closest(s)", selector):
            break
    else:
        raise AssertionError(f"{presses} presses of Tab never reached {selector}")
    visible = page.evaluate("""() => { const el = document.activeElement, s = getComputedStyle(el);
        return el.matches(":focus-visible") && ((s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0)
                                                || s.boxShadow !== "none"); }""")
    assert visible, f"the focus on {selector} does not show"


def test_the_keyboard_reaches_the_filters_and_stop(page, scene):
    sign_in(page, scene)
    focus_by_tab(page, "#filters")
    page.goto(f"/sessions/{scene.session_id('live')}")
    focus_by_tab(page, "#stop-button")
    expect(page.locator("#stop-button")).to_be_focused()


@pytest.mark.parametrize("context_options", [{"viewport": NARROW}])
def test_nothing_scrolls_sideways_at_375_pixels(page, scene):
    sign_in(page, scene)
    for path in pages(scene):
        page.goto(path)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= NARROW["width"], path


@pytest.mark.parametrize("context_options", [{"color_scheme": "light"}, {"color_scheme": "dark"}],
                         ids=["light", "dark"])
def test_light_and_dark_render(page, scene, context_options):
    dark = context_options["color_scheme"] == "dark"
    sign_in(page, scene)
    for path in pages(scene):
        page.goto(path)
        red, green, blue = page.evaluate("""() => getComputedStyle(document.body).backgroundColor
                                                    .match(/\\d+/g).slice(0, 3).map(Number)""")
        lightness = (max(red, green, blue) + min(red, green, blue)) / 510
        assert (lightness < 0.25) if dark else (lightness > 0.9), (path, red, green, blue)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_screenshots(browser, scene, tmp_path, color_scheme):
    written = screenshots.take(browser, scene, tmp_path, color_scheme=color_scheme)
    assert [path.name for path in written] == ["sessions.png", "session.png", "pull-request.png", "insights.png"]
    for path in written:
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">I", header[16:20])[0] == screenshots.VIEWPORT["width"]
