"""GitHub credentials never travel to another host when GitHub answers with a redirect.

Log downloads (`Client.download`) are covered in tests/github_client/test_reading.py
(test_download_follows_the_redirect_without_credentials) and tests/test_log_summaries.py; here, an
ordinary API GET that GitHub redirects to another host.
"""

from __future__ import annotations

import pytest

from bot.github.auth import AppAuth
from bot.github.client import GitHub

REPO = "octo-org/hello"


@pytest.fixture
def client(fake_github, app_key):
    fake_github.add_installation(77, "octo-org", [REPO])
    github = GitHub(fake_github.url, AppAuth(fake_github.app_id, app_key.pem), sleep=lambda s: None)
    yield github.installation(77)
    github.close()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_api_get_reaches_the_other_host_without_authorization(client, fake_github, status):
    target = fake_github.blob(b'{"moved": true}', content_type="application/json")
    fake_github.fail("GET", f"/repos/{REPO}", status=status, headers={"location": target})

    assert client.get(f"/repos/{REPO}") == {"moved": True}

    api = [r for r in fake_github.requests if r.host == "api" and r.path == f"/repos/{REPO}"]
    blob = [r for r in fake_github.requests if r.host == "blob"]
    assert api and api[0].headers["authorization"].startswith("Bearer ")  # it was sent to GitHub…
    assert len(blob) == 1 and "authorization" not in blob[0].headers  # …and not to the other host
