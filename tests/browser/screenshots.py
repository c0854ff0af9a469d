"""Pictures for the README: the Agents page's list, one session and the insights, as a signed-in person sees
them in the scene, and a pull request on the scene's fake GitHub with its status comment and a reply.

`make screenshots` (`python -m tests.browser.screenshots docs/img`) writes docs/img/sessions.png,
docs/img/session.png, docs/img/pull-request.png and docs/img/insights.png; the browser tests take the same
pictures, with this same code, into a temporary folder, so a test run changes no tracked file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.browser import chromium
from tests.browser.scene import Scene, sign_in

VIEWPORT = {"width": 1280, "height": 800}


def pictures(scene: Scene) -> dict[str, str]:
    """File name → the page it shows (a pull request on the fake GitHub's web host, once someone asked
    `/session list` there: its status comment and the bot's reply)."""
    if not any(c["body"].startswith("/session list") for c in scene.fake.comments_on(*_live(scene))):
        scene.comment("live", "/session list")
    scene.classify()  # the insights page's causes
    return {"sessions.png": "/sessions", "session.png": f"/sessions/{scene.session_id('done')}",
            "pull-request.png": scene.pull_url("live"), "insights.png": "/insights"}


def _live(scene: Scene) -> tuple[str, int]:
    task = scene.task("live")
    return task.repo, task.pr


def take(browser, scene: Scene, folder: Path, *, color_scheme: str = "light") -> list[Path]:
    """Sign in and photograph each of `pictures` into `folder`; the files written. Raises if the pages
    had a console error or asked for anything beyond 127.0.0.1."""
    context = browser.new_context(base_url=scene.url, viewport=VIEWPORT, color_scheme=color_scheme)
    watch = chromium.Watch(context)
    written = []
    try:
        page = context.new_page()
        sign_in(page, scene)
        for name, path in pictures(scene).items():
            page.goto(path)
            page.screenshot(path=folder / name, full_page=True, animations="disabled")
            written.append(folder / name)
    finally:
        context.close()
    if watch.problems:
        raise AssertionError("the browser saw problems:\n  " + "\n  ".join(watch.problems))
    return written


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else "docs/img")
    if reason := chromium.missing():
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    scene = Scene.build()
    try:
        with sync_playwright() as playwright:
            browser = chromium.launch(playwright)
            for path in take(browser, scene, folder):
                print(path)
            browser.close()
    finally:
        scene.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
