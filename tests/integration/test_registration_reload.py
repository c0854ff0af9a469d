"""One-click registration under a real gunicorn: the bot writes `.env` in its working directory and
signals its own master (SIGHUP), whose new workers start configured, with no restart by hand.

gunicorn runs in a folder of its own that links to this checkout's code, so the `.env` it writes
is the test's and never the repository's.
"""

from __future__ import annotations

import html
import json
import time

import pytest
import requests

from tests.fakegithub import payloads
from tests.harness.processes import ROOT, Gunicorn, bot_env

pytestmark = pytest.mark.slow


@pytest.fixture
def checkout(tmp_path):
    """A working directory for gunicorn: the code linked in, nothing else (no .env)."""
    for name in ("app.py", "bot", "gunicorn.conf.py"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


@pytest.fixture
def unconfigured(checkout, fake_github):
    web = Gunicorn(bot_env(DATABASE_URL=f"sqlite:///{checkout}/bot.sqlite3", GITHUB_API_URL=fake_github.url,
                           GITHUB_URL=fake_github.web_url, HOME=str(checkout)), workers=1, root=checkout)
    yield web
    web.stop()


def ping(web, secret: str) -> int:
    body = json.dumps({"zen": "Design for failure."}).encode()
    return requests.post(f"{web.url}/api/github/webhooks", data=body, headers=payloads.headers("ping", body, secret),
                         timeout=10).status_code


def test_after_registering_gunicorn_reloads_into_the_new_app_by_itself(unconfigured, checkout, fake_github):
    web = unconfigured
    assert "Register the GitHub App" in requests.get(web.url + "/", timeout=10).text
    page = requests.post(f"{web.url}/setup/register", timeout=10).text  # from this machine: no code needed
    action = html.unescape(page.split('id="manifest-form"', 1)[0].rsplit('action="', 1)[1].split('"', 1)[0])
    manifest = html.unescape(page.split('name="manifest" value="', 1)[1].split('"', 1)[0])
    back = requests.post(action, data={"manifest": manifest}, allow_redirects=False, timeout=10)  # GitHub's page
    done = requests.get(back.headers["location"], timeout=10)
    assert done.status_code == 200 and "/installations/new" in done.text

    written = dict(line.split("=", 1) for line in (checkout / ".env").read_text().splitlines() if "=" in line)
    secret = written["WEBHOOK_SECRET"].strip('"')
    deadline = time.monotonic() + 60
    while ping(web, secret) != 200:  # the old worker answers until the master's new one takes over
        assert time.monotonic() < deadline, "gunicorn never came back configured:\n" + web.text()
        time.sleep(0.2)
    assert ping(web, "not-the-secret") == 401
    assert "Register the GitHub App" not in requests.get(web.url + "/", timeout=10).text
    assert web.proc.poll() is None, "the same gunicorn, reloaded, not restarted"
    assert "Handling signal: hup" in web.text()
