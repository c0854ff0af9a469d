"""The fake GitHub refuses what an installation's permissions do not cover, as GitHub does."""

from __future__ import annotations

import pytest
import requests

from bot.github import permissions
from tests import app_manifest
from tests.fakegithub import APP_ID
from tests.fakegithub.server import FakeGitHub
from tests.fakegithub.credentials import as_installation, installation_token

REPO = "acme/widgets"


@pytest.fixture
def github(fake_github):
    """The plugin's fake; `install` adds installations on acme/widgets and run 5151 in progress."""
    return fake_github


def install(fake, **by_id: dict | None) -> dict:
    """Installations `i7=…`, `i8=…` on acme/widgets with those permissions (None: the default);
    returns the run."""
    for key, granted in by_id.items():
        fake.add_installation(int(key[1:]), "acme", [REPO], permissions=granted)
    return fake.add_run(REPO, 5151, status="in_progress", conclusion=None)


def cancel(fake, app_key, installation_id: int) -> requests.Response:
    headers = as_installation(installation_token(fake, app_key, installation_id))
    return requests.post(f"{fake.url}/repos/{REPO}/actions/runs/5151/cancel", headers=headers, timeout=5)


def test_the_default_installation_has_the_manifests_permissions(fake_github):
    installation = fake_github.add_installation(7, "acme", [REPO])
    assert installation["permissions"] == app_manifest.default_permissions()
    assert fake_github.app["permissions"] == app_manifest.default_permissions()
    assert fake_github.app["events"] == app_manifest.default_events()


def test_a_cancel_is_refused_with_actions_read(github, app_key):
    run = install(github, i7={**app_manifest.default_permissions(), "actions": "read"})

    answer = cancel(github, app_key, 7)

    assert answer.status_code == 403
    assert answer.json() == {
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/actions/workflow-runs#cancel-a-workflow-run",
        "status": "403"}
    assert run["status"] == "in_progress"  # GitHub refused before acting


def test_a_cancel_is_allowed_with_actions_write(github, app_key):
    install(github, i7={**app_manifest.default_permissions(), "actions": "write"})

    assert cancel(github, app_key, 7).status_code == 202


def test_reading_runs_needs_actions_read_at_least(github, app_key):
    without = {k: v for k, v in app_manifest.default_permissions().items() if k != "actions"}
    install(github, i7=without, i8={**without, "actions": "read"})
    url = f"{github.url}/repos/{REPO}/actions/runs/5151"

    assert requests.get(url, headers=as_installation(installation_token(github, app_key, 7)), timeout=5).status_code == 403
    assert requests.get(url, headers=as_installation(installation_token(github, app_key, 8)), timeout=5).status_code == 200


def test_a_comment_needs_issues_or_pull_requests_write(github, app_key):
    base = {"metadata": "read"}
    install(github, i7={**base, "issues": "read", "pull_requests": "read"}, i8={**base, "pull_requests": "write"},
            i9={**base, "issues": "write"})
    github.add_pull(REPO, 7)
    url = f"{github.url}/repos/{REPO}/issues/7/comments"

    def post(installation_id):
        headers = as_installation(installation_token(github, app_key, installation_id))
        return requests.post(url, headers=headers, json={"body": "hi"}, timeout=5).status_code

    assert [post(7), post(8), post(9)] == [403, 201, 201]


def test_a_token_narrowed_to_fewer_permissions_is_held_to_them(github, app_key):
    install(github, i7=None)
    token = installation_token(github, app_key, 7, permissions={"actions": "read", "metadata": "read"})
    answer = requests.post(f"{github.url}/repos/{REPO}/actions/runs/5151/cancel", headers=as_installation(token),
                           timeout=5)
    assert answer.status_code == 403


def test_every_installation_route_of_the_fake_has_a_documented_permission(app_key):
    """A route the bot may call and the map does not know would go unchecked. Routes for user tokens
    alone are in the map too, but for the person's own (`/user…`): a user token of the App holds no
    more than the App's permissions (the Agent tasks routes)."""
    fake = FakeGitHub(app_id=APP_ID, public_key_pem=app_key.public_pem)
    try:
        held = {(r.method, r.template) for r in fake.routes.values()
                if r.auth == "token" or (r.auth == "user" and not r.template.startswith("/user"))}
    finally:
        fake.stop()
    assert held == {(method, template) for method, template, _, _ in permissions.ROUTES}
