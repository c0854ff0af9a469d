"""Debian's Chromium driven by Playwright, and what the browser tests watch in it.

`launch(playwright)` starts the browser (never one Playwright downloads); `Watch` records, for one
browser context, every console error (a Content-Security-Policy violation is one), every uncaught
exception and every request for anything but 127.0.0.1 (aborted, so nothing leaves the machine);
`axe_violations` runs axe-core on a page.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
LOCAL = "127.0.0.1"
# Chromium's own traffic (updates, safe browsing, metrics) is not the page's: keep it from starting at all;
# and no name resolves, so not even a DNS query leaves the machine (the pages only know 127.0.0.1).
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", "--metrics-recording-only", "--disable-domain-reliability",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


def missing() -> str | None:
    """Why the browser tests cannot run on this machine, or None when they can."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; `make test` does it under CI=true)"
    if not AXE.is_file():
        return f"axe-core is not installed at {AXE.parent} (make setup)"
    return None


def launch(playwright):
    """Headless Debian Chromium."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)


class Watch:
    """What went wrong in a browser context: console errors, page errors, requests leaving 127.0.0.1."""

    def __init__(self, context):
        self.problems: list[str] = []
        self.requests: list[str] = []
        context.route("**/*", self._route)
        context.on("page", self.page)

    def page(self, page) -> None:
        page.on("console", lambda message: message.type == "error" and self.problems.append(
            f"console error on {page.url}: {message.text}"))
        page.on("pageerror", lambda exc: self.problems.append(f"uncaught exception on {page.url}: {exc}"))

    def _route(self, route) -> None:
        url = route.request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != LOCAL:
            self.problems.append(f"a request left {LOCAL}: {route.request.method} {url}")
            route.abort("blockedbyclient")
            return
        route.continue_()

    def take(self) -> list[str]:
        """The problems so far, forgotten (for a test that caused one on purpose)."""
        found, self.problems = self.problems, []
        return found


def axe_violations(browser, url: str, *, storage_state: dict, color_scheme: str = "light") -> list[str]:
    """axe-core's violations on `url`, one line each (and any problem `Watch` saw). Injecting axe needs an
    inline script, so this one context (and no other) bypasses the page's Content-Security-Policy; it
    browses as `storage_state` (who is signed in)."""
    context = browser.new_context(bypass_csp=True, storage_state=storage_state, color_scheme=color_scheme)
    watch = Watch(context)
    try:
        page = context.new_page()
        page.goto(url)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    finally:
        context.close()
    return [f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'])}"
            for v in result["violations"]] + watch.problems
